"""`FilterStage`: one Filter (synth.filter) over every record, the verdicts turned into kept / dropped
records with reasons, and the scores a filter computes kept on each record and summarised for the
stage report. Filters that ask a model run concurrently through the run's LLM of their engine role
(the config's `engine:` on the filter; the default engine without one).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from synth.errors import ConfigError, InputError, RequestFailed
from synth.filter import Decision, Filter, as_decision
from synth.stages.base import Stage, run_workers


class FilterStage(Stage):
    """Runs one Filter over every record; keeps the scores it computes on each record (`record["scores"]`)
    and their distribution in the stage report."""

    def __init__(self, flt: Filter, role: str | None = None) -> None:
        self.filter = flt
        self.role = role  # the engine role an LLM filter asks (synth.llm.LLM.role); None: the default engine
        self.name = f"filter:{flt.name}"

    def apply(self, records):
        if getattr(self.filter, "needs_llm", False):
            raise ConfigError(f"filter {self.filter.name!r} asks a model: run the stages with run_stages_async")
        name = self.filter.name
        return self._split(records, [as_decision(self.filter.filter(r), name) for r in records])

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
        if self.role:
            llm = llm.role(self.role)
        start = time.perf_counter()
        verdicts: list[Decision | None] = [None] * len(records)
        queue = list(range(len(records) - 1, -1, -1))
        done, failed = [0], [0]

        async def worker() -> None:
            while queue:
                i = queue.pop()
                try:
                    verdicts[i] = as_decision(await self.filter.afilter(records[i], llm), self.filter.name)
                except RequestFailed as exc:  # this row's request, not the stage: the other rows go on
                    verdicts[i] = self._failed_request(exc)
                    failed[0] += 1
                done[0] += 1
                if progress:
                    progress(self.name, done[0], len(records))

        await run_workers(worker, min(concurrency, len(records)))
        kept, dropped = self._split(records, verdicts)  # type: ignore[arg-type]
        kept, rejected, report = self._book(records, kept, dropped, time.perf_counter() - start)
        report.scores = self._summaries
        report.failed_requests = failed[0]
        return kept, rejected, report

    def _failed_request(self, exc: RequestFailed) -> Decision:
        """A request that failed after its retries (a 400 such as a context overflow fails on every re-run
        too) is that row's outcome: `<filter>_failed` with the error, or kept unscored under
        `on_error: keep`; a server that is down (EngineError) still stops the run."""
        if getattr(getattr(self.filter, "options", None), "on_error", "reject") == "keep":
            return Decision(True)
        return Decision(False, f"{self.filter.name.replace('-', '_')}_failed", detail=str(exc)[:300])

    def _split(self, records: list[dict], verdicts: list[Decision]):
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
        if acc is not None:  # streaming: bounded summaries of every chunk so far (synth.score_summary)
            from synth.score_summary import add_and_summarize

            self._summaries = add_and_summarize(acc, values, self.filter, text)
            return kept, dropped
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

