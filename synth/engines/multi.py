"""Several OpenAI-compatible endpoints serving one model, used as one engine.

Each request goes to the endpoint with the most free room in its in-flight window (each endpoint's
window shrinks on its own while its vLLM queues, see OpenAIEngine). An endpoint that cannot be
reached is taken out: its request is sent to another endpoint at once, and the endpoint is probed
again after a pause (5 s, doubling up to 60 s) and put back when it answers. The run starts on the
endpoints that answer, whatever their order (a warning line names those that do not), and stops only
when no endpoint is left, with one line naming them.

Requests are cached by content (model, messages, sampling, seed), not by endpoint, so where a
request went never changes what a re-run finds in the cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from synth.engines.base import Engine, EngineStats
from synth.engines.openai_http import OpenAIEngine
from synth.errors import EngineError, EngineUnavailable

log = logging.getLogger(__name__)

RETRY_FIRST_S = 5.0
RETRY_MAX_S = 60.0


@dataclass
class Endpoint:
    engine: OpenAIEngine
    up: bool = True
    error: str = ""
    retry_at: float = 0.0
    pause_s: float = RETRY_FIRST_S
    taken_out: int = 0
    probing: asyncio.Task | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.engine.base_url

    @property
    def free(self) -> float:
        w = self.engine._window
        return (w.limit - w.active) / w.limit


class MultiEngine(Engine):
    """Balances requests over `engines` (OpenAIEngine each, not started yet)."""

    kind = "openai"  # the same cache keys as one endpoint of the same model

    def __init__(self, engines: list[OpenAIEngine]) -> None:
        super().__init__(engines[0].model)
        self.endpoints = [Endpoint(e) for e in engines]
        for e in engines:
            e.failover = True
        self._started = time.monotonic()

    @property
    def base_url(self) -> list[str]:
        return [ep.url for ep in self.endpoints]

    @property
    def stats(self) -> EngineStats:
        total = EngineStats()
        for ep in self.endpoints:
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(ep.engine.stats, name))
        return total

    @stats.setter
    def stats(self, value: EngineStats) -> None:  # Engine.__init__ assigns one; the endpoints keep the counts
        pass

    async def start(self) -> None:
        live: list[Endpoint] = []
        down: list[tuple[Endpoint, str]] = []
        for ep in self.endpoints:
            ep.engine.model = self.model or ep.engine.model  # none given: the first endpoint that answers names it
            try:
                await ep.engine.start()
            except EngineUnavailable as exc:  # down at the start: run on the others, try it again later
                down.append((ep, str(exc)))
                continue
            except EngineError as exc:
                await self.close()
                raise EngineError(f"{ep.url}: {exc}") from None
            self.model = self.model or ep.engine.model
            live.append(ep)
        if not live:
            await self.close()
            raise EngineUnavailable("no endpoint answers: " + "; ".join(error for _, error in down))
        self.capabilities = live[0].engine.capabilities
        for ep, error in down:
            ep.engine.model = self.model
            self._take_out(ep, error)
        if down:
            log.warning("warning: %s down at the start, running on the others (tried again later): %s",
                        ", ".join(ep.url for ep, _ in down), "; ".join(error for _, error in down))
        # native n only where every endpoint has it (an endpoint without it would sample n times anyway)
        self.capabilities.native_n = all(ep.engine.capabilities.native_n for ep in self.endpoints if ep.up)

    async def close(self) -> None:
        for ep in self.endpoints:
            if ep.probing:
                ep.probing.cancel()
            await ep.engine.close()

    async def chat(self, messages, sampling, *, n=1, json_schema=None, top_logprobs=None):
        extra = {} if top_logprobs is None else {"top_logprobs": top_logprobs}
        return await self._send(lambda e: e.chat(messages, sampling, n=n, json_schema=json_schema, **extra))

    async def supports_logprobs(self) -> bool:
        """Every endpoint serves one model on one kind of server: the first one's answer holds for all."""
        ok = await self.endpoints[0].engine.supports_logprobs()
        self.capabilities.logprobs = ok
        return ok

    async def complete(self, prompt, sampling, *, n=1):
        return await self._send(lambda e: e.complete(prompt, sampling, n=n))

    async def _send(self, call):
        while True:
            ep = self._pick()
            try:
                return await call(ep.engine)
            except EngineUnavailable as exc:
                self._take_out(ep, str(exc))  # and send the request to another endpoint

    def _pick(self) -> Endpoint:
        now = time.monotonic()
        for ep in self.endpoints:
            if not ep.up and ep.probing is None and now >= ep.retry_at:
                ep.probing = asyncio.create_task(self._probe(ep))
        live = [ep for ep in self.endpoints if ep.up]
        if not live:
            raise EngineUnavailable("every endpoint is down (" + "; ".join(f"{ep.url}: {ep.error}" for ep in
                                    self.endpoints) + "): restart them, then re-run the same command to continue")
        return max(live, key=lambda ep: ep.free)

    def _take_out(self, ep: Endpoint, error: str) -> None:
        if ep.up:
            ep.up, ep.error, ep.taken_out = False, error, ep.taken_out + 1
            ep.retry_at = time.monotonic() + ep.pause_s
            ep.pause_s = min(RETRY_MAX_S, ep.pause_s * 2)

    async def _probe(self, ep: Endpoint) -> None:
        try:
            if ep.engine._session is None:
                await ep.engine.start()
                ok = True
            else:
                ok = await ep.engine._alive()
        except EngineError:
            ok = False
        if ok:
            ep.up, ep.error, ep.pause_s = True, "", RETRY_FIRST_S
        else:
            ep.retry_at = time.monotonic() + ep.pause_s
            ep.pause_s = min(RETRY_MAX_S, ep.pause_s * 2)
        ep.probing = None

    def describe_endpoints(self) -> list[str]:
        """One line per endpoint for the progress display: in flight, waiting (vLLM), tokens/s, or down."""
        elapsed = max(1e-6, time.monotonic() - self._started)
        lines = []
        for ep in self.endpoints:
            if not ep.up:
                lines.append(f"{ep.url}: down, retried in {max(0.0, ep.retry_at - time.monotonic()):.0f} s")
                continue
            waiting = ep.engine.load.get("waiting")
            lines.append(f"{ep.url}: {ep.engine._window.active} in flight"
                         + (f", {waiting:.0f} waiting" if waiting is not None else "")
                         + f", {ep.engine.stats.completion_tokens / elapsed:,.0f} tok/s")
        return lines

    def summary(self) -> list[dict]:
        """Per-endpoint totals for the manifest."""
        return [{"base_url": ep.url, "up": ep.up, "taken_out": ep.taken_out, "last_error": ep.error or None,
                 "requests": ep.engine.stats.requests, "failures": ep.engine.stats.failures,
                 "completion_tokens": ep.engine.stats.completion_tokens} for ep in self.endpoints]
