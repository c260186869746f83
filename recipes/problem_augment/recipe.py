"""`problem-augment`: new problems from seed problems, solved k times, labelled, decontaminated.

Modes (one or more per run, ``variants`` new problems per mode and seed):

- ``rephrase`` — MetaMath (Yu et al. 2023, arXiv 2309.12284, ``rephrase_cot_gsm8k.txt``): reword the seed
  keeping its numbers; labelled by the *seed's* gold answer (MetaMath keeps a rephrasing only when a solution
  of it reaches the original answer), by majority vote when the seed has none.
- ``fobar`` — MetaMath FOBAR (``main_create_backward_questions.py``): no LLM call; one number of the seed is
  replaced by ``x`` and "If we know the answer to the above question is A, what is the value of unknown
  variable x?" appended; the gold answer is the masked number. Needs the seed's gold answer.
- ``similar`` / ``inspired`` — OpenMathInstruct-2 (arXiv 2410.01560, ``problem-augmentation-similar.yaml`` /
  ``problem-augmentation.yaml``): a new problem; no gold answer, so the majority over ``k`` solutions is the
  label (``min_votes`` / ``min_agreement``, OMI-2's ``majority_filter``).

Before solving, every new problem is checked for n-gram overlap (``decontam.py``) with the local benchmark
files in ``benchmarks``, and ``similar`` / ``inspired`` problems also with their own seed problem
(``rephrase`` and ``fobar`` are derived from the seed by design; only an exact copy is dropped). A dropped
problem costs no solving requests; ``keep: all`` returns it as a record with ``augment.dropped`` set, ``keep:
correct`` as a record rejected with that reason (``empty``, ``copy``, ``contaminated``; a problem solved but
unlabelled or unsolved: ``no_label``, ``no_correct_solution``), so every candidate is in the data or in
rejected.jsonl.

Left out: MetaMath's Self-Verification (SV) stream and AnsAug (that is the ``reasoning`` recipe); few-shot
prompts (zero-shot instructions here); the semantic decontamination stage (embedding + LLM judge).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from synth.recipe import Recipe
from synth.recipes._math import reference_answer
from synth.recipes._records import EXPORTS
from synth.dedup.ngram_index import NgramIndex, load_benchmarks
from synth.recipes.reasoning.recipe import (SolveOptions, build_records, check_template, prompt_messages,
                                            sample_and_label)

Mode = Literal["rephrase", "fobar", "similar", "inspired"]
_FOBAR = {"en": " If we know the answer to the above question is {answer}, what is the value of unknown variable x?",
          "zh": "如果已知上面问题的答案是{answer}，那么未知数x的值是多少？"}
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?(?![A-Za-z0-9])")  # CJK text around it is fine
_LEAD = re.compile(r"^\s*(?:\*\*)?(?:rephrased problem|new problem|problem|question|改写后的题目|新题目|题目)"
                   r"\s*(?:\*\*)?\s*[:：]\s*", re.IGNORECASE)


class ProblemAugmentOptions(SolveOptions):
    modes: list[Mode] = Field(["rephrase", "similar"], min_length=1, description="how new problems are made")
    variants: int = Field(1, ge=1, le=64, description="new problems per mode and seed problem")
    language: Literal["en", "zh"] = Field("en", description="language of the augmentation prompts")
    augment_temperature: float | None = Field(None, ge=0, le=2, description="temperature for writing problems")
    augment_max_tokens: int | None = Field(None, ge=1, description="tokens per new problem")
    min_votes: int = Field(2, ge=1, description="majority label: fewest votes for the top answer")
    min_agreement: float = Field(0.5, ge=0, le=1, description="majority label: least votes/answered share")
    max_per_problem: int | None = Field(1, ge=1, description="kept solutions per new problem")
    benchmarks: list[str] = Field(default_factory=list, description="FILE[:FIELD] files to decontaminate "
                                  "against (relative to the current directory)")
    decontam_ngram: int = Field(8, ge=3, le=50, description="word n-gram size of the overlap check")
    decontam_cjk_ngram: int = Field(12, ge=3, le=50, description="character n-gram size for Chinese text")


def clean_problem(text: str) -> str:
    """The problem statement from a model's answer: a leading label and wrapping quotes removed."""
    text = _LEAD.sub("", text.strip()).strip().strip('"“”').strip()
    return text


def backward_questions(problem: str, answer: str, language: str, limit: int) -> list[tuple[str, str]]:
    """FOBAR: ``(question, masked number)`` for the first ``limit`` numbers of ``problem``.

        >>> backward_questions("Tom has 3 apples and buys 5.", "8", "en", 1)
        [('Tom has x apples and buys 5. If we know the answer to the above question is 8, what is the value of unknown variable x?', '3')]
    """
    out = []
    for m in list(_NUMBER.finditer(problem))[:limit]:
        masked = problem[: m.start()] + "x" + problem[m.end():]
        out.append((masked + _FOBAR[language].format(answer=answer), m.group(0)))
    return out


class ProblemAugmentRecipe(Recipe):
    name = "problem-augment"
    version = "1"
    description = "New problems from seeds (MetaMath rephrase/FOBAR, OMI-2 similar), majority-labelled, decontaminated."
    Options = ProblemAugmentOptions
    path_options = ("benchmarks",)
    exports = EXPORTS

    def __init__(self, options=None) -> None:
        super().__init__(options)
        o = self.options
        check_template(self, o.template)
        suffix = "_zh" if o.language == "zh" else ""
        for mode in set(o.modes) - {"fobar"}:
            check_template(self, f"{mode}{suffix}.j2", "modes")
        self.index = NgramIndex(o.decontam_ngram, o.decontam_cjk_ngram)
        load_benchmarks(o.benchmarks, self.index)

    def required_fields(self) -> list[str]:
        return [self.options.problem_field]

    async def candidates(self, llm, seed_problem: str, gold: str | None) -> list[tuple[str, str, str | None]]:
        """``(mode, new problem, its gold answer or None)`` for every mode and variant."""
        o = self.options
        out = []
        for mode in o.modes:
            if mode == "fobar":
                if gold is not None:
                    out += [(mode, q, a) for q, a in backward_questions(seed_problem, gold, o.language, o.variants)]
                continue
            prompt = [{"role": "user", "content": self.render(f"{mode}{'_zh' if o.language == 'zh' else ''}.j2",
                                                              problem=seed_problem)}]
            made = await llm.chat(prompt, n=o.variants, temperature=o.augment_temperature,
                                  max_tokens=o.augment_max_tokens, seed=o.seed)
            out += [(mode, clean_problem(c.text), gold if mode == "rephrase" else None) for c in made]
        return out

    def screen(self, mode: str, problem: str, seed_problem: str) -> tuple[str, str] | None:
        """``(reason, detail)`` when a new problem must be dropped before solving, else ``None``."""
        if not problem:
            return "empty", "the model wrote no problem"
        own = NgramIndex(self.options.decontam_ngram, self.options.decontam_cjk_ngram)
        own.add(seed_problem, "seed")
        if own.shingles(problem) == own.shingles(seed_problem):
            return "copy", "same words as the seed problem"
        hit = self.index.find(problem) or (own.find(problem) if mode in ("similar", "inspired") else None)
        if hit:
            return "contaminated", f"shares the n-gram {hit[1]!r} with {hit[0]}"
        return None

    async def run(self, row, llm):
        o = self.options
        seed_problem = str(row[o.problem_field]).strip()
        seed_gold = reference_answer(row.get(o.answer_field)) if o.answer_field else None
        records = []
        for candidate, (mode, problem, gold) in enumerate(await self.candidates(llm, seed_problem, seed_gold)):
            augment = {"mode": mode, "seed_problem": seed_problem, "seed_answer": seed_gold, "candidate": candidate,
                       "dropped": None, "detail": None}
            dropped = self.screen(mode, problem, seed_problem)
            if dropped:  # kept with `keep: all`, else rejected with the reason (rejected.jsonl)
                record = dropped_record(problem, gold, {**augment, "dropped": dropped[0], "detail": dropped[1]})
                records.append(record if o.keep == "all" else {**record, "rejected": dropped[0]})
                continue
            prompt = prompt_messages(self, o.template, problem, o.system)
            labelled = await sample_and_label(llm, prompt, gold, o)
            made = build_records(llm, problem, prompt, labelled, o)
            if labelled.source is None:
                augment.update(dropped="no_label", detail=labelled.no_label_reason)
            elif not any(r["selected"] for r in made):
                augment.update(dropped="no_correct_solution", detail=f"none of {o.k} solutions reached "
                               f"{labelled.reference!r}")
            records += [{**r, "augment": augment} for r in made]
        return records


def dropped_record(problem: str, gold: str | None, augment: dict) -> dict:
    """A new problem dropped before solving, with the record keys of a solved one (``keep: all``)."""
    return {"problem": problem, "reference_answer": gold, "reference_answer_source": "gold" if gold else None,
            "majority": None, "votes": [], "sample_index": None, "solution": None, "steps": [],
            "final_answer": None, "answer_pattern": None, "correct": False, "selected": False,
            "verification": None, "rejected_solutions": [], "rejected": None, "stats": None, "generation": None, "messages": None,
            "augment": augment}
