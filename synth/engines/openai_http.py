"""OpenAI-compatible HTTP engine: `vllm serve`, the embedded llama.cpp server, or any compatible API.

One long-lived aiohttp session (the cheapest Python client per request, see bench/) with an explicit
connection limit, a bounded in-flight window, and retries with exponential backoff + jitter on 5xx,
429, timeouts and dropped connections, never on other 4xx. vLLM never answers 429 when it is
overloaded, so when the server exposes vLLM's `/metrics` the window shrinks while requests queue.

How a server takes a JSON schema is probed once per engine, at its first JSON request; a server that
takes none of the fields (or refuses the one it seemed to take) gets the schema in the prompt, and
synth.structured repairs what comes back. Probes count in `stats.requests` like any request.

This module sends requests; what the server supports is asked in synth.engines.probing, the window
and its backpressure are synth.engines.window.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

import aiohttp

from synth.engines.base import Completion, Engine, Sampling, greedy_copies, sample_seeds
from synth.engines.probing import ServerProbes, json_schema_fields, schema_in_prompt
from synth.engines.window import InFlightWindow, next_window, parse_vllm_load
from synth.errors import EngineError, EngineUnavailable, RequestFailed, RequestRejected

log = logging.getLogger(__name__)

_RETRY_STATUS = {408, 409, 425, 429}


class OpenAIEngine(ServerProbes, Engine):
    """Talks to `base_url` (ending in /v1) with an OpenAI-style JSON API."""

    kind = "openai"

    def __init__(self, base_url: str, model: str | None = None, *, api_key: str | None = None,
                 max_in_flight: int = 64, timeout_s: float = 600.0, connect_timeout_s: float = 10.0,
                 max_retries: int = 5, backoff_s: float = 0.5, backoff_max_s: float = 30.0,
                 probe: bool = True, extra_body: dict[str, Any] | None = None) -> None:
        super().__init__(model)
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.max_in_flight = max_in_flight
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.probe = probe
        self.extra_body = dict(extra_body or {})  # sent with every request (engine.extra_body)
        self._owners: set = set()  # `owned_by` of the served models (vLLM says "vllm")
        self._session: aiohttp.ClientSession | None = None
        self._window = InFlightWindow(max_in_flight)
        self._watch: asyncio.Task | None = None
        self.failover = False  # set by MultiEngine: a refused connection raises at once, no retries here
        self._json_probe = asyncio.Lock()  # the first JSON requests wait for one probe, not one each
        self._json_probed = False
        self._json_confirmed = False  # a JSON request with the schema fields has been answered
        self.load: dict[str, float] = {}  # vLLM's /metrics gauges (waiting, running, kv_cache), when read

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        # aiohttp caps a connector at 100 connections unless told otherwise.
        connector = aiohttp.TCPConnector(limit=self.max_in_flight, limit_per_host=self.max_in_flight)
        self._session = aiohttp.ClientSession(
            connector=connector, headers=headers,
            timeout=aiohttp.ClientTimeout(total=self.timeout_s, sock_connect=self.connect_timeout_s))
        try:
            await self._connect()
        except BaseException:
            await self.close()  # a failed start must not leak the session
            raise

    async def close(self) -> None:
        if self._watch:
            self._watch.cancel()
            self._watch = None
        if self._session:
            await self._session.close()
            self._session = None

    async def _watch_metrics(self, every_s: float = 2.0) -> None:
        """Backpressure: vLLM's queue and KV-cache use, read every `every_s`, move the in-flight window."""
        while True:
            await asyncio.sleep(every_s)
            text = await self._read_metrics()
            if text:
                self.load = parse_vllm_load(text)
                await self._window.resize(next_window(self._window.limit, self._window.max, **self.load))

    # -- requests --------------------------------------------------------------------------------
    async def chat(self, messages: list[dict[str, str]], sampling: Sampling, *, n: int = 1,
                   json_schema: dict | None = None, top_logprobs: int | None = None) -> list[Completion]:
        payload: dict[str, Any] = {"model": self.model, "messages": messages, **self._sampling(sampling)}
        if top_logprobs is not None:  # OpenAI / vLLM: choices[].logprobs.content[].top_logprobs
            payload.update(logprobs=True, top_logprobs=top_logprobs)
        if json_schema is not None:
            return await self._chat_json(payload, json_schema, sampling, n)
        return await self._sample("/chat/completions", payload, sampling, n)

    async def _chat_json(self, payload: dict, schema: dict, sampling: Sampling, n: int) -> list[Completion]:
        """A chat whose answer should match `schema`: in the fields the server takes, else in the prompt."""
        if not self._json_probed:
            async with self._json_probe:
                if not self._json_probed:
                    if self.probe and self.capabilities.json_schema == "none":
                        self.capabilities.json_schema = await self._probe_json_schema()
                    self._json_probed = True
        style = self.capabilities.json_schema
        if style == "none":
            return await self._sample("/chat/completions", schema_in_prompt(payload, schema), sampling, n)
        try:
            out = await self._sample("/chat/completions", {**payload, **json_schema_fields(style, schema)}, sampling, n)
        except RequestRejected as exc:
            if self._json_confirmed:  # the fields work here: the 400 is about this request (e.g. its length)
                raise
            # maybe the server does not take the field after all: ask once without it (a request that is
            # refused for another reason, e.g. its length, is refused again and that error is raised)
            out = await self._sample("/chat/completions", schema_in_prompt(payload, schema), sampling, n)
            if self.capabilities.json_schema != "none":
                log.warning("warning: %s refused %s (%s): the JSON schema goes in the prompt from now on",
                            self.base_url, style, str(exc)[:160])
                self.capabilities.json_schema = "none"
            return out
        self._json_confirmed = True
        return out

    async def complete(self, prompt: str, sampling: Sampling, *, n: int = 1) -> list[Completion]:
        payload = {"model": self.model, "prompt": prompt, **self._sampling(sampling)}
        return await self._sample("/completions", payload, sampling, n)

    def _sampling(self, s: Sampling) -> dict[str, Any]:
        out: dict[str, Any] = {"temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens}
        if s.stop:
            out["stop"] = list(s.stop)
        if self.extra_body:
            out.update(self.extra_body)
        return out

    async def _sample(self, path: str, payload: dict, sampling: Sampling, n: int) -> list[Completion]:
        seeds = sample_seeds(sampling.seed, n)
        if n > 1 and sampling.temperature == 0:  # greedy: one request; vLLM answers n > 1 with HTTP 400
            body = payload if seeds[0] is None else {**payload, "seed": seeds[0]}
            return greedy_copies(parse_choices(await self.post(path, body), seeds[:1])[0], seeds)
        if n > 1 and self.capabilities.native_n:
            body = {**payload, "n": n}
            if sampling.seed is not None:
                body["seed"] = sampling.seed
            out = parse_choices(await self.post(path, body), seeds)
            if len(out) == n:
                return out
            seeds = seeds[len(out):]  # a server that returned fewer: sample the rest one by one
        else:
            out = []

        if len(seeds) == 1:  # the common case: no task and no extra coroutine level per request
            body = payload if seeds[0] is None else {**payload, "seed": seeds[0]}
            return out + parse_choices(await self.post(path, body), seeds)

        async def one(seed: int | None) -> Completion:
            body = payload if seed is None else {**payload, "seed": seed}
            return parse_choices(await self.post(path, body), [seed])[0]

        return out + list(await asyncio.gather(*(one(s) for s in seeds)))

    async def post(self, path: str, payload: dict) -> dict:
        """POST with retries; raises RequestFailed / RequestRejected / EngineError."""
        assert self._session is not None, "engine not started"
        url = self.base_url + path
        error = ""
        connection_lost = False
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.stats.retries += 1
                delay = min(self.backoff_max_s, self.backoff_s * 2 ** (attempt - 1))
                await asyncio.sleep(delay * (0.5 + random.random()))  # jitter spreads retries
            try:
                async with self._window:
                    self.stats.requests += 1
                    async with self._session.post(url, json=payload) as resp:
                        if resp.status == 200:
                            data = await resp.json(content_type=None)
                            self._count_usage(data)
                            return data
                        body = (await resp.text())[:300]
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                connection_lost = isinstance(exc, aiohttp.ClientConnectorError)
                gone = self.server_gone()
                if gone:  # a server synth started has died: say how, retrying cannot help
                    self.stats.failures += 1
                    raise EngineUnavailable(gone) from None
                if self.failover and connection_lost:  # one of several endpoints: let another one answer
                    self.stats.failures += 1
                    raise EngineUnavailable(f"cannot connect to {self.base_url} ({error})") from None
                continue
            except (ValueError, aiohttp.ContentTypeError) as exc:  # a 200 whose body is not JSON
                error = f"invalid JSON in response: {exc}"
                continue
            connection_lost = False
            error = f"HTTP {resp.status}: {body}"
            if resp.status in (401, 403):
                raise EngineError(f"{url} refused the credentials (HTTP {resp.status}): check the API key")
            if resp.status == 404 and path == "/completions":
                raise EngineError(f"{url} answered 404: this server has no raw completions endpoint, which "
                                  "this recipe needs (vLLM and llama.cpp servers have one)")
            if resp.status == 404:
                raise EngineError(f"{url} answered 404 ({body[:120]}): check --base-url and --model")
            if resp.status < 500 and resp.status not in _RETRY_STATUS:
                self.stats.failures += 1
                raise RequestRejected(f"{path} rejected: {error}")
        self.stats.failures += 1
        if connection_lost and not await self._alive():
            raise EngineUnavailable(self.server_gone() or f"lost the connection to {self.base_url} ({error}): "
                                    "is the server still up? Restart it, then re-run the same command to continue")
        raise RequestFailed(f"{path} failed after {self.max_retries + 1} attempts: {error}")

    def server_gone(self) -> str | None:
        """Why a server this engine started has died, or None; engines that own their server override it."""
        return None

    def _count_usage(self, data: dict) -> None:
        usage = data.get("usage") or {}
        self.stats.prompt_tokens += usage.get("prompt_tokens") or 0
        self.stats.completion_tokens += usage.get("completion_tokens") or 0


def parse_choices(data: dict, seeds: list[int | None]) -> list[Completion]:
    """Turn a chat or completions response into Completions, one per choice, in index order."""
    choices = data.get("choices") or []
    if len(choices) > 1:
        choices = sorted(choices, key=lambda c: c.get("index", 0))
    if not choices:
        raise RequestFailed(f"response without choices: {json.dumps(data)[:200]}")
    usage = data.get("usage") or {}
    per_choice = (usage.get("completion_tokens") or 0) // max(1, len(choices))
    out = []
    for choice, seed in zip(choices, seeds):
        msg = choice.get("message")
        text = (msg.get("content") or "") if msg is not None else (choice.get("text") or "")
        # vLLM's reasoning parser puts the thinking in `reasoning` (older releases: `reasoning_content`)
        reasoning = (msg.get("reasoning") or msg.get("reasoning_content")) if msg is not None else None
        out.append(Completion(text=text, finish_reason=choice.get("finish_reason"),
                              prompt_tokens=usage.get("prompt_tokens") or 0,
                              completion_tokens=per_choice, seed=seed, reasoning=reasoning,
                              logprobs=parse_logprobs(choice.get("logprobs"))))
    return out


def parse_logprobs(data: Any) -> list[dict[str, Any]] | None:
    """A chat choice's `logprobs` ({"content": [{"token", "logprob", "top_logprobs": [...]}, ...]}) as
    [{"token", "logprob", "top": {token: logprob}}]; None when the server gave none."""
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, list):
        return None
    return [{"token": t.get("token"), "logprob": t.get("logprob"),
             "top": {a.get("token"): a.get("logprob") for a in t.get("top_logprobs") or []}}
            for t in content if isinstance(t, dict)]

