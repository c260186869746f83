"""Run a recipe in-process against a loopback server (ScriptedServer) with the real engine and LLM."""

from __future__ import annotations

import asyncio

from synth.engines.base import Sampling
from synth.engines.openai_http import OpenAIEngine
from synth.llm import LLM


def run_recipe(recipe, rows: list[dict], base_url: str, *, max_tokens: int = 64) -> list[dict]:
    """All records of `recipe` over `rows`, in row order (no cache, run seed 0)."""

    async def go() -> list[dict]:
        async with OpenAIEngine(base_url, max_retries=0) as engine:
            llm = LLM(engine, None, Sampling(temperature=0.7, max_tokens=max_tokens), run_seed=0)
            out = []
            try:
                for row in rows:
                    out += await recipe.run(row, llm)
            finally:
                await recipe.close()  # as the runner does
            return out

    return asyncio.run(go())


def sent(server, kind: str | None = None) -> list[dict]:
    """Request bodies the recipe sent (the engine's one-token capability probes left out)."""
    return [b for b in server.requests(kind) if b.get("max_tokens") != 1]
