"""Stages after generation. The stage base keeps the books so filters and dedup never count.

Each stage takes records and returns the kept ones; the base counts in / kept / dropped by reason,
times the stage, and tags every dropped record with the stage and the reason for `rejected.jsonl`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from synth.errors import ConfigError, InputError, RequestFailed
from synth.filter import Filter, Verdict, as_verdict


@dataclass
class StageReport:
    name: str
    n_in: int = 0
    n_kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    scores: dict[str, Any] = field(default_factory=dict)  # score name -> distribution (filters that score)
    failed_requests: int = 0  # LLM filters: rows whose request failed (rejected or kept unscored per on_error)

    def as_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "in": self.n_in, "kept": self.n_kept, "dropped": sum(self.dropped.values()),
               "dropped_by_reason": dict(self.dropped), "seconds": round(self.seconds, 3)}
        if self.scores:
            out["scores"] = self.scores
        if self.failed_requests:
            out["failed_requests"] = self.failed_requests
        return out


class Stage:
    """Subclass and implement `apply(records) -> (kept, [(record, reason, extra), ...])`."""

    name = "stage"

    def apply(self, records: list[dict]) -> tuple[list[dict], list[tuple[dict, str, dict]]]:
        raise NotImplementedError

    def run(self, records: list[dict]) -> tuple[list[dict], list[dict], StageReport]:
        start = time.perf_counter()
        kept, dropped = self.apply(records)
        return self._book(records, kept, dropped, time.perf_counter() - start)

    async def arun(self, records: list[dict], *, llm=None, concurrency: int = 8,
                   progress=None) -> tuple[list[dict], list[dict], StageReport]:
        """The same as `run`; stages that ask a model (LLM filters) override it."""
        return self.run(records)

    def _book(self, records, kept, dropped, seconds) -> tuple[list[dict], list[dict], StageReport]:
        report = StageReport(self.name, n_in=len(records), n_kept=len(kept), seconds=seconds)
        rejected = []
        for record, reason, extra in dropped:
            report.dropped[reason] += 1
            rejected.append({"stage": self.name, "reason": reason, **extra, "record": record})
        assert len(kept) + len(dropped) == len(records), f"stage {self.name} lost or invented records"
        return kept, rejected, report


class FilterStage(Stage):
    """Runs one Filter over every record; keeps the scores it computes on each record (`record["scores"]`)
    and their distribution in the stage report."""

    def __init__(self, flt: Filter) -> None:
        self.filter = flt
        self.name = f"filter:{flt.name}"

    def apply(self, records):
        if getattr(self.filter, "needs_llm", False):
            raise ConfigError(f"filter {self.filter.name!r} asks a model: run the stages with run_stages_async")
        name = self.filter.name
        return self._split(records, [as_verdict(self.filter.filter(r), name) for r in records])

    def run(self, records):
        start = time.perf_counter()
        kept, dropped = self.apply(records)
        kept, rejected, report = self._book(records, kept, dropped, time.perf_counter() - start)
        report.scores = self._summaries
        return kept, rejected, report

    async def arun(self, records, *, llm=None, concurrency: int = 8, progress=None):
        if not getattr(self.filter, "needs_llm", False):
            return self.run(records)
        if llm is None:
            raise ConfigError(f"filter {self.filter.name!r} asks a model, and none was given")
        start = time.perf_counter()
        verdicts: list[Verdict | None] = [None] * len(records)
        queue = list(range(len(records) - 1, -1, -1))
        done, failed = [0], [0]

        async def worker() -> None:
            while queue:
                i = queue.pop()
                try:
                    verdicts[i] = as_verdict(await self.filter.afilter(records[i], llm), self.filter.name)
                except RequestFailed as exc:  # this row's request, not the stage: the other rows go on
                    verdicts[i] = self._failed_request(exc)
                    failed[0] += 1
                done[0] += 1
                if progress:
                    progress(self.name, done[0], len(records))

        tasks = [asyncio.create_task(worker()) for _ in range(max(1, min(concurrency, len(records))))]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        kept, dropped = self._split(records, verdicts)  # type: ignore[arg-type]
        kept, rejected, report = self._book(records, kept, dropped, time.perf_counter() - start)
        report.scores = self._summaries
        report.failed_requests = failed[0]
        return kept, rejected, report

    def _failed_request(self, exc: RequestFailed) -> Verdict:
        """A request that failed after its retries (a 400 such as a context overflow fails on every re-run
        too) is that row's outcome: `<filter>_failed` with the error, or kept unscored under
        `on_error: keep`; a server that is down (EngineError) still stops the run."""
        if getattr(getattr(self.filter, "options", None), "on_error", "reject") == "keep":
            return Verdict(True)
        return Verdict(False, f"{self.filter.name.replace('-', '_')}_failed", detail=str(exc)[:300])

    def _split(self, records: list[dict], verdicts: list[Verdict]):
        names = tuple(getattr(self.filter, "score_names", ()))
        # free text (a judge's rationale) stays on its record; the summary sees only whether it is there,
        # so a streamed stage holds a pointer per record, not every rationale of the run
        text = set(getattr(self.filter, "text_scores", ()))
        values: dict[str, list] = {n: [] for n in names}
        kept, dropped = [], []
        for record, verdict in zip(records, verdicts):
            if names or verdict.scores:
                record = with_scores(record, {**dict.fromkeys(names), **verdict.scores})
                for n in names:
                    value = record["scores"][n]
                    values[n].append((True if value is not None else None) if n in text else value)
            if verdict.keep:
                kept.append(record)
            else:
                dropped.append((record, verdict.reason, {"detail": verdict.detail} if verdict.detail else {}))
        acc = getattr(self, "_acc", None)
        if acc is not None:  # streaming: the distribution covers every chunk so far
            for n, vals in values.items():
                acc.setdefault(n, []).extend(vals)
            values = acc
        self._summaries = {}
        for n, vals in values.items():
            custom = self.filter.summarize(n, vals) if hasattr(self.filter, "summarize") else None
            if custom is None and n in text:
                custom = {"n": sum(v is not None for v in vals), "missing": sum(v is None for v in vals)}
            self._summaries[n] = custom if custom is not None else summarize_scores(vals)
        return kept, dropped


def with_scores(record: dict, scores: dict[str, Any]) -> dict:
    """A copy of `record` with `scores` merged into its `scores` mapping."""
    old = record.get("scores")
    if old is not None and not isinstance(old, dict):
        raise InputError(f"a row already has a 'scores' field that is not a mapping ({type(old).__name__}); "
                         "rename that column so filter scores can be kept")
    return {**record, "scores": {**(old or {}), **scores}}


def summarize_scores(values: list[Any]) -> dict[str, Any]:
    """Numbers: n, mean, min, quartiles, max; anything else: counts of the 20 commonest values.

    >>> summarize_scores([1, 2, 3, 4, None])
    {'n': 4, 'missing': 1, 'mean': 2.5, 'min': 1, 'p25': 1.75, 'p50': 2.5, 'p75': 3.25, 'max': 4}
    >>> summarize_scores(["zh", "en", "zh"])
    {'n': 3, 'missing': 0, 'counts': {'zh': 2, 'en': 1}}
    """
    present = [v for v in values if v is not None]
    out: dict[str, Any] = {"n": len(present), "missing": len(values) - len(present)}
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        ordered = sorted(present)

        def quantile(q: float) -> float:
            pos = q * (len(ordered) - 1)
            lo = int(pos)
            hi = min(lo + 1, len(ordered) - 1)
            return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 4)

        out.update(mean=round(sum(ordered) / len(ordered), 4), min=ordered[0], p25=quantile(0.25),
                   p50=quantile(0.5), p75=quantile(0.75), max=ordered[-1])
    elif present:
        out["counts"] = dict(Counter(str(v) for v in present).most_common(20))
    return out


class RecipeRejectStage(Stage):
    """Records the recipe itself rejected (`"rejected": "<reason>"`, e.g. an unsupported answer)."""

    def __init__(self, recipe: str) -> None:
        self.name = f"recipe:{recipe}"

    def apply(self, records):
        kept, dropped = [], []
        for record in records:
            reason = record.get("rejected")
            if isinstance(reason, str) and reason:
                dropped.append((record, reason, {}))
            elif "rejected" in record and (reason is None or isinstance(reason, str)):
                kept.append({k: v for k, v in record.items() if k != "rejected"})
            else:  # another meaning of the key (reasoning keeps wrong solutions there as DPO partners)
                kept.append(record)
        return kept, dropped


class DedupStage(Stage):
    """Exact + MinHash near-duplicate removal, or (decontam=True) benchmark decontamination; see synth.dedup."""

    def __init__(self, config, *, decontam: bool = False) -> None:
        self.config = config
        self.decontam = decontam
        self.name = "decontam" if decontam else "dedup"
        self.benchmarks = None
        if decontam:  # read now: a bad benchmark file stops a run before its requests, and streamed chunks share it
            from synth.dedup.decontam import Benchmarks

            self.benchmarks = Benchmarks.load(config)

    def apply(self, records):
        from synth.dedup import decontaminate, dedup_rows

        if not self.decontam and _exact_only(self.config):  # hashes suffice, no MinHash signatures to compute
            return exact_dedup(records, self.config, self.name)
        result = decontaminate(records, self.config, self.benchmarks) if self.decontam else \
            dedup_rows(records, self.config)
        self.report = result.report
        by_id = {r["id"]: r for r in records if isinstance(r.get("id"), str)}
        return result.kept, [split_dropped(row, by_id.get(row.get("id"))) for row in result.dropped]


# what synth.dedup adds to a dropped row (dedup: duplicate_*, similarity; decontam: benchmark_*, shared_ngrams)
_DROP_KEYS = ("reason", "duplicate_of", "duplicate_in", "similarity", "benchmark", "benchmark_row",
              "benchmark_text", "shared_ngrams", "matched_ngram", "match")


def exact_dedup(records: list[dict], config, name: str = "dedup") -> tuple[list[dict], list[tuple[dict, str, dict]]]:
    """Exact duplicates only (`dedup: {near: false}`, the default): synth.dedup's normalised-text hash,
    the first record of each text kept; what `dedup_rows` decides for such a config, without the
    MinHash signatures it computes for near-duplicate search."""
    from synth.dedup.exact import first_occurrence
    from synth.dedup.text import check_fields, default_fields

    if not records:
        return [], []
    fields = list(config.fields or default_fields(records, config.id_field))
    check_fields(records, fields)
    first = first_occurrence(text_keys(records, fields))
    kept, dropped = [], []
    for i, record in enumerate(records):
        j = int(first[i])
        if j == i:
            kept.append(record)
        else:
            dropped.append((record, "exact_duplicate", {"duplicate_of": records[j].get(config.id_field, j),
                                                         "duplicate_in": "input", "similarity": 1.0}))
    return kept, dropped


def text_keys(records: list[dict], fields: list[str]):
    """One 64-bit key per record for exact dedup: xxh64 of synth.dedup's normalised token sequence, so
    two records get one key exactly when synth.dedup calls them exact duplicates (its own hash caches
    every distinct token, which grows with a large run; this keeps nothing).

    >>> a, b, c = text_keys([{"t": "Hello, World"}, {"t": "hello world!"}, {"t": "world hello"}], ["t"])
    >>> bool(a == b), bool(a == c)
    (True, False)
    """
    import numpy as np
    import xxhash

    from synth.dedup.normalize import tokens
    from synth.dedup.text import row_text

    keys = (xxhash.xxh64_intdigest("\x1f".join(tokens(row_text(r, fields))).encode()) for r in records)
    return np.fromiter(keys, dtype=np.uint64, count=len(records))


def split_dropped(row: dict, original: dict | None = None) -> tuple[dict, str, dict]:
    """A dropped row from synth.dedup carries its bookkeeping keys inline; move them aside, so the record
    in rejected.jsonl is the record as it was. With the `original` record, every key dedup added or
    changed is bookkeeping; without it, the keys synth.dedup is known to add.

    >>> split_dropped({"id": "a", "text": "t", "reason": "exact_duplicate", "duplicate_in": "input"},
    ...               {"id": "a", "text": "t"})
    ({'id': 'a', 'text': 't'}, 'exact_duplicate', {'duplicate_in': 'input'})
    """
    if original is not None:
        extra = {k: v for k, v in row.items() if k not in original or v is not original[k]}
        record = dict(original)
    else:
        record = dict(row)
        extra = {k: record.pop(k) for k in _DROP_KEYS if k in record}
    return record, extra.pop("reason", "dropped"), extra


def run_stages(stages: list[Stage], records: list[dict]) -> tuple[list[dict], list[dict], list[StageReport]]:
    """Run the stages in order (stages that ask a model need run_stages_async)."""
    rejected: list[dict] = []
    reports = []
    for stage in stages:
        records, dropped, report = stage.run(records)
        rejected.extend(dropped)
        reports.append(report)
    return records, rejected, reports


async def run_stages_async(stages: list[Stage], records: list[dict], *, llm=None, concurrency: int = 8,
                           progress=None) -> tuple[list[dict], list[dict], list[StageReport]]:
    """Run the stages in order; LLM filters ask `llm` (the run's cached LLM) for `concurrency` records at once."""
    rejected: list[dict] = []
    reports = []
    for stage in stages:
        records, dropped, report = await stage.arun(records, llm=llm, concurrency=concurrency, progress=progress)
        rejected.extend(dropped)
        reports.append(report)
    return records, rejected, reports


# -- streaming -----------------------------------------------------------------------------------------
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
    return "chunk" if isinstance(stage, (RecipeRejectStage, FilterStage)) else "no"


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
        if isinstance(stage, FilterStage):
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
    if g < len(stages) and not _exact_only(stages[g].config):
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


def _exact_only(cfg) -> bool:
    return not cfg.near and getattr(cfg, "index", None) is None and cfg.keep == "first"


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
        total.scores = part.scores  # FilterStage's summaries already cover every chunk so far
