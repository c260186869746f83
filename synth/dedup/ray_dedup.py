"""`synth dedup --ray ADDRESS` over sharded input into sharded output: both passes as Ray Data jobs.

The single-file streamed path (synth.dedup.stream) reads rows on the driver and sketches batches on
Ray. Here the workers read too. The input is cut into units (synth.dedup.ray_io); rows are numbered
by unit, then row, so "first" means the same as for the concatenated shards in name order.

1. sketch: a task per unit reads it and writes its rows' exact hashes, one-byte signatures (and text
   lengths for keep=longest) and ids to the state folder (136 B a row at 128 permutations);
2. decide: the driver loads them and runs `core.decide` with `RayBackend` (band candidates on Ray;
   verification and union-find on the driver), as the single-file path does, so the decisions match;
3. write: a task per unit reads it again and writes OUT/part-NNNNN.<input format> (kept) and
   DROPPED/part-NNNNN.jsonl (each dropped row with duplicate_of, duplicate_in, reason, similarity);
   once every unit is written, the Parquet shards get one schema (synth.dedup.ray_schema).

The state folder (OUT.state/) must be on storage every node sees, as OUT is; a unit done in either
pass is not run again after a kill.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from synth.dedup import ray_io, ray_schema
from synth.errors import InputError


def sketch_unit(unit: dict, config: dict, fields: list[str], state: str, batch_rows: int) -> dict[str, Any]:
    """Pass 1 over one unit (runs in a Ray task)."""
    from synth.dedup.signatures import sketch_chunk
    from synth.dedup.text import _get, row_text

    c = config
    exact, sigs, lengths, ids, rows = [], [], [], [], 0
    present = dict.fromkeys(fields, 0)
    for batch in ray_io.read_unit(unit, batch_rows):
        texts = [row_text(r, fields) for r in batch]
        ex, sig8 = sketch_chunk(texts, c["num_perm"], c["seed"], c["ngram"], c["cjk_ngram"], compact=True)
        exact.append(ex)
        sigs.append(sig8)
        lengths.append(np.array([len(t) for t in texts], dtype=np.uint32))
        ids += [r.get(c["id_field"]) for r in batch]
        for f in fields:
            present[f] += sum(_get(r, f) is not None for r in batch)
        rows += len(batch)
    base = Path(state) / f"sketch-{unit['i']:05d}"
    empty = np.zeros(0, np.uint64), np.zeros((0, c["num_perm"]), np.uint8), np.zeros(0, np.uint32)
    np.savez(f"{base}.npz", exact=np.concatenate(exact) if rows else empty[0],
             sig8=np.concatenate(sigs) if rows else empty[1], lengths=np.concatenate(lengths) if rows else empty[2])
    Path(f"{base}.ids.json").write_text(json.dumps(ids, default=str))
    return {"unit": unit["i"], "rows": rows, "present": present}


def write_unit(unit: dict, offset: int, decision, id_field: str, kept_dir: str, dropped_dir: str,
               batch_rows: int) -> dict[str, Any]:
    """Pass 3 over one unit: its kept and dropped rows (runs in a Ray task)."""
    import ray

    reason, dup_of, sim, survivor_ids = ray.get(decision)
    kept_all, dropped_all, pos = [], [], offset
    for batch in ray_io.read_unit(unit, batch_rows):
        for row in batch:
            why = int(reason[pos])
            if why == 0:
                kept_all.append(row)
            else:
                dropped_all.append({**row, "duplicate_of": survivor_ids[int(dup_of[pos])], "duplicate_in": "input",
                                    "reason": "exact_duplicate" if why == 1 else "near_duplicate",
                                    "similarity": round(float(sim[pos]), 4)})
            pos += 1
    schema = ray_io.write_unit_shards(unit, kept_dir, kept_all, dropped_dir, dropped_all)
    return {"unit": unit["i"], "kept": len(kept_all), "dropped": len(dropped_all), "schema": schema}


def dedup_on_ray(address: str, inp: Path, out: Path, dropped: Path, config, *, state: Path,
                 batch_rows: int = 10_000, progress=None) -> dict[str, Any]:
    """Dedup the shards of `inp` into numbered shards in `out` and `dropped`; returns the report (as
    `dedup_rows`'s, plus where it ran)."""
    from synth.dedup.core import decide
    from synth.dedup.ray_job import RayBackend
    from synth.dedup.report import build_report
    from synth.dedup.spilled import rank_from_lengths

    if config.index is not None:
        raise InputError("--ray with a directory or glob of shards takes no --index; dedup against an index "
                         "one file at a time")
    t0 = time.perf_counter()
    files, fmt = ray_io.shard_files(inp)
    units = ray_io.work_units(files, fmt)
    fields, first = ray_io.default_fields(inp, units, config)  # the first row decides them, as locally
    ray = ray_io.connect(address)
    ray_io.prepare_outputs(state, ray_io.state_key(files, config=config.model_dump(mode="json"), fields=fields),
                           [out, dropped], files)
    cfg = config.model_dump(mode="json")

    def bar(stage):
        return (lambda k: progress(stage, k, len(units))) if progress else None

    sketched = ray_io.run_units(ray, units, sketch_unit, dict(config=cfg, fields=fields, state=str(state.resolve()),
                                                              batch_rows=batch_rows), state=state / "sketch",
                                progress=bar("sketch"))
    n = ray_io.check_rows_seen(inp, sketched, fields, first)
    parts = [np.load(state / f"sketch-{u['i']:05d}.npz") for u in units]
    ex = np.concatenate([p["exact"] for p in parts])
    sig8 = np.concatenate([p["sig8"] for p in parts])
    rank = rank_from_lengths(np.concatenate([p["lengths"] for p in parts])) if config.keep == "longest" else None
    del parts
    t_sketch = time.perf_counter() - t0
    reason, dup_of, dup_ix, sim, stats, times = decide(ex, sig8, config, rank=rank, backend=RayBackend(address))
    del ex, sig8
    # the ids of the rows others duplicate (a row without an id is named by its position, as locally)
    wanted = np.unique(dup_of[reason > 0])
    survivor_ids, offsets, pos = {}, [], 0
    for u, r in zip(units, sketched):
        offsets.append(pos)
        here = wanted[(wanted >= pos) & (wanted < pos + r["rows"])].tolist()
        if here:
            ids = json.loads((state / f"sketch-{u['i']:05d}.ids.json").read_text())
            survivor_ids.update({p: (ids[p - pos] if ids[p - pos] is not None else p) for p in here})
        pos += r["rows"]
    decision = ray.put((reason, dup_of, sim, survivor_ids))
    todo = [dict(u, offset=o) for u, o in zip(units, offsets)]
    written = ray_io.run_units(ray, todo, _write_with_offset, dict(
        decision=decision, id_field=config.id_field, kept_dir=str(out.resolve()), dropped_dir=str(dropped.resolve()),
        batch_rows=batch_rows), state=state / "write", progress=bar("write"))
    ray_schema.conform_shards(ray, units, written, out)  # input files typed apart: one schema for the folder
    times["sketch_s"] = t_sketch
    times["total_s"] = time.perf_counter() - t0
    report = build_report(config, n, reason, dup_of, dup_ix, stats, times, fields)
    report["ray"] = {"address": address, "units": len(units), "format": fmt}
    import shutil

    shutil.rmtree(state, ignore_errors=True)
    return report


def _write_with_offset(unit: dict, **kwargs) -> dict[str, Any]:
    return write_unit(unit, unit["offset"], **kwargs)
