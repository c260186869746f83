"""`synth run`: seed rows -> recipe (async, per row, via the cached LLM) -> records -> stages -> dataset.

Validation happens before anything is written: config, plugins, seed file and every seed row's
fields, then the engine is started (an unreachable server stops here). Only then is the run
directory touched. Rows run concurrently; each finished row's records are appended and flushed,
then the row is marked done in SQLite, so a kill at any instant loses at most the rows in flight.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import synth
from synth import plugins
from synth.config import EngineConfig, RunConfig
from synth.engines.base import Engine, Sampling
from synth.errors import ConfigError, EngineError, InputError, RecipeError, RequestFailed
from synth.filter import make_filter
from synth.io import read_rows, write_text
from synth.llm import LLM
from synth.pipeline import DedupStage, FilterStage, RecipeRejectStage, Stage, run_stages_async
from synth.progress import RowProgress, console, status
from synth.recipe import Recipe, format_validation
from synth.store import RunStore, dump_json


@dataclass
class RunSummary:
    run_dir: Path
    rows_selected: int
    rows_done: int
    rows_failed: int
    records: int
    kept: int
    manifest: dict


# -- building blocks ---------------------------------------------------------------------------
MAX_FOLLOW_UPS = 20  # a recipe's follow_up that never settles stops here


def make_engine(cfg: EngineConfig) -> Engine:
    common = dict(timeout_s=cfg.timeout_s, max_retries=cfg.max_retries, backoff_s=cfg.backoff_s)
    if cfg.kind == "embedded":
        from synth.engines.embedded import EmbeddedEngine

        return EmbeddedEngine(max_in_flight=cfg.in_flight, threads=cfg.threads, n_ctx=cfg.n_ctx, **common)
    if cfg.kind == "vllm":
        from synth.engines.vllm_local import VLLMEngine

        return VLLMEngine(cfg.model or "", **cfg.vllm_args)
    from synth.engines.openai_http import OpenAIEngine

    return OpenAIEngine(cfg.base_url or "", cfg.model, api_key=os.environ.get(cfg.api_key_env),
                        max_in_flight=cfg.in_flight, **common)


def make_recipe(config: RunConfig, base_dir: Path) -> Recipe:
    cls = plugins.load(plugins.RECIPES, config.recipe)
    options = dict(config.options)
    for key in getattr(cls, "path_options", ()):
        value = options.get(key)
        if isinstance(value, str):
            options[key] = _resolve_spec(value, base_dir)
        elif isinstance(value, list):
            options[key] = [_resolve_spec(v, base_dir) if isinstance(v, str) else v for v in value]
    return cls(options)


def make_stages(config: RunConfig, base_dir: Path) -> list[Stage]:
    """Build every stage now, so a bad filter name, option key or type stops the run before any request."""
    stages: list[Stage] = [FilterStage(make_filter(spec.name, spec.options, base_dir=base_dir))
                           for spec in config.filters]
    if config.dedup and (config.dedup.get("exact", True) or config.dedup.get("near", True)):
        from synth.dedup import DedupConfig

        stages.append(DedupStage(_validated(DedupConfig, config.dedup, "dedup")))
    if config.decontam:
        from synth.dedup import DecontamConfig

        raw = dict(config.decontam)
        raw["benchmarks"] = [_resolve_spec(b, base_dir) for b in raw.get("benchmarks", [])]
        stages.append(DedupStage(_validated(DecontamConfig, raw, "decontam"), decontam=True))
    return stages


def _validated(model, raw: dict, prefix: str):
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation(prefix, exc, "config")) from None


def _resolve_spec(spec: str, base_dir: Path) -> str:
    """`FILE[:FIELD]` with FILE relative to the config file."""
    path, sep, field = spec.partition(":")
    return str((base_dir / path).resolve()) + (sep + field if sep else "")


def row_key(row: dict) -> str:
    return hashlib.sha256(dump_json(row).encode()).hexdigest()[:16]


def load_seeds(config: RunConfig, base_dir: Path, recipe: Recipe, limit: int | None) -> tuple[list, str]:
    """Seed rows as (key, row), duplicates collapsed, every row checked for the recipe's fields."""
    path = (base_dir / config.seeds) if not Path(config.seeds).is_absolute() else Path(config.seeds)
    rows = recipe.read_seeds(path)
    if rows is None:
        rows = read_rows(path)
    needed = recipe.required_fields()
    for i, row in enumerate(rows, 1):
        missing = [f for f in needed if row.get(f) in (None, "")]
        if missing:
            raise InputError(f"{path}: row {i} has no {', '.join(repr(m) for m in missing)} field, which recipe "
                             f"{recipe.name!r} needs (rename the column or set the recipe's field option)")
    if not rows:
        raise InputError(f"{path} has no rows")
    keyed = keyed_rows(rows)
    digest = hashlib.sha256("".join(k for k, _ in keyed).encode()).hexdigest()[:16]
    return (keyed[:limit] if limit else keyed), digest


def keyed_rows(rows: list[dict]) -> list[tuple[str, dict]]:
    """(content key, row) in order, duplicates collapsed."""
    seen: dict[str, dict] = {}
    for row in rows:
        seen.setdefault(row_key(row), row)
    return list(seen.items())


def stamp(records: list[dict], recipe: Recipe, key: str) -> list[dict]:
    """Give each record a stable id and its provenance."""
    out = []
    for i, record in enumerate(records):
        rid = hashlib.sha256(f"{recipe.name}:{key}:{i}".encode()).hexdigest()[:16]
        out.append({"id": rid, "recipe": recipe.name, "recipe_version": recipe.version, "seed_key": key, **record})
    return out


# -- generation ------------------------------------------------------------------------------------
async def generate(recipe: Recipe, llm: LLM, store: RunStore, rows: list[tuple[str, dict]], *,
                   concurrency: int, progress: RowProgress, on_tick=None) -> dict[str, int]:
    """Run the recipe over rows not yet done; returns counts. EngineError stops everything."""
    done_before = store.row_status()
    pending = [(k, r) for k, r in rows if done_before.get(k) != "done"]
    progress.advance(len(rows) - len(pending))
    counts = {"done": len(rows) - len(pending), "failed": 0}
    queue = list(reversed(pending))

    async def worker() -> None:
        while queue:
            key, row = queue.pop()
            try:
                records = stamp(await recipe.run(row, llm), recipe, key)
            except EngineError:
                raise  # the server is gone: stop the run
            except Exception as exc:  # one bad row (or a recipe bug on it) must not end a long run
                if os.environ.get("SYNTH_RAISE_ERRORS") and not isinstance(exc, (RequestFailed, RecipeError)):
                    raise
                store.mark_row(key, "failed", error=f"{type(exc).__name__}: {exc}", row=row)
                counts["failed"] += 1
            else:
                store.append_records(records)
                store.mark_row(key, "done", n_records=len(records))
                counts["done"] += 1
            progress.advance(1, count=llm.engine.stats.completion_tokens)
            if on_tick:
                on_tick(counts)

    tasks = [asyncio.create_task(worker()) for _ in range(max(1, min(concurrency, len(pending))))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return counts


# -- the whole run ---------------------------------------------------------------------------------
async def run(config: RunConfig, base_dir: Path, *, out: str | None = None, limit: int | None = None,
              quiet: bool = False) -> RunSummary:
    recipe = make_recipe(config, base_dir)
    stages = make_stages(config, base_dir)
    rows, seeds_digest = load_seeds(config, base_dir, recipe, limit)
    from synth.exports import FORMATS

    unknown = [f for f in config.export.formats if f not in recipe.exports and f not in FORMATS]
    if unknown:
        raise ConfigError(f"export.formats: recipe {recipe.name!r} has no format {unknown[0]!r} "
                          f"(available: {', '.join([*FORMATS, *recipe.exports])})")
    fingerprint = config.generation_fingerprint(seeds_digest)
    engine = make_engine(config.engine)
    if config.engine.kind == "embedded" and not quiet:
        console.print("[yellow]engine: embedded SmolLM2-135M toy model (plumbing only); "
                      "use --base-url URL --model NAME for real data[/]")
    with status("starting the engine", quiet=quiet):
        await engine.start()  # an unreachable server fails here, before the run dir exists
    run_dir = Path(out) if out else Path("runs") / config.name
    store = RunStore(run_dir, fingerprint)
    try:
        return await _run_in_store(config, recipe, stages, rows, engine, store, quiet)
    finally:
        store.close()
        await engine.close()


async def _run_in_store(config, recipe, stages, rows, engine, store, quiet) -> RunSummary:
    started = time.time()
    write_text(store.root / "config.yaml",
               f"# fingerprint: {store.fingerprint}\n" + _yaml(config.model_dump(mode="json")))
    s = config.sampling
    llm = LLM(engine, store, Sampling(s.temperature, s.top_p, s.max_tokens, None, tuple(s.stop or ()) or None),
              run_seed=s.seed, json_schema=config.engine.json_schema)
    manifest = _manifest(config, recipe, engine, store, rows, started)
    store.write_manifest(manifest)
    last_write = [time.monotonic()]

    def tick(counts):  # keep the manifest fresh for anyone watching a long run
        if time.monotonic() - last_write[0] > 5:
            manifest["rows"].update(counts)
            manifest["requests"] = _request_stats(engine, llm)
            store.write_manifest(manifest)
            last_write[0] = time.monotonic()

    t0 = time.perf_counter()
    concurrency = max(4, 2 * config.engine.in_flight)
    with RowProgress(f"{recipe.name}", len(rows), quiet=quiet) as progress:
        counts = await generate(recipe, llm, store, rows, concurrency=concurrency, progress=progress, on_tick=tick)
    gen_seconds = time.perf_counter() - t0
    stages = [RecipeRejectStage(recipe.name), *stages]
    all_rows = list(rows)
    for _ in range(MAX_FOLLOW_UPS + 1):
        keys = {k for k, _ in all_rows}
        records = [r for r in store.iter_records() if r["seed_key"] in keys]
        with status("filtering, deduplicating", quiet=quiet):  # LLM filters (judge) ask through the run's LLM
            kept, rejected, reports = await run_stages_async(stages, records, llm=llm, concurrency=concurrency)
        known = set(keys)
        extra = [(k, r) for k, r in keyed_rows(recipe.follow_up([r for _, r in all_rows], kept)) if k not in known]
        if not extra:
            break
        all_rows += extra
        manifest["rows"]["follow_up"] = manifest["rows"].get("follow_up", 0) + len(extra)
        t0 = time.perf_counter()
        with RowProgress(f"{recipe.name} (follow-up)", len(extra), quiet=quiet) as progress:
            more = await generate(recipe, llm, store, extra, concurrency=concurrency, progress=progress, on_tick=tick)
        gen_seconds += time.perf_counter() - t0
        counts = {k: counts[k] + more[k] for k in counts}
    with status("writing the dataset", quiet=quiet):
        manifest["stages"] = [{"name": "generate", "in": len(all_rows), "kept": len(records), "dropped": 0,
                               "dropped_by_reason": {}, "seconds": round(gen_seconds, 3)}] + \
                             [r.as_dict() for r in reports]
        manifest["rows"].update(counts)
        manifest["requests"] = _request_stats(engine, llm)
        if llm.structured:
            from synth.structured import summary

            manifest["structured_outputs"] = summary(llm.structured)
        coverage = recipe.coverage([r for _, r in all_rows], kept)
        if coverage is not None:
            manifest["coverage"] = coverage
        manifest["finished"] = time.time()
        manifest["status"] = "complete" if counts["failed"] == 0 else "incomplete"
        manifest["outputs"] = {"records": len(records), "kept": len(kept), "rejected": len(rejected)}
        _write_outputs(config, recipe, store, kept, rejected, manifest)
    return RunSummary(store.root, len(all_rows), counts["done"], counts["failed"], len(records), len(kept), manifest)


def _write_outputs(config, recipe, store, kept, rejected, manifest) -> None:
    """Dataset (splits, subsets per export, rejected), exports, plots and card: see synth.hub.outputs."""
    from synth.hub.outputs import write_outputs

    write_outputs(store.root, config, recipe, kept, rejected, store.failed_rows(), manifest)
    store.write_manifest(manifest)


def _manifest(config: RunConfig, recipe: Recipe, engine: Engine, store: RunStore, rows, started) -> dict[str, Any]:
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
                   "server": caps.server, "native_n": caps.native_n, "json_schema": caps.json_schema},
        "sampling": config.sampling.model_dump(),
        "versions": {d: version(d) for d in ("synth", "datasets", "datasketch", "aiohttp", "pydantic",
                                             "llama_cpp_python", "vllm", "math-verify")},
        "rows": {"selected": len(rows), "done": 0, "failed": 0},
        "requests": {}, "stages": [],
        # request and token counts of earlier sessions of this run, so the card can show the whole cost
        "requests_before": {k: (previous.get("requests_before") or {}).get(k, 0) + v
                            for k, v in (previous.get("requests") or {}).items()} or previous.get("requests_before", {}),
    }


def _request_stats(engine: Engine, llm: LLM) -> dict[str, int]:
    st = engine.stats
    return {"sent": st.requests, "retries": st.retries, "failed": st.failures, "cache_hits": llm.cache_stats.hits,
            "cache_misses": llm.cache_stats.misses, "prompt_tokens": st.prompt_tokens,
            "completion_tokens": st.completion_tokens}


def _yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# -- dry run -----------------------------------------------------------------------------------------
async def dry_run(config: RunConfig, base_dir: Path, *, limit: int | None = None, show: int = 1) -> dict[str, Any]:
    """Render the requests the run would send, without sending any; estimate their count and tokens."""
    from synth.engines.dry_run import DryRunEngine

    recipe = make_recipe(config, base_dir)
    make_stages(config, base_dir)
    rows, _ = load_seeds(config, base_dir, recipe, limit)
    engine = DryRunEngine(keep_examples=show * 4)
    s = config.sampling
    llm = LLM(engine, None, Sampling(s.temperature, s.top_p, s.max_tokens, None, None), run_seed=s.seed)
    for _, row in rows:
        try:
            await recipe.run(row, llm)
        except (RecipeError, RequestFailed):
            pass  # placeholder answers may not parse; the requests so far are still counted
    return {"rows": len(rows), **engine.totals, "examples": engine.calls}
