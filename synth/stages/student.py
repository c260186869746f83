"""`StudentStage`: keep the rows the model being trained (the `student` engine role) solves sometimes.

For every record with a checkable answer (a question and a reference answer: reasoning and
problem-augment records, verifiable domain questions) the stage samples up to `k` answers from the
student, checks each against the reference with synth.verify, and writes
`student: {model, k, sampled, correct, pass_rate, early_stop}` on the record. Rows whose pass rate is
in the band are kept; the others are dropped as `student_solved` (above the band: too easy) or
`student_never_solves` (below it: too hard).

Pass-rate filtering after DAPO's dynamic sampling and Skywork-OR1 (RL: keep 0 < p < 1, the questions
that carry a gradient) and OpenThoughts' difficulty ablations (distillation: keep what the student
mostly fails, p <= 0.5). Presets: `rl` = (0, 1) open, `sft` = [0, 0.5]; or `min_pass` / `max_pass`
(both inclusive).

Cost: answers are sampled in rounds of `round_size` (one request with `n` where the server takes it,
synth.engines.openai_http; one per answer otherwise), and a row stops once its band is decided: after
`m` of `k` samples with `c` correct the final rate lies in [c/k, (c + k - m)/k]; when that interval is
wholly inside, above or below the band no further sample can change the decision (RL: the first
correct and the first wrong answer decide it). `pass_rate` is then c/m over the samples drawn, and
`sampled` says how many. Sample i of a question always has the same seed whatever the round size, so
every answer is cached in the run's store and a re-run asks nothing twice. Records with the same
question and reference share one probe.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from synth.errors import ConfigError, RequestFailed
from synth.stages.base import Stage, run_workers

QUESTION_FIELDS = ("problem", "question", "instruction")
ANSWER_FIELDS = ("reference_answer", "answer", "gold_answer", "gold")
PROMPT = {"en": "{question}\n\nPlease reason step by step, and put your final answer within \\boxed{{}}.",
          "zh": "{question}\n\n请逐步推理，并把最终答案写在 \\boxed{{}} 中。"}
PRESETS = {"rl": (0.0, 1.0, True, True), "sft": (0.0, 0.5, False, False)}
BINS = ("0", "0-0.25", "0.25-0.5", "0.5-0.75", "0.75-1", "1")


class StudentOptions(BaseModel):
    """The `student:` key of a run config."""

    model_config = ConfigDict(extra="forbid")

    engine: str = Field("student", description="the engine role answering (a name under engines:)")
    k: int = Field(8, ge=1, le=256, description="most answers sampled per question")
    preset: Literal["rl", "sft"] | None = Field(None, description="rl: keep 0 < p < 1; sft: keep p <= 0.5")
    min_pass: float | None = Field(None, ge=0, le=1, description="keep pass rates >= this")
    max_pass: float | None = Field(None, ge=0, le=1, description="keep pass rates <= this")
    round_size: int | None = Field(None, ge=1, description="answers asked per round (default k/4, at least 1)")
    early_stop: bool = True
    temperature: float = Field(1.0, ge=0, le=2, description="the student's sampling temperature")
    max_tokens: int | None = Field(None, ge=1, description="tokens per answer (default: the run's)")
    question_field: str | None = Field(None, description="default: the first of problem, question, instruction")
    answer_field: str | None = Field(None, description="default: the first of reference_answer, answer, gold_answer")
    prompt: str | None = Field(None, description="the student's prompt, with {question} (default: reason step by "
                               "step, answer in \\boxed{})")
    on_missing: Literal["keep", "reject"] = Field("keep", description="a record without question or reference "
                                                  "answer: keep it unprobed, or reject it (student_unchecked)")
    verify_timeout: float = Field(5.0, gt=0)

    @model_validator(mode="after")
    def _band(self) -> StudentOptions:
        if self.preset and (self.min_pass is not None or self.max_pass is not None):
            raise ValueError("give preset or min_pass/max_pass, not both")
        lo, hi = (self.min_pass or 0.0), (1.0 if self.max_pass is None else self.max_pass)
        if lo > hi:
            raise ValueError(f"min_pass {lo} is above max_pass {hi}")
        if self.prompt is not None and "{question}" not in self.prompt:
            raise ValueError("prompt must contain {question}")
        return self

    def band(self) -> Band:
        if self.preset:
            return Band(*PRESETS[self.preset])
        if self.min_pass is None and self.max_pass is None:
            return Band(*PRESETS["rl"])  # no band given: the RL band
        return Band(self.min_pass or 0.0, 1.0 if self.max_pass is None else self.max_pass, False, False)


class Band:
    """A pass-rate interval; `lo_open` / `hi_open` leave out the end itself."""

    def __init__(self, lo: float, hi: float, lo_open: bool, hi_open: bool) -> None:
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open

    def where(self, p: float) -> int:
        """-1 below the band (too hard), 0 inside, 1 above (too easy)."""
        if p < self.lo or (self.lo_open and p == self.lo):
            return -1
        if p > self.hi or (self.hi_open and p == self.hi):
            return 1
        return 0

    def decided(self, correct: int, sampled: int, k: int) -> bool:
        """Whether every final pass rate still possible, correct/k .. (correct + k - sampled)/k, falls on
        the same side of the band (a finer rate than k samples give is not asked)."""
        sides = {self.where((correct + extra) / k) for extra in range(k - sampled + 1)}
        return len(sides) == 1

    def __str__(self) -> str:
        return f"{'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}{')' if self.hi_open else ']'}"


def _bin(p: float) -> str:
    if p <= 0:
        return BINS[0]
    if p >= 1:
        return BINS[-1]
    return BINS[min(4, 1 + int(p * 4 - 1e-9))]


def student_stage(options: dict[str, Any], *, base_dir=None) -> StudentStage:
    """`student:` of a run config (synth.build.STAGES)."""
    try:
        opts = StudentOptions.model_validate(options)
    except ValidationError as exc:
        from synth.errors import format_validation

        raise ConfigError("config: " + format_validation(exc, "student")) from None
    return StudentStage(opts)


class StudentStage(Stage):
    """Probe each checkable record with the student role; keep the pass-rate band."""

    name = "student"

    def __init__(self, options: StudentOptions) -> None:
        self.options = options
        self.role = options.engine
        self.band = options.band()
        self.round_size = options.round_size or max(1, options.k // 4)
        self._acc: dict | None = None  # streaming: totals over every chunk so far

    def apply(self, records):
        raise ConfigError("the student stage asks a model: run the stages with run_stages_async")

    def run(self, records):
        return self.apply(records)

    def fields(self, record: dict) -> tuple[str | None, str | None]:
        o = self.options
        q = record.get(o.question_field) if o.question_field else \
            next((record[f] for f in QUESTION_FIELDS if isinstance(record.get(f), str) and record[f]), None)
        a = record.get(o.answer_field) if o.answer_field else \
            next((record[f] for f in ANSWER_FIELDS if record.get(f) not in (None, "")), None)
        return (q if isinstance(q, str) and q.strip() else None), (None if a in (None, "") else str(a))

    def messages(self, question: str) -> list[dict[str, str]]:
        from synth.text import prompt_language

        template = self.options.prompt or PROMPT[prompt_language(question)]
        return [{"role": "user", "content": template.replace("{question}", question)
                 if self.options.prompt else template.format(question=question)}]

    async def probe(self, llm, question: str, gold: str) -> dict[str, Any]:
        """Sample the student in rounds until k answers or the band is decided."""
        from synth.verify import acheck_many

        o = self.options
        messages = self.messages(question)
        base = llm.seed_for("student", question)
        correct = sampled = requests = 0
        while sampled < o.k:
            n = min(self.round_size, o.k - sampled)
            answers = await llm.chat(messages, n=n, seed=base + sampled, temperature=o.temperature,
                                     max_tokens=o.max_tokens)
            fresh = sum(not a.cached for a in answers)  # one request for all n where the server takes n
            requests += 1 if fresh == n > 1 and (llm.capabilities.native_n or o.temperature == 0) else fresh
            verdicts = await acheck_many([(gold, a.text) for a in answers], timeout=o.verify_timeout)
            correct += sum(v.status == "correct" for v in verdicts)
            sampled += n
            if o.early_stop and sampled < o.k and self.band.decided(correct, sampled, o.k):
                break
        return {"model": llm.engine.model, "k": o.k, "sampled": sampled, "correct": correct,
                "pass_rate": round(correct / sampled, 4), "early_stop": sampled < o.k, "requests": requests}

    async def arun(self, records, *, llm=None, concurrency: int = 8, progress=None):
        if llm is None:
            raise ConfigError("the student stage asks a model, and none was given")
        llm = llm.role(self.role)
        start = time.perf_counter()
        groups: dict[tuple[str, str], list[int]] = {}
        unchecked: list[int] = []
        for i, record in enumerate(records):
            q, a = self.fields(record)
            if q is None or a is None:
                unchecked.append(i)
            else:
                groups.setdefault((q, a), []).append(i)
        results: dict[tuple[str, str], dict | Exception] = {}
        queue = list(groups)
        done = [0]

        async def worker() -> None:
            while queue:
                key = queue.pop()
                try:
                    results[key] = await self.probe(llm, *key)
                except RequestFailed as exc:  # this question's request, not the stage: the others go on
                    results[key] = exc
                done[0] += 1
                if progress:
                    progress(self.name, done[0], len(groups))

        await run_workers(worker, min(concurrency, len(groups)))

        acc = self._acc if self._acc is not None else {}
        before, after = acc.setdefault("before", Counter()), acc.setdefault("after", Counter())
        totals = acc.setdefault("totals", Counter())
        out: list[tuple[dict, bool, str | None, dict]] = [None] * len(records)  # type: ignore[list-item]
        for i in unchecked:
            keep = self.options.on_missing == "keep"
            out[i] = ({**records[i], "student": None}, keep, None if keep else "student_unchecked", {})
        totals["unchecked"] += len(unchecked)
        for key, members in groups.items():
            result = results[key]
            if isinstance(result, Exception):
                for i in members:
                    out[i] = ({**records[i], "student": None}, False, "student_failed", {"detail": str(result)[:300]})
                totals["failed_questions"] += 1
                continue
            info = {k: v for k, v in result.items() if k != "requests"}
            totals["questions"] += 1
            totals["samples"] += result["sampled"]
            totals["requests"] += result["requests"]
            totals["samples_without_early_stop"] += self.options.k
            totals["early_stopped"] += result["early_stop"]
            # all k sampled, or stopped once decided: every final rate still possible is on this side
            side = self.band.where(result["correct"] / self.options.k)
            reason = None if side == 0 else ("student_solved" if side > 0 else "student_never_solves")
            for i in members:
                out[i] = ({**records[i], "student": info}, reason is None, reason, {})
                before[_bin(result["pass_rate"])] += 1
                totals["pass_rate_sum"] += result["pass_rate"]
                if reason is None:
                    after[_bin(result["pass_rate"])] += 1
        kept = [r for r, keep, _, _ in out if keep]
        dropped = [(r, reason, extra) for r, keep, reason, extra in out if not keep]
        kept, rejected, report = self._book(records, kept, dropped, time.perf_counter() - start)
        report.scores = {"pass_rate": self.summary(before, after, totals)}
        report.info = {"student": self.info(totals, llm)}
        return kept, rejected, report

    def summary(self, before: Counter, after: Counter, totals: Counter) -> dict[str, Any]:
        """The pass rates of the probed records before the band (`histogram`) and of those kept."""
        n = sum(before.values())
        return {"scale": "pass rate", "band": str(self.band), "n": n, "unscored": totals["unchecked"],
                "mean": round(totals["pass_rate_sum"] / n, 4) if n else None,
                "histogram": {b: before.get(b, 0) for b in BINS},
                "histogram_kept": {b: after.get(b, 0) for b in BINS}}

    def info(self, totals: Counter, llm) -> dict[str, Any]:
        """What the manifest and card say about the student: model, band, samples and the share saved."""
        full = totals["samples_without_early_stop"]
        return {"model": llm.engine.model, "role": self.role, "k": self.options.k, "band": str(self.band),
                "preset": self.options.preset, "round_size": self.round_size,
                "questions": totals["questions"], "failed_questions": totals["failed_questions"],
                "unchecked": totals["unchecked"], "samples": totals["samples"], "requests": totals["requests"],
                "samples_without_early_stop": full, "early_stopped": totals["early_stopped"],
                "samples_saved_share": round(1 - totals["samples"] / full, 4) if full else 0.0}


__all__ = ["Band", "StudentOptions", "StudentStage", "student_stage"]
