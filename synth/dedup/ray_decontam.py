"""`synth decontam --ray ADDRESS`: rows checked against the benchmarks' n-grams as a Ray Data job.

The benchmark n-gram table is small (a few MB for GSM8K / MATH test sets), so the driver builds it
once (`Benchmarks.load`) and `ray.put`s it; each task of a unit (synth.dedup.ray_io) gets it from the
object store once per worker process, checks its rows with the same `split_contaminated` as the local
command, and writes OUT/part-NNNNN.<input format> and CONTAMINATED/part-NNNNN.jsonl; once every unit
is done, the Parquet shards get one schema (synth.dedup.ray_schema).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synth.dedup import ray_io, ray_schema
from synth.dedup.text import _get

_BENCHMARKS: dict[str, Any] = {}  # per worker process: the table, fetched once


def decontam_unit(unit: dict, benchmarks, fields: list[str], kept_dir: str, dropped_dir: str,
                  batch_rows: int) -> dict[str, Any]:
    """One unit's rows split into clean and contaminated (runs in a Ray task)."""
    import ray

    from synth.dedup.decontam import split_contaminated

    key = benchmarks.hex()
    if key not in _BENCHMARKS:
        _BENCHMARKS.clear()
        _BENCHMARKS[key] = ray.get(benchmarks)
    bench = _BENCHMARKS[key]
    kept_all, dropped_all, hits, rows = [], [], {}, 0
    present = dict.fromkeys(fields, 0)
    for batch in ray_io.read_unit(unit, batch_rows):
        rows += len(batch)
        for f in fields:
            present[f] += sum(_get(r, f) is not None for r in batch)
        kept, dropped, found = split_contaminated(batch, fields, bench)
        kept_all += kept
        dropped_all += dropped
        for name, k in found.items():
            hits[name] = hits.get(name, 0) + k
    schema = ray_io.write_unit_shards(unit, kept_dir, kept_all, dropped_dir, dropped_all)
    return {"unit": unit["i"], "rows": rows, "schema": schema, "kept": len(kept_all), "dropped": len(dropped_all), "hits": hits,
            "present": present, "shown": dropped_all[:10]}


def decontam_on_ray(address: str, inp: Path, out: Path, dropped: Path, config, benchmarks, *, state: Path,
                    batch_rows: int = 10_000, progress=None) -> tuple[dict[str, Any], list[dict]]:
    """Decontaminate `inp` on Ray; returns the local command's report and the first contaminated rows."""
    files, fmt = ray_io.shard_files(inp)
    units = ray_io.work_units(files, fmt)
    fields, first = ray_io.default_fields(inp, units, config)  # the first row decides them, as locally
    ray = ray_io.connect(address)
    ray_io.prepare_outputs(state, ray_io.state_key(files, config=config.model_dump(), fields=fields), [out, dropped],
                           files)
    ref = ray.put(benchmarks)
    results = ray_io.run_units(ray, units, decontam_unit, dict(
        benchmarks=ref, fields=fields, kept_dir=str(out.resolve()), dropped_dir=str(dropped.resolve()),
        batch_rows=batch_rows), state=state, progress=(lambda k: progress("decontam", k, len(units))) if progress else None)
    rows = ray_io.check_rows_seen(inp, results, fields, first)
    hits: dict[str, int] = {}
    for r in results:
        for name, k in r["hits"].items():
            hits[name] = hits.get(name, 0) + k
    ray_schema.conform_shards(ray, units, results, out)  # input files typed apart: one schema for the folder
    import shutil

    shutil.rmtree(state, ignore_errors=True)
    report = {"rows_in": rows, "rows_kept": sum(r["kept"] for r in results),
              "dropped": sum(r["dropped"] for r in results), "ngram": config.ngram, "benchmarks": config.benchmarks,
              "benchmark_rows": benchmarks.rows, "hits_by_benchmark": hits, "fields": fields,
              "ray": {"address": address, "units": len(units), "format": fmt}}
    return report, [d for r in results for d in r["shown"]][:10]
