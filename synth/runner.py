"""The whole run: seed rows -> recipe (async, per row, via the cached LLM) -> records -> stages -> dataset.

Its parts are built and validated first (synth.build: config, plugins, seed file and every seed
row's fields), before anything is written; then the run directory is locked (one writer per directory) and the engine is started (an
unreachable server stops here, leaving nothing behind). Seed rows are read lazily and run
concurrently; finished rows' records go to disk in group commits, and a row is marked done only
after its records are fsynced (synth.store), so a kill at any instant loses at most the rows in
flight and the answers of the last fraction of a second. Generating is synth.generation; the
manifest's numbers are synth.manifest; this module runs the rounds and finishes the run.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synth import failures
from synth.build import check_export_formats, check_roles, load_seeds, make_engines, make_recipe, make_stages
from synth.config import DEFAULT_ROLE, RunConfig
from synth.engines.base import Sampling
from synth.errors import RecipeError, RequestFailed
from synth.generation import generate, keyed_rows
from synth.io import write_text
from synth.llm import LLM
from synth.manifest import count_requests, generate_line, new_manifest
from synth.paths import check_out
from synth.progress import RowProgress, console, status
from synth.recipe import Recipe
from synth.roles import close_all, make_llms, start_all, structured_tally
from synth.schema import RecordSchema
from synth.seeds import Seeds
from synth.spool import SPILL_ROWS
from synth.stages import RecipeRejectStage, can_stream, run_stages_async, run_stages_spooled
from synth.store import RunLock, RunStore


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


MAX_FOLLOW_UPS = 20  # a recipe's follow_up that never settles stops here


# -- the whole run ---------------------------------------------------------------------------------
async def run(config: RunConfig, base_dir: Path, *, out: str | None = None, limit: int | None = None,
              quiet: bool = False, fresh: bool = False) -> RunSummary:
    check_out(Path(out) if out else Path("runs") / config.name, "--out" if out else "run directory", is_dir=True)
    recipe = make_recipe(config, base_dir)
    stages = make_stages(config, base_dir)
    seeds = load_seeds(config, base_dir, recipe, limit)
    check_export_formats(config, recipe)
    check_roles(config, recipe)
    fingerprint = config.generation_fingerprint(seeds.digest, recipe.source_digest(), recipe.roles())
    run_dir = Path(out) if out else Path("runs") / config.name
    new_dir = run_dir  # the outermost folder this run creates: removed again if the engine never starts
    while not new_dir.parent.exists() and new_dir.parent != new_dir:
        new_dir = new_dir.parent
    new_dir = None if new_dir.exists() else new_dir
    lock = RunLock(run_dir)
    lock.acquire()  # a second `synth run` on this directory stops here, naming the process that holds it
    try:
        try:
            engines = make_engines(config, log_dir=run_dir)  # by role: `default` is the config's `engine`
            if config.engine.kind == "embedded" and not quiet:
                console.print("[yellow]engine: embedded SmolLM2-135M toy model (plumbing only); "
                              "use --base-url URL --model NAME for real data[/]")
            with status("starting the engine" + ("s" if len(engines) > 1 else ""), quiet=quiet):
                await start_all(engines)  # an unreachable server fails here, before anything is written
        except BaseException:
            if new_dir:  # leave no trace of a run that never started, but the log its error message names
                lock.release()
                if not any(run_dir.glob("vllm-server*.log")):
                    shutil.rmtree(new_dir, ignore_errors=True)
            raise
        store = RunStore(run_dir, fingerprint)
        try:
            if fresh:
                store.forget_records()
            return await _run_in_store(config, recipe, stages, seeds, engines, store, quiet)
        finally:
            try:
                await recipe.close()
            finally:
                store.close()
                await close_all(engines)
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


async def _run_in_store(config, recipe, stages, seeds: Seeds, engines, store, quiet) -> RunSummary:
    started = time.time()
    write_text(store.root / "config.yaml",
               f"# fingerprint: {store.fingerprint}\n" + _yaml(config.model_dump(mode="json")))
    llms = make_llms(config, engines, store)
    engine, llm = engines[DEFAULT_ROLE], llms[DEFAULT_ROLE]  # the recipe gets the default; llm.role(name) the others
    manifest = new_manifest(config, recipe, engines, store, seeds, started)
    store.write_manifest(manifest)
    last_write = [time.monotonic()]
    schema = RecordSchema(store.get_meta(f"schema:{store.fingerprint}") or recipe.record_schema)

    def tick(counts):  # keep the manifest fresh for anyone watching a long run
        if time.monotonic() - last_write[0] > 5:
            manifest["rows"].update(done=counts["done"], failed=counts["failed"])
            count_requests(manifest, llms)
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
            return _finish(config, recipe, store, engine, llms, manifest, counts, reports, len(seeds), n_records,
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
    return _finish(config, recipe, store, engine, llms, manifest, counts, reports, n_rows, len(records),
                   gen_seconds, kept, rejected, coverage, quiet)


def _finish(config, recipe, store, engine, llms, manifest, counts, reports, n_rows, n_records, gen_seconds,
            kept, rejected, coverage, quiet) -> RunSummary:
    """The manifest's numbers, then the dataset, subsets, exports, plots and card."""
    with status("writing the dataset", quiet=quiet):
        rows = manifest["rows"]
        rows.update(done=counts["done"], failed=counts["failed"])
        failed = store.failed_rows()
        manifest["stages"] = [generate_line(rows, counts, n_records, gen_seconds)] + [r.as_dict() for r in reports]
        if failed:
            manifest["failures"] = {kind: t["rows"] for kind, t in failures.tally(failed).items()}
        count_requests(manifest, llms)
        if hasattr(engine, "summary"):
            manifest["endpoints"] = engine.summary()
        structured = structured_tally(llms)
        if structured:
            from synth.structured import summary

            manifest["structured_outputs"] = summary(structured)
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


def _write_outputs(config, recipe, store, kept, rejected, failed, manifest) -> None:
    """Dataset (splits, subsets per export, rejected), exports, plots and card: see synth.hub.outputs."""
    from synth.hub.outputs import write_outputs

    write_outputs(store.root, config, recipe, kept, rejected, failed, manifest)
    store.write_manifest(manifest)


def _yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# -- dry run -----------------------------------------------------------------------------------------
async def dry_run(config: RunConfig, base_dir: Path, *, limit: int | None = None, show: int = 1) -> dict[str, Any]:
    """Render the requests the run would send, without sending any; estimate their count and tokens."""
    from synth.engines.dry_run import DryRunEngine

    recipe = make_recipe(config, base_dir)
    make_stages(config, base_dir)
    check_roles(config, recipe)
    seeds = load_seeds(config, base_dir, recipe, limit)
    engine = DryRunEngine(keep_examples=show * 4)  # one for every role: llm.role(name) falls back to it
    s = config.sampling
    llm = LLM(engine, None, Sampling(s.temperature, s.top_p, s.max_tokens, None, None), run_seed=s.seed)
    for _, _, row in seeds:
        try:
            await recipe.run(row, llm)
        except (RecipeError, RequestFailed):
            pass  # placeholder answers may not parse; the requests so far are still counted
    return {"rows": len(seeds), **engine.totals, "examples": engine.calls}
