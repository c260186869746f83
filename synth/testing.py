"""Test a recipe or filter plugin the way synth tests its own: a scripted server and a real run.

- `ScriptedServer(answer)` is an OpenAI-compatible HTTP server on loopback whose answers come from a
  function of yours, `answer(kind, body) -> text` (`kind` is "chat" or "complete", `body` the request
  as sent): the real engine, cache and runner talk to it over real HTTP, no model or GPU needed.
  `refuse(kind, body)` returning a message answers that request with HTTP 400 instead. It runs its
  own event loop in a daemon thread, so a test and a `synth` subprocess can both use it.
- `run_config(config, out, base_url=...)` runs `synth run CONFIG` in this process (so a server in this
  process answers) and returns the run: its kept rows, rejected rows and manifest, with the run's
  books checked (seed rows = done + failed + duplicate, in = kept + dropped at every stage).

    with ScriptedServer(lambda kind, body: "Paris.") as server:
        run = run_config("examples/demo.yaml", tmp_path / "run", base_url=server.base_url)
    assert [row["response"] for row in run.kept] == ["Paris."] * 3

Answers do not depend on the seed unless `answer` makes them; every request is logged
(`server.requests()`; `server.sent()` leaves out synth's one-token capability probes).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web


class LoopServer:
    """An aiohttp app served on a free loopback port from its own thread; `with` starts and stops it."""

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


class ScriptedServer(LoopServer):
    """An OpenAI-compatible server whose answers come from `answer(kind, body) -> text`.

    Args:
        answer: the text of one choice; called once per choice, `body["seed"]` being that choice's seed.
        model: the one model `/v1/models` lists.
        native_n: answer `n` choices per request (vLLM does); otherwise one, as llama.cpp does.
        finish_reason: every choice's finish_reason ("length" to play a truncated answer).
        api_key: when set, requests without `Authorization: Bearer <api_key>` get HTTP 401.
        refuse: `refuse(kind, body) -> message or None`; a message answers with HTTP 400 instead.
        logprobs: `logprobs(kind, body) -> {token: logprob}`, the first token's likeliest tokens; when
            given, a chat request with `logprobs: true` gets OpenAI's / vLLM's `choices[].logprobs.content`
            (that token first, with the `top_logprobs` likeliest); without it the server ignores the field
            and answers `logprobs: null`, as servers without logprobs do.
    """

    def __init__(self, answer: Callable[[str, dict], str], *, model: str = "scripted",
                 native_n: bool = False, finish_reason: str = "stop", api_key: str | None = None,
                 refuse: Callable[[str, dict], str | None] | None = None,
                 logprobs: Callable[[str, dict], dict[str, float]] | None = None) -> None:
        super().__init__()
        self.logprobs = logprobs
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
                         "logprobs": self._logprobs(body, i), "finish_reason": self.finish_reason}
                        for i, t in enumerate(texts)],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5 * len(texts), "total_tokens": 10 + 5 * len(texts)}})

    def _logprobs(self, body: dict, i: int) -> dict | None:
        """OpenAI's chat `logprobs` of choice i: the likeliest first token, with its `top_logprobs`."""
        if self.logprobs is None or not body.get("logprobs"):
            return None
        seed = body.get("seed")
        top = sorted(self.logprobs("chat", {**body, "seed": None if seed is None else seed + i}).items(),
                     key=lambda kv: -kv[1])[: max(1, int(body.get("top_logprobs") or 1))]

        def entry(token: str, logprob: float) -> dict:
            return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

        return {"content": [{**entry(*top[0]), "top_logprobs": [entry(t, lp) for t, lp in top]}]}

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
        """Every request body the server answered ("chat" or "complete", or all), in arrival order."""
        return [e["body"] for e in self.log if kind is None or e["kind"] == kind]

    def sent(self, kind: str | None = None) -> list[dict]:
        """The requests a recipe or filter sent: synth's one-token capability probes left out."""
        return [b for b in self.requests(kind) if b.get("max_tokens") != 1]


@dataclass
class Run:
    """A finished `synth run`: the dataset's rows, the rejected rows (stage, reason) and the manifest."""

    dir: Path
    kept: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    manifest: dict[str, Any]
    output: str


def run_config(config: str | Path, out: str | Path, *, base_url: str | None = None, args: tuple[str, ...] = (),
               check_books: bool = True) -> Run:
    """`synth run CONFIG --out OUT [--base-url URL] --quiet ARGS` in this process; AssertionError with
    the error line when it exits non-zero, or when the run's books do not balance (`check_books`)."""
    from synth.cli import main
    from synth.run_books import check_run_dir

    argv = ["run", str(config), "--out", str(out), "--quiet", *(["--base-url", base_url] if base_url else []),
            *args]
    stdout, stderr = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code
    output = stdout.getvalue() + stderr.getvalue()
    if code not in (0, None):
        raise AssertionError(f"synth {' '.join(argv)} exited {code}:\n{output}")
    run_dir = Path(out)
    if check_books:
        problems = check_run_dir(run_dir)
        assert not problems, f"the books of {run_dir} do not balance: {problems}"
    return Run(run_dir, _parquet(run_dir / "data"), _jsonl(run_dir / "rejected.jsonl"),
               json.loads((run_dir / "manifest.json").read_text(encoding="utf-8")), output)


def _parquet(folder: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return [row for path in sorted(folder.glob("*.parquet")) for row in pq.read_table(path).to_pylist()]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


__all__ = ["LoopServer", "Run", "ScriptedServer", "run_config"]
