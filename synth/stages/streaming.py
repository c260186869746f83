"""Stages over a stream: records read a chunk at a time, kept and rejected ones written to spools
(synth.spool), so memory holds one chunk, not the run. Per-record stages run chunk by chunk; one
dedup stage that keeps the first record of each cluster runs across chunks (exact: a key per text;
near: two passes over a spool).
"""

from __future__ import annotations

import time

from synth.stages.base import Stage, StageReport
from synth.stages.dedup import DedupStage, exact_only, text_keys
from synth.stages.filter import FilterStage
from synth.stages.recipe_rejects import RecipeRejectStage
from synth.stages.student import StudentStage


def can_stream(stages: list[Stage]) -> bool:
    """Whether `run_stages_spooled` can run these stages: per-record ones, plus at most one dedup that
    keeps the first record of each cluster (persisted indexes and `keep: longest` need every record
    at once)."""
    kinds = [_stream_kind(s) for s in stages]
    return "no" not in kinds and kinds.count("global") <= 1


def _stream_kind(stage: Stage) -> str:
    if isinstance(stage, DedupStage):
        if stage.decontam:
            return "chunk"
        cfg = stage.config
        return "global" if getattr(cfg, "index", None) is None and cfg.keep == "first" else "no"
    return "chunk" if isinstance(stage, (RecipeRejectStage, FilterStage, StudentStage)) else "no"


async def run_stages_spooled(stages: list[Stage], records, folder, *, llm=None, concurrency: int = 8,
                             chunk_size: int = 10_000):
    """`run_stages_async` over records read `chunk_size` at a time, with kept and rejected records
    written to spools (synth.spool) in `folder`: memory holds one chunk, not the run.

    Every stage runs chunk by chunk; an exact-only dedup stage remembers each text's key (`text_keys`)
    with the id of its first record in a `synth.spool.FirstValues` (on disk in `folder` once large),
    and drops a later record whose key it has met; a near-duplicate dedup takes two passes
    (`_near_dedup_spooled`).
    """
    import numpy as np

    from synth.dedup.text import check_fields, default_fields
    from synth.spool import FirstValues, Spool, chunks

    reports = [StageReport(s.name) for s in stages]
    for stage in stages:
        if isinstance(stage, (FilterStage, StudentStage)):
            stage._acc = {}
    rejected = Spool(folder / "rejected.jsonl")
    g = next((i for i, s in enumerate(stages) if _stream_kind(s) == "global"), len(stages))

    async def through(first: int, part: list[Stage], chunk: list[dict]) -> list[dict]:
        for j, stage in enumerate(part):
            chunk, dropped, rep = await stage.arun(chunk, llm=llm, concurrency=concurrency)
            _merge(reports[first + j], rep)
            rejected.extend(dropped)
        return chunk

    kept_spool = Spool(folder / "kept.jsonl")
    if g < len(stages) and not exact_only(stages[g].config):
        async def kept_chunks():
            for chunk in chunks(records, chunk_size):
                yield await through(0, stages[:g], chunk)

        async def after(survivors: list[dict]) -> None:
            kept_spool.extend(await through(g + 1, stages[g + 1:], survivors))

        await _near_dedup_spooled(stages[g], reports[g], kept_chunks(), Spool(folder / "before-dedup.jsonl"),
                                  rejected, after, chunk_size)
        return kept_spool, rejected, reports
    fields, position, missing = None, 0, object()
    with FirstValues(folder) as seen:
        for chunk in chunks(records, chunk_size):
            kept = await through(0, stages[:g], chunk)
            if g < len(stages) and kept:
                start = time.perf_counter()
                report, name, cfg = reports[g], stages[g].name, stages[g].config
                fields = fields or list(cfg.fields or default_fields(kept, cfg.id_field))
                check_fields(kept, fields)
                keys = text_keys(kept, fields).view(np.int64).tolist()
                earlier = seen.known(keys)
                survivors = []
                for record, key in zip(kept, keys):
                    original = earlier.get(key, missing)
                    if original is missing:  # the first record of its text: kept, and remembered
                        earlier[key] = record.get(cfg.id_field, position)
                        seen.put(key, earlier[key])
                        survivors.append(record)
                    else:
                        report.dropped["exact_duplicate"] += 1
                        rejected.append({"stage": name, "reason": "exact_duplicate", "duplicate_of": original,
                                         "duplicate_in": "input", "similarity": 1.0, "record": record})
                    position += 1
                report.n_in += len(kept)
                report.n_kept += len(survivors)
                report.seconds += time.perf_counter() - start
                kept = await through(g + 1, stages[g + 1:], survivors)
            kept_spool.extend(kept)
    return kept_spool, rejected, reports



async def _near_dedup_spooled(stage: DedupStage, report: StageReport, kept_chunks, before, rejected,
                              after, chunk_size: int):
    """Near-duplicate dedup over a stream in two passes, deciding exactly as `dedup_rows` does:
    records are written to the `before` spool while their exact hashes and one-byte MinHash
    signatures are kept (8 + num_perm bytes a record, not the record), `synth.dedup.core.decide`
    clusters them once, then a second pass over the spool drops the duplicates (a cluster's survivor
    is its first record, so it is met before its copies) and sends the rest on through `after`."""
    import numpy as np

    from synth.dedup.core import LocalBackend, decide
    from synth.dedup.report import build_report
    from synth.dedup.text import check_fields, default_fields, row_id, row_text
    from synth.spool import chunks

    cfg, backend = stage.config, LocalBackend()
    start, fields, hashes, signatures = time.perf_counter(), None, [], []
    async for kept in kept_chunks:
        if kept:
            fields = fields or list(cfg.fields or default_fields(kept, cfg.id_field))
            check_fields(kept, fields)
            t = time.perf_counter()
            ex, sig8 = backend.sketch([row_text(r, fields) for r in kept], cfg, compact=True)
            hashes.append(ex)
            signatures.append(sig8)
            report.seconds += time.perf_counter() - t
        before.extend(kept)
    t = time.perf_counter()
    ex = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
    sig8 = np.concatenate(signatures) if signatures else np.zeros((0, cfg.num_perm), np.uint8)
    del hashes, signatures
    reason, dup_of, dup_ix, sim, stats, times = decide(ex, sig8, cfg, backend=backend)
    del sig8
    times["total_s"] = time.perf_counter() - start
    stage.report = build_report(cfg, len(ex), reason, dup_of, dup_ix, stats, times, fields or [])
    needed = set(dup_of[reason > 0].tolist())  # survivors with copies: their ids name the copies
    ids: dict[int, object] = {}
    report.seconds += time.perf_counter() - t
    position = 0
    for chunk in chunks(before, chunk_size):
        t = time.perf_counter()
        survivors = []
        for record in chunk:
            if position in needed:
                ids[position] = row_id(record, position, cfg.id_field)
            why = int(reason[position])
            if why == 0:
                survivors.append(record)
            else:
                name = "exact_duplicate" if why == 1 else "near_duplicate"
                report.dropped[name] += 1
                rejected.append({"stage": stage.name, "reason": name, "duplicate_of": ids[int(dup_of[position])],
                                 "duplicate_in": "input", "similarity": round(float(sim[position]), 4),
                                 "record": record})
            position += 1
        report.n_in += len(chunk)
        report.n_kept += len(survivors)
        report.seconds += time.perf_counter() - t
        await after(survivors)


def _merge(total: StageReport, part: StageReport) -> None:
    total.n_in += part.n_in
    total.n_kept += part.n_kept
    total.dropped.update(part.dropped)
    total.seconds += part.seconds
    total.failed_requests += part.failed_requests
    if part.scores:
        total.scores = part.scores  # FilterStage's and StudentStage's summaries already cover every chunk so far
    if part.info:
        total.info = part.info  # so does StudentStage's
