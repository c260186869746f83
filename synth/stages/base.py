"""The stage base: a stage takes records and returns the kept ones; the base keeps the books.

It counts in / kept / dropped by reason, times the stage, and tags every dropped record with the stage
and the reason for `rejected.jsonl`, so filters, dedup and recipe stages never count. `run_stages` /
`run_stages_async` run a list of stages in order over records in memory (synth.stages.streaming runs
them over a stream).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StageReport:
    name: str
    n_in: int = 0
    n_kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    scores: dict[str, Any] = field(default_factory=dict)  # score name -> distribution (filters that score)
    failed_requests: int = 0  # LLM filters: rows whose request failed (rejected or kept unscored per on_error)
    info: dict[str, Any] = field(default_factory=dict)  # a stage's own summary (the student stage's probe)

    def as_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "in": self.n_in, "kept": self.n_kept, "dropped": sum(self.dropped.values()),
               "dropped_by_reason": dict(self.dropped), "seconds": round(self.seconds, 3)}
        if self.scores:
            out["scores"] = self.scores
        if self.failed_requests:
            out["failed_requests"] = self.failed_requests
        if self.info:
            out.update(self.info)
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


async def run_workers(worker: Callable[[], Awaitable[None]], n: int) -> None:
    """`n` copies of `worker` at once (they share a queue of their own); if one fails, the others are
    cancelled and awaited before its error goes on."""
    tasks = [asyncio.create_task(worker()) for _ in range(max(1, n))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
