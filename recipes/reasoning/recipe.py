"""`reasoning`: rejection sampling of step-by-step solutions (RFT / STaR / self-consistency pseudo-labels).

Follows, per seed problem:

- RFT (Yuan et al. 2023, arXiv 2308.01825; ``OFA-Sys/gsm8k-ScRel``): sample ``k`` solutions at T≈0.7, keep
  those whose final answer equals the gold answer, keep one solution per distinct reasoning path.
- STaR (Zelikman et al. 2022, arXiv 2203.14465): keep rationales that reach the gold answer.
- Self-consistency as labels (LMSI, arXiv 2210.11610; OpenMathInstruct-2's ``fill_majority_answer``): without a
  gold answer, the majority answer over equivalence classes is the pseudo-label, gated by ``min_votes`` /
  ``min_agreement``; the vote distribution stays on every record.

With ``keep: correct`` a problem none of whose solutions is kept is one record rejected with the reason
(``no_correct_solution``, or ``no_label`` below the majority thresholds): every problem is accounted for.

Left out: RFT's check of ``<<a*b=c>>`` calculator annotations and its "largest edit distance" choice among
equal paths (the first path is kept); STaR rationalization (re-asking with the answer as a hint); pooling of
several generator models; fair downsampling across problems (``max_per_problem`` caps each problem instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from synth.errors import ConfigError, RecipeError
from synth.recipe import Recipe, RecipeOptions
from synth.recipes._math import AnswerClass, agroup_answers, distribution, majority, path_signature, reference_answer
from synth.recipes._records import EXPORTS, generation_info, sft_messages, unlabelled_steps, verification
from synth.verify import Verdict, acheck_many, extract_answer, split_steps


class SolveOptions(RecipeOptions):
    """Options of sampling and labelling solutions (shared with `problem-augment`)."""

    problem_field: str = Field("problem", description="seed column holding the problem")
    answer_field: str | None = Field("answer", description="seed column with the reference answer "
                                     "(a bare answer or a solution ending in '#### N' / \\boxed{})")
    template: str = Field("solve.j2", description="prompt template in templates/ (solve.j2, solve_zh.j2)")
    system: str | None = Field(None, description="system prompt for every request")
    k: int = Field(4, ge=1, le=1024, description="solutions sampled per problem")
    temperature: float | None = Field(None, ge=0, le=2, description="sampling temperature (default: the run's)")
    top_p: float | None = Field(None, gt=0, le=1, description="nucleus sampling (default: the run's)")
    max_tokens: int | None = Field(None, ge=1, description="tokens per solution (default: the run's)")
    seed: int | None = Field(None, description="seed of sample 0 (sample i uses seed + i); default: derived "
                             "from the run seed and the prompt")
    min_votes: int = Field(1, ge=1, description="majority pseudo-label: fewest votes for the top answer")
    min_agreement: float = Field(0.0, ge=0, le=1, description="majority pseudo-label: least votes/answered share")
    dedup_paths: bool = Field(True, description="keep one solution per distinct normalised step sequence")
    max_per_problem: int | None = Field(None, ge=1, description="at most this many kept solutions per problem")
    rejected_per_record: int = Field(1, ge=0, le=16, description="wrong solutions stored on each kept record "
                                     "(for DPO pairs), spread round-robin over the kept records")
    keep: Literal["correct", "all"] = Field("correct", description="correct: return verified solutions only; "
                                            "all: every sample, with `correct` and `verification` set")
    verify_timeout: float = Field(5.0, gt=0, description="seconds math-verify may take per comparison")


class ReasoningOptions(SolveOptions):
    label: Literal["auto", "gold", "majority"] = Field(
        "auto", description="auto: gold answer when the row has one, else majority vote")


@dataclass
class Sample:
    index: int
    text: str
    steps: list[str]
    answer: str | None
    pattern: str
    completion: object
    verdict: Verdict | None = None


@dataclass
class Labelled:
    """The samples of one problem with their verdicts and the label they were checked against."""

    samples: list[Sample]
    classes: list[AnswerClass]
    reference: str | None
    source: str | None            # "gold" | "majority_vote" | None (no label)
    majority: dict | None
    no_label_reason: str | None


def check_template(recipe: Recipe, name: str, field: str = "template") -> None:
    try:
        recipe._jinja.get_template(name)
    except Exception:
        raise ConfigError(f"recipe {recipe.name!r}: options.{field}: no template {name!r} in the recipe's "
                          "templates/ folder") from None


def prompt_messages(recipe: Recipe, template: str, problem: str, system: str | None) -> list[dict]:
    user = recipe.render(template, problem=problem)
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]


async def sample_and_label(llm, prompt: list[dict], gold: str | None, o: SolveOptions) -> Labelled:
    """Sample `o.k` solutions, extract answers, group them, and verify against gold or the majority."""
    completions = await llm.chat(prompt, n=o.k, temperature=o.temperature, top_p=o.top_p,
                                 max_tokens=o.max_tokens, seed=o.seed)
    samples = []
    for i, c in enumerate(completions):
        found = extract_answer(c.text)
        samples.append(Sample(i, c.text, split_steps(c.text), found.answer, found.pattern, c))
    classes = await agroup_answers([s.answer for s in samples], timeout=o.verify_timeout)
    if gold is not None:
        verdicts = await acheck_many([(gold, s.answer) for s in samples], timeout=o.verify_timeout)
        for s, v in zip(samples, verdicts):
            s.verdict = v
        top, _ = majority(classes)
        return Labelled(samples, classes, gold, "gold", top, None)
    top, reason = majority(classes, min_votes=o.min_votes, min_agreement=o.min_agreement)
    members = set(classes[0].members) if top else set()
    for s in samples:
        if s.answer is None:
            s.verdict = Verdict("no_answer", "none", detail="no answer in the solution")
        elif top is None:
            s.verdict = Verdict("unverifiable", "majority_vote", detail=f"no pseudo-label: {reason}")
        else:
            s.verdict = Verdict("correct" if s.index in members else "incorrect", "majority_vote", top["answer"],
                                s.answer)
    return Labelled(samples, classes, top["answer"] if top else None, "majority_vote" if top else None, top, reason)


def _distinct(samples: list[Sample], on: bool) -> tuple[list[Sample], int]:
    if not on:
        return samples, 0
    seen, out = set(), []
    for s in samples:
        sig = path_signature(s.steps)
        if sig not in seen:
            seen.add(sig)
            out.append(s)
    return out, len(samples) - len(out)


def build_records(llm, problem: str, prompt: list[dict], lab: Labelled, o: SolveOptions) -> list[dict]:
    """One record per kept solution (or per sample with ``keep: all``), wrong ones attached for DPO."""
    correct, dup_correct = _distinct([s for s in lab.samples if s.verdict.status == "correct"], o.dedup_paths)
    distinct_correct = len(correct)
    if o.max_per_problem:
        correct = correct[: o.max_per_problem]
    wrong, _ = _distinct([s for s in lab.samples if s.verdict.status in ("incorrect", "no_answer")], True)
    stats = {"samples": len(lab.samples), "answered": sum(s.answer is not None for s in lab.samples),
             "correct": sum(s.verdict.status == "correct" for s in lab.samples),
             "distinct_correct": distinct_correct, "kept": len(correct),
             "duplicates_dropped": dup_correct}
    chosen = correct if o.keep == "correct" else lab.samples
    if not chosen:  # nothing to keep: one record says why, and the runner books it in rejected.jsonl
        return [unsolved_record(problem, lab, stats)]
    kept_ids = {id(s) for s in correct}
    sampling = {"k": o.k, "temperature": o.temperature if o.temperature is not None else llm.defaults.temperature,
                "top_p": o.top_p if o.top_p is not None else llm.defaults.top_p,
                "max_tokens": o.max_tokens or llm.defaults.max_tokens}
    records = []
    m = min(o.rejected_per_record, len(wrong))
    rank = 0
    for s in chosen:
        is_kept = id(s) in kept_ids
        rank += is_kept
        rejected = [wrong[((rank - 1) * m + t) % len(wrong)] for t in range(m)] if is_kept else []
        records.append({
            "problem": problem,
            "reference_answer": lab.reference,
            "reference_answer_source": lab.source,
            "majority": lab.majority,
            "votes": distribution(lab.classes),
            "sample_index": s.index,
            "solution": s.text,
            "steps": unlabelled_steps(s.steps),
            "final_answer": s.answer,
            "answer_pattern": s.pattern,
            "correct": s.verdict.status == "correct",
            "selected": is_kept,
            "verification": verification(s.verdict),
            "rejected_solutions": [{"solution": w.text, "final_answer": w.answer, "status": w.verdict.status}
                                   for w in rejected],
            "rejected": None,
            "stats": stats,
            "generation": generation_info(llm, s.completion, **sampling),
            "messages": sft_messages(prompt, s.text) if is_kept else None,
        })
    return records


def unsolved_record(problem: str, lab: Labelled, stats: dict) -> dict:
    """The record of a problem none of whose solutions is kept (``keep: correct``), with the keys of a
    kept one: rejected ``no_label`` (no answer reached the majority thresholds) or ``no_correct_solution``."""
    return {"problem": problem, "reference_answer": lab.reference, "reference_answer_source": lab.source,
            "majority": lab.majority, "votes": distribution(lab.classes), "sample_index": None, "solution": None,
            "steps": [], "final_answer": None, "answer_pattern": None, "correct": False, "selected": False,
            "verification": None, "rejected_solutions": [], "stats": stats, "generation": None, "messages": None,
            "rejected": "no_label" if lab.source is None else "no_correct_solution"}


class ReasoningRecipe(Recipe):
    name = "reasoning"
    version = "1"
    description = "Rejection-sample verified step-by-step solutions (RFT / STaR / majority-vote pseudo-labels)."
    Options = ReasoningOptions
    exports = EXPORTS

    def __init__(self, options=None) -> None:
        super().__init__(options)
        check_template(self, self.options.template)

    def required_fields(self) -> list[str]:
        o = self.options
        return [o.problem_field] + ([o.answer_field] if o.label == "gold" and o.answer_field else [])

    async def run(self, row, llm):
        o = self.options
        problem = str(row[o.problem_field]).strip()
        gold = None
        if o.label != "majority" and o.answer_field:
            gold = reference_answer(row.get(o.answer_field))
        if o.label == "gold" and gold is None:
            raise RecipeError(f"no reference answer in {o.answer_field!r} (label: gold)")
        prompt = prompt_messages(self, o.template, problem, o.system)
        labelled = await sample_and_label(llm, prompt, gold, o)
        return build_records(llm, problem, prompt, labelled, o)
