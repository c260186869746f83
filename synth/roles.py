"""Engines by role for one run: started together, closed together, an LLM on each.

A run has a default engine (the config's `engine:`, role `default`) and any number by role
(`engines: {teacher: {...}, judge: {...}}`). Each is its own engine: its own capability probe,
in-flight window and counts; all share the run's request cache (a request's key names its model and
engine kind, and the role where the role's engine is not the default's: servers that report the same
model name, as llama.cpp servers and vLLM's `--served-model-name` aliases do, keep their answers apart,
while a role on the default's engine shares its answers). Recipes and LLM filters reach them through
`llm.role(name)` (synth.llm).
"""

from __future__ import annotations

import asyncio
from collections import Counter

from synth.config import DEFAULT_ROLE, EngineConfig, RunConfig
from synth.engines.base import Engine, Sampling
from synth.errors import SynthError
from synth.llm import LLM, by_role
from synth.store import RunStore


async def start_all(engines: dict[str, Engine]) -> None:
    """Start every engine at once (a vLLM server takes minutes); when one fails the others are closed
    again and its error, naming its role, is raised."""
    try:
        results = await asyncio.gather(*(engine.start() for engine in engines.values()), return_exceptions=True)
    except BaseException:  # interrupted while starting: stop what did start
        await close_all(engines)
        raise
    failed = [(role, r) for role, r in zip(engines, results) if isinstance(r, BaseException)]
    if not failed:
        return
    await close_all(engines)
    role, exc = failed[0]
    if role != DEFAULT_ROLE and isinstance(exc, SynthError):
        raise type(exc)(f"engines.{role}: {exc}") from exc
    raise exc


async def close_all(engines: dict[str, Engine]) -> None:
    """Close every engine, each even when another fails to; the first error is raised after."""
    results = await asyncio.gather(*(engine.close() for engine in engines.values()), return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r


def make_llms(config: RunConfig, engines: dict[str, Engine], store: RunStore | None) -> dict[str, LLM]:
    """An LLM per role over the run's store and sampling, each finding the others (`llm.role`)."""
    s = config.sampling
    defaults = Sampling(s.temperature, s.top_p, s.max_tokens, None, tuple(s.stop or ()) or None)
    llms = {}
    default = answer_source(config.role_config(DEFAULT_ROLE))
    for role, engine in engines.items():
        cfg = config.role_config(role)
        scope = None if answer_source(cfg) == default else role
        llms[role] = LLM(engine, store, defaults, run_seed=s.seed, json_schema=cfg.json_schema,
                         extra_body=cfg.extra_body, cache_scope=scope)
    return by_role(llms)


def answer_source(cfg: EngineConfig) -> dict:
    """The settings of an engine config that decide who answers: two roles alike here ask one server
    (or one model file) and may share cached answers. Left out: what only changes how requests are sent
    (timeouts, retries, in-flight window, key) and the port, which a started server picks anew each run."""
    urls = cfg.base_url if isinstance(cfg.base_url, list) else [cfg.base_url] if cfg.base_url else []
    return {"kind": cfg.kind, "base_url": sorted(urls), "model": cfg.model, "n_ctx": cfg.n_ctx,
            "vllm_args": cfg.vllm_args, "options": cfg.options}


def structured_tally(llms: dict[str, LLM]) -> Counter:
    """synth.structured's tally of JSON answers over every role."""
    return sum((llm.structured for llm in llms.values()), Counter())
