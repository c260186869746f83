"""Generating: the recipe over seed rows, concurrently, and each row's records stamped and stored.

`generate` reads rows as workers free up, skips rows already done, runs the recipe on each, checks
its records against the run's schema and appends them to the store; the row is marked done only
with its records (group commits, see synth.store). `stamp` gives each record its id and provenance.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterable

from synth import failures
from synth.errors import EngineError, RecipeError, RequestFailed
from synth.llm import LLM
from synth.progress import RowProgress
from synth.recipe import Recipe
from synth.schema import RecordSchema, RecordSchemaError
from synth.seeds import row_key
from synth.spool import chunks
from synth.store import COMMIT_EVERY_S, RunStore


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
            progress.advance(1, count=sum(one.engine.stats.completion_tokens for one in llm.all_roles().values()))
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
