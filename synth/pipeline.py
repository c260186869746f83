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

from synth.errors import ConfigError, InputError
from synth.filter import Filter, Verdict, as_verdict


@dataclass
class StageReport:
    name: str
    n_in: int = 0
    n_kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    scores: dict[str, Any] = field(default_factory=dict)  # score name -> distribution (filters that score)

    def as_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "in": self.n_in, "kept": self.n_kept, "dropped": sum(self.dropped.values()),
               "dropped_by_reason": dict(self.dropped), "seconds": round(self.seconds, 3)}
        if self.scores:
            out["scores"] = self.scores
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
        done = [0]

        async def worker() -> None:
            while queue:
                i = queue.pop()
                verdicts[i] = as_verdict(await self.filter.afilter(records[i], llm), self.filter.name)
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
        return kept, rejected, report

    def _split(self, records: list[dict], verdicts: list[Verdict]):
        names = tuple(getattr(self.filter, "score_names", ()))
        values: dict[str, list] = {n: [] for n in names}
        kept, dropped = [], []
        for record, verdict in zip(records, verdicts):
            if names or verdict.scores:
                record = with_scores(record, {**dict.fromkeys(names), **verdict.scores})
                for n in names:
                    values[n].append(record["scores"][n])
            if verdict.keep:
                kept.append(record)
            else:
                dropped.append((record, verdict.reason, {"detail": verdict.detail} if verdict.detail else {}))
        self._summaries = {}
        for n, vals in values.items():
            custom = self.filter.summarize(n, vals) if hasattr(self.filter, "summarize") else None
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

    def apply(self, records):
        from synth.dedup import decontaminate, dedup_rows

        result = (decontaminate if self.decontam else dedup_rows)(records, self.config)
        self.report = result.report
        return result.kept, [split_dropped(row) for row in result.dropped]


_DROP_KEYS = ("reason", "duplicate_of", "similarity", "benchmark", "benchmark_row", "matched_ngram", "match")


def split_dropped(row: dict) -> tuple[dict, str, dict]:
    """A dropped row from synth.dedup carries its bookkeeping keys inline; move them aside."""
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
