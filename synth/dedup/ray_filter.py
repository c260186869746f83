"""`synth filter --ray ADDRESS`: the rule filters over sharded input as a Ray Data job.

A filter is a pure function of a row (synth.filter), so each unit of the input (synth.dedup.ray_io)
goes through the same `FilterStage`s as on one machine, in its own task, and writes its kept rows to
OUT/part-NNNNN.<input format> and its rejected rows to REJECTED/part-NNNNN.jsonl. The task returns
its books (rows in, kept, dropped by reason per filter) and its bounded score summaries
(synth.score_summary); the driver adds them up into the same report the local command writes, and
gives the Parquet shards one schema (synth.dedup.ray_schema).

Filters that ask a model are refused: their requests belong to one server and one request cache
(run them without --ray).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from synth.dedup import ray_io, ray_schema
from synth.errors import ConfigError, InputError

ADDED = ("scores",)  # the column FilterStage adds (or extends): typed once for all shards (ray_schema)


def filter_unit(unit: dict, specs: list, field: str | None, question_field: str | None, kept_dir: str,
                rejected_dir: str, batch_rows: int) -> dict[str, Any]:
    """One unit through the filters (runs in a Ray task)."""
    from synth.filter import check_rows, make_filter
    from synth.score_summary import Summaries
    from synth.stages import FilterStage, run_stages
    from synth.stages.base import StageReport

    stages = []
    for name, options in specs:
        flt = make_filter(name, options)
        flt.answer_field, flt.question_field = field, question_field
        stage = FilterStage(flt)
        stage._acc = Summaries()
        stage._acc.salt = unit["i"] + 1  # each unit's sample its own, so merged samples stay random
        stages.append(stage)
    totals = [StageReport(s.name) for s in stages]
    kept_all, rejected_all, rows = [], [], 0
    where = f"{unit['path']} ({'rows from byte' if unit['fmt'] == 'jsonl' else 'row groups from'} {unit['start']})"
    for batch in ray_io.read_unit(unit, batch_rows):
        check_rows(batch, rows + 1, where, field)
        rows += len(batch)
        kept, rejected, parts = run_stages(stages, batch)
        for total, part in zip(totals, parts):
            total.n_in += part.n_in
            total.n_kept += part.n_kept
            total.dropped.update(part.dropped)
            total.seconds += part.seconds
        kept_all += kept
        rejected_all += rejected
    schema = ray_io.write_unit_shards(unit, kept_dir, kept_all, rejected_dir, rejected_all, added=ADDED)
    return {"unit": unit["i"], "rows": rows, "kept": len(kept_all), "rejected": len(rejected_all), "schema": schema,
            "reports": [t.as_dict() for t in totals],
            "scores": [{n: v.state() for n, v in s._acc.items()} for s in stages]}


def filter_on_ray(address: str, inp: Path, out: Path, rejected: Path, specs: list, built: list, *,
                  field: str | None, question_field: str | None, batch_rows: int, state: Path,
                  progress=None) -> dict[str, Any]:
    """Run the filters `built` (from `specs`) over `inp` on Ray; returns rows in/out/rejected and the
    stage reports, as the local command's."""
    from synth.score_summary import ScoreSummary, summarize
    from synth.stages.base import StageReport

    asks = [f.name for f in built if getattr(f, "needs_llm", False)]
    if asks:
        raise ConfigError(f"filter {asks[0]!r} asks a model: --ray runs rule filters only; run it without --ray")
    files, fmt = ray_io.shard_files(inp)
    units = ray_io.work_units(files, fmt)
    ray = ray_io.connect(address)  # a missing Ray or cluster stops here, before anything is written
    ray_io.prepare_outputs(state, ray_io.state_key(files, specs=specs, field=field, question_field=question_field),
                           [out, rejected], files)
    results = ray_io.run_units(ray, units, filter_unit, dict(
        specs=specs, field=field, question_field=question_field, kept_dir=str(out.resolve()),
        rejected_dir=str(rejected.resolve()), batch_rows=batch_rows), state=state,
        progress=(lambda k: progress("filter", k, len(units))) if progress else None)
    rows = sum(r["rows"] for r in results)
    if rows == 0:
        raise InputError(f"{inp} has no rows")
    reports = []
    for j, flt in enumerate(built):
        rep = StageReport(f"filter:{flt.name}")
        accs: dict[str, ScoreSummary] = {}
        for r in results:
            part = r["reports"][j]
            rep.n_in += part["in"]
            rep.n_kept += part["kept"]
            rep.dropped.update(part["dropped_by_reason"])
            rep.seconds += part["seconds"]
            for name, st in r["scores"][j].items():
                accs.setdefault(name, ScoreSummary(-1)).merge(ScoreSummary.from_state(st))
        text = set(getattr(flt, "text_scores", ()))
        rep.scores = {name: summarize(flt, name, acc, name in text) for name, acc in accs.items()}
        reports.append(rep.as_dict())
    ray_schema.conform_shards(ray, units, results, out)
    shutil.rmtree(state, ignore_errors=True)
    return {"rows_in": rows, "rows_out": sum(r["kept"] for r in results),
            "rows_rejected": sum(r["rejected"] for r in results), "stages": reports, "units": len(units),
            "format": fmt}
