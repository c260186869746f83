"""Loopback HTTP servers for tests, speaking the real OpenAI wire protocol.

- `FaultProxy` forwards to a real upstream (the embedded llama.cpp server) and injects faults
  (HTTP 500, a stalled answer, a dropped connection, a 400) by plan; it logs every request body.
- `ScriptedServer` answers chat / completions requests with text chosen by a test function, for
  logic whose right answer must be known (step labels, retries); `refuse(kind, body)` returning a
  message answers that request with HTTP 400 instead (a field the server does not take, a context
  overflow). It ships in synth (synth.testing), so plugin packages test with the same server.
Each runs its own event loop in a daemon thread, so tests and subprocesses can both use it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import aiohttp
from aiohttp import web

from synth.testing import LoopServer as _LoopServer
from synth.testing import ScriptedServer

__all__ = ["FaultProxy", "ScriptedServer", "dumps"]

Fault = str  # "ok" | "500" | "stall" | "drop" | "400"


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


def dumps(body: dict) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False)
