"""`LLM`: what a recipe calls. Adds the request cache, seeds and defaults on top of an engine.

Every sample is cached under a hash of (model, engine kind, messages or prompt, sampling params,
JSON schema, seed, sample index), so a re-run answers finished samples from disk and only sends what
is missing. An engine role whose engine is not the default's adds its role name (`cache_scope`, set by
synth.roles): two servers that both call themselves "local-model" must not answer for each other.
When a request gives no seed, one is derived from the run seed and the request content (`derive_seed`):
runs are reproducible, and two different prompts get unrelated seeds (30 bits of a hash each, sample i
of a request using seed + i, so two requests share a seed only by chance).
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
                 json_schema: bool = True, extra_body: dict[str, Any] | None = None,
                 cache_scope: str | None = None) -> None:
        self.engine = engine
        self.extra_body = extra_body or None  # engine.extra_body: part of each request's identity
        self.cache_scope = cache_scope  # the role name of an engine apart from the default's: part of the identity
        self.store = store
        self.defaults = defaults
        self.run_seed = run_seed
        self.json_schema = json_schema  # send JSON schemas to the engine (synth.structured reads this)
        self.cache_stats = CacheStats()
        self.structured: Counter = Counter()  # synth.structured's tally of JSON answers
        self._tails: dict[tuple, str] = {}  # the canonical request text after its body, per kind and sampling
        self._roles: dict[str, LLM] = {}  # the run's LLMs by engine role, shared by all of them (see by_role)

    @property
    def capabilities(self):
        return self.engine.capabilities

    def role(self, name: str | None) -> LLM:
        """The LLM on the engine of role `name` (a config's `engines:`); the default engine's when the
        run has no engine by that name (or `name` is None), so a recipe or filter asks for a role and
        works on a run with one engine."""
        return self._roles.get(name or "default") or self._roles.get("default") or self

    def all_roles(self) -> dict[str, LLM]:
        """The run's LLMs by role (just this one, as `default`, outside a run with engines by role)."""
        return self._roles or {"default": self}

    def _sampling(self, overrides: dict[str, Any]) -> Sampling:
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self.defaults  # the common case, and dataclasses.replace is slow per request
        if "stop" in given:
            given["stop"] = tuple(given["stop"])
        return replace(self.defaults, **given)

    def _request(self, kind: str, body: Any, sampling: Sampling, json_schema: dict | None) -> dict:
        request = {"model": self.engine.model, "engine": self.engine.kind, "kind": kind, "body": body,
                   "sampling": _unseeded(sampling), "json_schema": json_schema}
        if self.extra_body:  # only when set, so the cache keys of runs without it stay as they were
            request["extra_body"] = self.extra_body
        if self.cache_scope:  # likewise: the default engine's keys are those of a run with one engine
            request["role"] = self.cache_scope
        return request

    def _request_json(self, kind: str, body: Any, sampling: Sampling, json_schema: dict | None) -> str:
        """dump_json(self._request(...)), the request's identity; only `body` is encoded per request.

        "body" sorts first among the request's keys, so the canonical text is '{"body":' + the body's
        canonical text + the rest, which is the same for every request of one kind and sampling.
        """
        if json_schema is not None:
            return dump_json(self._request(kind, body, sampling, json_schema))
        key = (kind, sampling, self.engine.model, self.engine.kind)
        tail = self._tails.get(key)
        if tail is None:
            if len(self._tails) > 256:  # a recipe that varies its sampling per request
                self._tails.clear()
            whole = dump_json(self._request(kind, 0, sampling, None))
            assert whole.startswith('{"body":0,')
            tail = self._tails[key] = whole[len('{"body":0'):]
        return '{"body":' + dump_json(body) + tail

    def seed_for(self, *parts: object) -> int:
        """A seed of this run for `parts`: what a recipe passes as `seed=` to ask the same prompt again
        apart from its cached answer (a new round, a new evolution), the same on every re-run."""
        return derive_seed(self.run_seed, *parts)

    def _seed(self, request_json: str, seed: int | None) -> int:
        return seed if seed is not None else derive_seed(self.run_seed, request_json)

    async def chat(self, messages: list[dict[str, str]], *, n: int = 1, temperature: float | None = None,
                   top_p: float | None = None, max_tokens: int | None = None, seed: int | None = None,
                   stop: list[str] | None = None, json_schema: dict | None = None,
                   top_logprobs: int | None = None) -> list[Completion]:
        """`n` answers to a conversation (sample i uses seed + i). `top_logprobs=N` asks for each token's
        N likeliest alternatives (Completion.logprobs); only where `await supports_logprobs()` says so."""
        sampling = self.defaults if temperature is None and top_p is None and max_tokens is None and stop is None \
            else self._sampling(dict(temperature=temperature, top_p=top_p, max_tokens=max_tokens, stop=stop))
        if top_logprobs is not None:  # part of the request's identity, only when asked
            request_json = dump_json({**self._request("chat", messages, sampling, json_schema),
                                      "top_logprobs": top_logprobs})
            return await self._cached(request_json, sampling, seed, n,
                                      lambda s, k: self.engine.chat(messages, s, n=k, json_schema=json_schema,
                                                                    top_logprobs=top_logprobs))
        request_json = self._request_json("chat", messages, sampling, json_schema)
        return await self._cached(request_json, sampling, seed, n,
                                  lambda s, k: self.engine.chat(messages, s, n=k, json_schema=json_schema))

    async def supports_logprobs(self) -> bool:
        """Whether this engine returns token logprobs (probed once, at the first ask, where it can be)."""
        return await self.engine.supports_logprobs()

    async def complete(self, prompt: str, *, n: int = 1, temperature: float | None = None,
                       top_p: float | None = None, max_tokens: int | None = None, seed: int | None = None,
                       stop: list[str] | None = None) -> list[Completion]:
        """`n` raw continuations of `prompt` (no chat template)."""
        sampling = self.defaults if temperature is None and top_p is None and max_tokens is None and stop is None \
            else self._sampling(dict(temperature=temperature, top_p=top_p, max_tokens=max_tokens, stop=stop))
        request_json = self._request_json("complete", prompt, sampling, None)
        return await self._cached(request_json, sampling, seed, n,
                                  lambda s, k: self.engine.complete(prompt, s, n=k))

    async def _cached(self, request_json: str, sampling: Sampling, seed: int | None, n: int,
                      call) -> list[Completion]:
        # request_json is serialised once: it is the seed source, the cache key and the stored request
        base = self._seed(request_json, seed)
        if n == 1:  # the common case, without the lists below
            key = hashlib.sha256(f"{request_json}|seed={base}".encode()).hexdigest()
            if self.store is not None:
                hit = self.store.cached(key)
                if hit is not None:
                    self.cache_stats.hits += 1
                    return [Completion.from_json(hit, cached=True)]
            self.cache_stats.misses += 1
            completion = (await call(_seeded(sampling, base), 1))[0]
            completion.seed = base
            if self.store is not None:
                self.store.cache(key, request_json, base, completion.to_json())
            return [completion]
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


def derive_seed(*parts: object) -> int:
    """The seed of `parts` (joined with ':'): a hash, cut to 30 bits so seed + i stays a valid seed.

    >>> derive_seed(0, '{"body": 1}') == derive_seed(0, '{"body": 1}'), derive_seed(0, 'a') == derive_seed(1, 'a')
    (True, False)
    """
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x3FFFFFFF


@lru_cache(maxsize=256)
def _unseeded(sampling: Sampling) -> dict[str, Any]:
    """The sampling fields of a request's identity (the seed is keyed apart); a run uses a handful."""
    return {k: v for k, v in sampling.as_dict().items() if k != "seed"}


def _seeded(s: Sampling, seed: int | None) -> Sampling:
    return Sampling(s.temperature, s.top_p, s.max_tokens, seed, s.stop)


def by_role(llms: dict[str, LLM]) -> dict[str, LLM]:
    """Let each of a run's LLMs find the others by role (`llm.role(name)`); `llms` holds `default`."""
    for llm in llms.values():
        llm._roles = llms
    return llms
