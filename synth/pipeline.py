"""Stages after generation. The stage base keeps the books so filters and dedup never count.

Each stage takes records and returns the kept ones; the base counts in / kept / dropped by reason,
times the stage, and tags every dropped record with the stage and the reason for `rejected.jsonl`.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from synth.filter import Filter


@dataclass
class StageReport:
    name: str
    n_in: int = 0
    n_kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "in": self.n_in, "kept": self.n_kept, "dropped": sum(self.dropped.values()),
                "dropped_by_reason": dict(self.dropped), "seconds": round(self.seconds, 3)}


class Stage:
    """Subclass and implement `apply(records) -> (kept, [(record, reason, extra), ...])`."""

    name = "stage"

    def apply(self, records: list[dict]) -> tuple[list[dict], list[tuple[dict, str, dict]]]:
        raise NotImplementedError

    def run(self, records: list[dict]) -> tuple[list[dict], list[dict], StageReport]:
        report = StageReport(self.name, n_in=len(records))
        start = time.perf_counter()
        kept, dropped = self.apply(records)
        report.seconds = time.perf_counter() - start
        report.n_kept = len(kept)
        rejected = []
        for record, reason, extra in dropped:
            report.dropped[reason] += 1
            rejected.append({"stage": self.name, "reason": reason, **extra, "record": record})
        assert len(kept) + len(dropped) == len(records), f"stage {self.name} lost or invented records"
        return kept, rejected, report


class FilterStage(Stage):
    """Runs one Filter over every record."""

    def __init__(self, flt: Filter) -> None:
        self.filter = flt
        self.name = f"filter:{flt.name}"

    def apply(self, records):
        kept, dropped = [], []
        for record in records:
            verdict = self.filter.filter(record)
            keep, reason = (verdict, None) if isinstance(verdict, bool) else verdict
            if keep:
                kept.append(record)
            else:
                dropped.append((record, reason or f"{self.filter.name}_rejected", {}))
        return kept, dropped


class RecipeRejectStage(Stage):
    """Records the recipe itself rejected (`"rejected": "<reason>"`, e.g. an unsupported answer)."""

    def __init__(self, recipe: str) -> None:
        self.name = f"recipe:{recipe}"

    def apply(self, records):
        kept, dropped = [], []
        for record in records:
            reason = record.get("rejected")
            if reason:
                dropped.append((record, str(reason), {}))
            else:
                kept.append({k: v for k, v in record.items() if k != "rejected"} if "rejected" in record else record)
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
    rejected: list[dict] = []
    reports = []
    for stage in stages:
        records, dropped, report = stage.run(records)
        rejected.extend(dropped)
        reports.append(report)
    return records, rejected, reports
