"""`synth dedup` over a file or local shards in bounded memory, resumable after a kill.

Two passes over the input, as a streamed run does (synth.stages.streaming): pass 1 reads rows
`batch_rows` at a time and appends only each row's exact hash and one-byte MinHash signature
(8 + num_perm bytes a row, 136 at the defaults; + 4 for `keep: longest`) to files in a state folder,
with a checkpoint after every batch; the decision (synth.dedup.spilled: the same decisions as
`dedup_rows`) reads them from there a band at a time, holding a few bytes a row; pass 2 reads the
input again and writes the kept rows and the dropped ones. A killed run started again with the same
input, output and options goes on from the last checkpoint (pass 1 from its last batch, the decision
from its last band, pass 2 from the decision).

The reading, writing and checkpoint primitives live in synth.dedup.reading, .writers and .checkpoint
(re-exported here: `synth filter` streams with them).
"""

from __future__ import annotations

import pickle
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from synth.dedup.checkpoint import (BATCH_ROWS, STATE_VERSION, State, checkpoint, finish_jsonl,  # noqa: F401
                                    iter_batches_with_state)
from synth.dedup.reading import LazyRows, batches, count_rows, input_files, input_key  # noqa: F401
from synth.dedup.writers import DroppedSpool, TableWriter  # noqa: F401
from synth.errors import InputError

Progress = Callable[[str, int, int], None]


def dedup_file(inp: Path, out: Path, dropped_path: Path, config, *, state_dir: Path,
               batch_rows: int = BATCH_ROWS, progress: Progress | None = None, backend=None) -> dict:
    try:
        return _dedup_file(inp, out, dropped_path, config, state_dir=state_dir, batch_rows=batch_rows,
                           progress=progress, backend=backend)
    except InputError:  # a broken input leaves nothing behind (a kill leaves the checkpoint to resume)
        shutil.rmtree(state_dir, ignore_errors=True)
        raise


def _sketch(inp, config, state: State, backend, batch_rows: int, progress) -> int:
    """Pass 1: hashes and signatures of every row appended to the state folder; returns the row count."""
    from synth.dedup.text import _get, default_fields, row_text

    n, fields, P = state.meta["rows"], state.meta.get("fields"), config.num_perm
    # fields no row so far has (a field missing from the first batch may come later): an error only
    # when pass 1 ends with one still missing
    missing, columns = state.meta.get("missing_fields"), state.meta.get("columns", [])
    for name, width in (("ex.u64", 8), ("sig.u8", P), ("len.u32", 4)):  # cut back to the checkpoint
        state.truncate(name, n * width)
    total = count_rows(inp)
    if progress and n and not missing:  # resumed (a fresh run shows its bar after the first batch: errors come first)
        progress("sketch", n, total or n)
    for chunk in batches(inp, batch_rows, skip=n):
        if fields is None:
            fields = list(config.fields or default_fields(chunk, config.id_field))
            missing, columns = list(fields), sorted({k for r in chunk[:100] for k in r})
        if missing:
            missing = [f for f in missing if not any(_get(r, f) is not None for r in chunk)]
        texts = [row_text(r, fields) for r in chunk]
        ex, sig8 = backend.sketch(texts, config, compact=True)
        state.append("ex.u64", ex)
        state.append("sig.u8", sig8)
        if config.keep == "longest":
            state.append("len.u32", np.array([len(t) for t in texts], dtype=np.uint32))
        n += len(chunk)
        state.save(rows=n, fields=fields, missing_fields=missing, columns=columns)
        if progress and not missing:  # no bar while a field is in no row yet: that may end in one error line
            progress("sketch", n, max(total or 0, n))
    if n == 0:
        raise InputError(f"{inp} has no rows")
    if missing:
        raise InputError(f"field {missing[0]!r} is in no row; columns are: {', '.join(columns) or '(none)'}")
    state.save(sketched=True)
    return n


def _decide_in_memory(state: State, n: int, config, backend) -> dict:
    """`core.decide` over all signatures at once: for a backend that finds candidates itself (Ray)."""
    from synth.dedup.core import decide
    from synth.dedup.spilled import rank_from_lengths

    rank = rank_from_lengths(state.load("len.u32", np.uint32)) if config.keep == "longest" else None
    reason, dup_of, _, sim, stats, times = decide(state.load("ex.u64", np.uint64),
                                                   state.load("sig.u8", np.uint8, (n, config.num_perm)),
                                                   config, rank=rank, backend=backend)
    state.save_array("reason.i8", reason)
    state.save_array("dup_of.i32", dup_of.astype(np.int32))
    state.save_array("sim.f64", sim)
    return {"stats": stats, "times": times}


def _parquet_schema(inp):
    """The columns of a Parquet input (its shards' unified), which every kept row fits; None when INPUT
    is not all Parquet or its shards' columns do not unify (the writer then infers from all rows)."""
    files = input_files(inp)
    if not all(f.suffix == ".parquet" for f in files):
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schemas = [pq.read_schema(f) for f in files]
        return schemas[0] if len(schemas) == 1 else pa.unify_schemas(schemas)
    except Exception:  # unreadable (pass 1 said so already) or columns of other types
        return None


class SurvivorIds:
    """Ids of the rows that others duplicate, kept compact (pickled into one buffer, 8 B of offset
    each) instead of a dict of Python objects: pass 2 names each dropped row's survivor by them."""

    def __init__(self, rows: np.ndarray):
        self.rows = rows  # sorted positions; ids are added in this order
        self.buf = bytearray()
        self.ends = np.zeros(len(rows), dtype=np.int64)
        self.n = 0

    def wants(self, pos: int) -> bool:
        return self.n < len(self.rows) and self.rows[self.n] == pos

    def add(self, value) -> None:
        self.buf += pickle.dumps(value)
        self.ends[self.n] = len(self.buf)
        self.n += 1

    def get(self, pos: int):
        k = int(np.searchsorted(self.rows, pos))
        return pickle.loads(self.buf[self.ends[k - 1] if k else 0:self.ends[k]])


def _dedup_file(inp: Path, out: Path, dropped_path: Path, config, *, state_dir: Path,
                batch_rows: int, progress: Progress | None, backend) -> dict:
    """Dedup the rows of `inp` into `out` (kept) and `dropped_path` (each dropped row with
    duplicate_of, duplicate_in, reason, similarity: as `dedup_rows`), in two passes; returns the
    report (as `dedup_rows`'s). No persisted index here (`synth dedup --index` holds rows in memory).
    ``backend`` sketches each batch (default ``LocalBackend()``); the local backend decides out of
    core (synth.dedup.spilled), another (``ray_job.RayBackend``) finds candidates itself over all
    signatures in memory, with the same decisions."""
    from synth.dedup import lsh
    from synth.dedup.core import LocalBackend
    from synth.dedup.report import build_report
    from synth.dedup.spilled import decide_spilled
    from synth.dedup.text import row_id
    if config.index is not None:
        raise ValueError("dedup_file does not take an index")
    t0 = time.perf_counter()
    state = State(state_dir, {"v": STATE_VERSION, "config": config.model_dump(mode="json"),
                              "batch_rows": batch_rows, **input_key(inp)})
    backend = backend or LocalBackend()
    resumed = state.resumed
    n = state.meta["rows"] if state.meta.get("sketched") else _sketch(inp, config, state, backend, batch_rows, progress)
    fields = state.meta.get("fields")
    t_sketch = time.perf_counter() - t0
    spilled = type(backend) is LocalBackend
    if not state.meta.get("decided"):
        decision = (decide_spilled(state, n, config, progress) if spilled
                    else _decide_in_memory(state, n, config, backend))
        state.save(decided=True, **decision)
    reason, dup_of = state.load("reason.i8", np.int8), state.load("dup_of.i32", np.int32)
    if state.path("match.i16").exists():  # agreeing bytes with the survivor: 2 B a row, not a float
        sim = lsh.jaccard_from_matches(state.load("match.i16", np.int16 if config.num_perm < 1 << 15 else np.int32)[
            reason > 0], config.num_perm)
    else:
        sim = state.load("sim.f64", np.float64)[reason > 0]
    # `sim` holds the dropped rows' similarities in input order: pass 2 takes them one by one
    stats, times = state.meta["stats"], dict(state.meta["times"])
    times["sketch_s"] = t_sketch

    # pass 2: the survivors' ids name their copies; with keep=first a survivor comes before its copies
    ids = SurvivorIds(np.unique(dup_of[reason > 0]).astype(np.int64))
    if config.keep == "longest" and len(ids.rows):
        pos = 0
        for chunk in batches(inp, batch_rows):
            for r in chunk:
                if ids.wants(pos):
                    ids.add(row_id(r, pos, config.id_field))
                pos += 1
    kept_out = TableWriter(out, schema=_parquet_schema(inp) if Path(out).suffix == ".parquet" else None)
    dropped_rows = DroppedSpool(dropped_path)
    pos = seen = n_dropped = 0
    try:
        for chunk, lines in batches(inp, batch_rows, raw=True):
            seen += len(chunk)
            keep, keep_lines = [], []
            as_lines = lines is not None and kept_out.takes_lines
            for i, why in enumerate(reason[pos:pos + len(chunk)].tolist()):
                if ids.wants(pos):
                    ids.add(row_id(chunk[i], pos, config.id_field))
                if why == 0:
                    if as_lines:
                        keep_lines.append(lines[i])
                    else:
                        keep.append(chunk[i])
                else:
                    r = chunk[i]
                    dropped_rows.add({**r, "duplicate_of": ids.get(int(dup_of[pos])), "duplicate_in": "input",
                                      "reason": "exact_duplicate" if why == 1 else "near_duplicate",
                                      "similarity": round(float(sim[n_dropped]), 4)})
                    n_dropped += 1
                pos += 1
            if as_lines:  # JSONL to JSONL: the kept lines as they were, not parsed and dumped again
                kept_out.write_lines(keep_lines, len(keep_lines))
            else:
                kept_out.write(keep)
            if progress:
                progress("write", pos, n)
        if seen != n:
            raise InputError(f"{inp} changed while it was read ({n:,} rows, then {seen:,}); run again")
        kept_out.close()
        dropped_rows.close()
    except BaseException:
        kept_out.abort()
        dropped_rows.abort()
        raise
    times["total_s"] = time.perf_counter() - t0
    no_index = np.broadcast_to(np.int64(-1), (n,))  # no row matched an index: a view, not n int64s
    report = build_report(config, n, reason, dup_of, no_index, stats, times, fields or [])
    spill = 8 + config.num_perm + (4 if config.keep == "longest" else 0)
    report["streamed"] = {"batch_rows": batch_rows, "bytes_per_row": spill,
                          "decision": "spilled" if spilled else "in memory", "resumed": resumed}
    shutil.rmtree(state.folder, ignore_errors=True)
    return report
