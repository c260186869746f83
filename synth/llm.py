"""`LLM`: what a recipe calls. Adds the request cache, seeds and defaults on top of an engine.

Every sample is cached under a hash of (model, engine kind, messages or prompt, sampling params,
JSON schema, seed, sample index), so a re-run answers finished samples from disk and only sends what
is missing. When a request gives no seed, one is derived from the run seed and the request content:
runs are reproducible and two different prompts never share a random stream.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from synth.engines.base import Completion, Engine, Sampling, sample_seeds
from synth.store import RunStore, dump_json


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class LLM:
    """Cached, seeded access to an engine; safe to share between concurrent rows."""

    def __init__(self, engine: Engine, store: RunStore | None, defaults: Sampling, *, run_seed: int = 0,
                 json_schema: bool = True) -> None:
        self.engine = engine
        self.store = store
        self.defaults = defaults
        self.run_seed = run_seed
        self.json_schema = json_schema  # send JSON schemas to the engine (synth.structured reads this)
        self.cache_stats = CacheStats()
        self.structured: Counter = Counter()  # synth.structured's tally of JSON answers

    @property
    def capabilities(self):
        return self.engine.capabilities

    def _sampling(self, overrides: dict[str, Any]) -> Sampling:
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self.defaults  # the common case, and dataclasses.replace is slow per request
        if "stop" in given:
            given["stop"] = tuple(given["stop"])
        return replace(self.defaults, **given)

    def _request(self, kind: str, body: Any, sampling: Sampling, json_schema: dict | None) -> dict:
        return {"model": self.engine.model, "engine": self.engine.kind, "kind": kind, "body": body,
                "sampling": _unseeded(sampling), "json_schema": json_schema}

    def _seed(self, request_json: str, seed: int | None) -> int:
        if seed is not None:
            return seed
        digest = hashlib.sha256(f"{self.run_seed}:{request_json}".encode()).digest()
        return int.from_bytes(digest[:4], "big") & 0x3FFFFFFF  # leaves room for seed + i

    async def chat(self, messages: list[dict[str, str]], *, n: int = 1, temperature: float | None = None,
                   top_p: float | None = None, max_tokens: int | None = None, seed: int | None = None,
                   stop: list[str] | None = None, json_schema: dict | None = None) -> list[Completion]:
        """`n` answers to a conversation (sample i uses seed + i)."""
        sampling = self._sampling(dict(temperature=temperature, top_p=top_p, max_tokens=max_tokens, stop=stop))
        request = self._request("chat", messages, sampling, json_schema)
        return await self._cached(request, sampling, seed, n,
                                  lambda s, k: self.engine.chat(messages, s, n=k, json_schema=json_schema))

    async def complete(self, prompt: str, *, n: int = 1, temperature: float | None = None,
                       top_p: float | None = None, max_tokens: int | None = None, seed: int | None = None,
                       stop: list[str] | None = None) -> list[Completion]:
        """`n` raw continuations of `prompt` (no chat template)."""
        sampling = self._sampling(dict(temperature=temperature, top_p=top_p, max_tokens=max_tokens, stop=stop))
        request = self._request("complete", prompt, sampling, None)
        return await self._cached(request, sampling, seed, n,
                                  lambda s, k: self.engine.complete(prompt, s, n=k))

    async def _cached(self, request: dict, sampling: Sampling, seed: int | None, n: int, call) -> list[Completion]:
        request_json = dump_json(request)  # serialised once: it is the seed source and the cache key
        base = self._seed(request_json, seed)
        seeds = sample_seeds(base, n)
        keys = [hashlib.sha256(f"{request_json}|seed={s}".encode()).hexdigest() for s in seeds]
        results: list[Completion | None] = [None] * n
        if self.store is not None:
            for i, key in enumerate(keys):
                hit = self.store.cached(key)
                if hit is not None:
                    results[i] = Completion.from_json(hit, cached=True)
        missing = [i for i, r in enumerate(results) if r is None]
        self.cache_stats.hits += n - len(missing)
        self.cache_stats.misses += len(missing)
        if len(missing) == n:
            fresh = await call(_seeded(sampling, base), n)  # one request when the server has native n
        else:
            parts = await asyncio.gather(*(call(_seeded(sampling, seeds[i]), 1) for i in missing))
            fresh = [cs[0] for cs in parts]
        for i, completion in zip(missing, fresh):
            completion.seed = seeds[i]
            results[i] = completion
            if self.store is not None:
                self.store.cache(keys[i], request_json, seeds[i], completion.to_json())
        return results  # type: ignore[return-value]


@lru_cache(maxsize=256)
def _unseeded(sampling: Sampling) -> dict[str, Any]:
    """The sampling fields of a request's identity (the seed is keyed apart); a run uses a handful."""
    return {k: v for k, v in sampling.as_dict().items() if k != "seed"}


def _seeded(s: Sampling, seed: int | None) -> Sampling:
    return Sampling(s.temperature, s.top_p, s.max_tokens, seed, s.stop)
