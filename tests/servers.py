"""Loopback HTTP servers for tests, speaking the real OpenAI wire protocol.

- `FaultProxy` forwards to a real upstream (the embedded llama.cpp server) and injects faults
  (HTTP 500, a stalled answer, a dropped connection, a 400) by plan; it logs every request body.
- `ScriptedServer` answers chat / completions requests with text chosen by a test function, for
  logic whose right answer must be known (step labels, retries); `refuse(kind, body)` returning a
  message answers that request with HTTP 400 instead (a field the server does not take, a context
  overflow).
Each runs its own event loop in a daemon thread, so tests and subprocesses can both use it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable

import aiohttp
from aiohttp import web

Fault = str  # "ok" | "500" | "stall" | "drop" | "400"


class _LoopServer:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.log: list[dict] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def app(self) -> web.Application:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self):
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app(), handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def record(self, entry: dict) -> None:
        with self._lock:
            self.log.append(entry)


class FaultProxy(_LoopServer):
    """Forward to `upstream`; `plan(i, body)` picks the fault for the i-th POST."""

    def __init__(self, upstream: str, plan: Callable[[int, dict], Fault] = lambda i, b: "ok",
                 stall_s: float = 3.0) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.plan = plan
        self.stall_s = stall_s
        self._count = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v1/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        if request.method == "GET":
            async with aiohttp.ClientSession() as s, s.get(f"{self.upstream}/{tail}") as r:
                return web.Response(body=await r.read(), status=r.status, content_type="application/json")
        body = await request.json()
        i = self._count
        self._count += 1
        fault = self.plan(i, body)
        entry = {"i": i, "path": tail, "body": body, "fault": fault, "t": time.time()}
        self.record(entry)
        if fault == "500":
            return web.json_response({"error": "injected"}, status=500)
        if fault == "400":
            return web.json_response({"error": "bad request (injected)"}, status=400)
        if fault == "drop":
            request.transport.close()  # the client sees the connection die without an answer
            return web.Response(status=500)
        if fault == "stall":
            await asyncio.sleep(self.stall_s)  # longer than the client's timeout
        async with aiohttp.ClientSession() as s, s.post(f"{self.upstream}/{tail}", json=body) as r:
            payload = await r.read()
            entry["status"] = r.status
            return web.Response(body=payload, status=r.status, content_type="application/json")

    def posts(self, path: str | None = None) -> list[dict]:
        return [e for e in self.log if path is None or e["path"] == path]


class ScriptedServer(_LoopServer):
    """An OpenAI-compatible server whose answers come from `answer(kind, body, seed) -> text`."""

    def __init__(self, answer: Callable[[str, dict], str], *, model: str = "scripted",
                 native_n: bool = False, finish_reason: str = "stop", api_key: str | None = None,
                 refuse: Callable[[str, dict], str | None] | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.refuse = refuse
        self.answer = answer
        self.model = model
        self.native_n = native_n
        self.finish_reason = finish_reason

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/v1/models", self.models)
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/v1/completions", self.completions)
        return app

    @web.middleware
    async def _auth(self, request, handler):
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "invalid api key"}}, status=401)
        return await handler(request)

    async def models(self, request):
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model",
                                                              "owned_by": "scripted"}]})

    async def _choices(self, kind: str, body: dict) -> list[str]:
        self.record({"kind": kind, "body": body})
        n = body.get("n", 1) if self.native_n else 1
        seed = body.get("seed")
        return [self.answer(kind, {**body, "seed": None if seed is None else seed + i}) for i in range(n)]

    def _refused(self, kind: str, body: dict) -> web.Response | None:
        """HTTP 400 with `refuse`'s message (the request is logged, as every request the server sees)."""
        message = self.refuse(kind, body) if self.refuse else None
        if message is None:
            return None
        self.record({"kind": kind, "body": body, "status": 400})
        return web.json_response({"error": {"message": message, "type": "BadRequestError"}}, status=400)

    async def chat(self, request):
        body = await request.json()
        refused = self._refused("chat", body)
        if refused is not None:
            return refused
        texts = await self._choices("chat", body)
        return web.json_response({
            "id": "x", "object": "chat.completion", "model": self.model,
            "choices": [{"index": i, "message": {"role": "assistant", "content": t},
                         "finish_reason": self.finish_reason} for i, t in enumerate(texts)],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5 * len(texts), "total_tokens": 10 + 5 * len(texts)}})

    async def completions(self, request):
        body = await request.json()
        refused = self._refused("complete", body)
        if refused is not None:
            return refused
        texts = await self._choices("complete", body)
        return web.json_response({
            "id": "x", "object": "text_completion", "model": self.model,
            "choices": [{"index": i, "text": t, "finish_reason": self.finish_reason} for i, t in enumerate(texts)],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5 * len(texts), "total_tokens": 10 + 5 * len(texts)}})

    def requests(self, kind: str | None = None) -> list[dict]:
        return [e["body"] for e in self.log if kind is None or e["kind"] == kind]


def dumps(body: dict) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False)
