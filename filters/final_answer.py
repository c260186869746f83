"""For reasoning rows: drop solutions with no final answer, or with several different ones.

A solution that never states its answer cannot be checked or trained on as a worked example, and
one that boxes two different answers teaches indecision: OpenMathInstruct drops `multi_boxed`
solutions and those without `\\boxed{}` (Toshniwal et al. 2024, arXiv 2402.10176), recipes.md §6.4
lists "answer format" for reasoning. Final answers are the explicit ones synth.verify reads:
`\\boxed{}`, GSM8K's `#### 42`, "The answer is ...", "Answer: ...", 答案是 / 最终答案.
Two answers differ when synth.verify's checks say so (0.5 and \\frac{1}{2} agree), so a solution
that restates its answer in another form is kept. The separate thinking of a reasoning model may try
several answers; only the answer text is read.

It is a filter for reasoning rows. Run on chat rows (no gold answer on the row and no final answer in
the text) it would drop nearly everything, so it says so: such a drop carries the detail "no final
answer and no gold answer on the row: final-answer is for reasoning rows", and the stage report's
`final_answers` summary gets a `note` when most rows of the stage are like that.
"""

from __future__ import annotations

import re

from synth.filter import Decision, Filter, FilterOptions, option
from synth.verify import fast_check
from synth.verify.normalize import matching_brace, squash

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
# The answer is read by a lookahead, so a later "answer is" on the same line is found too.
_PHRASES = (
    re.compile(r"####\s*(?=([^\n]+))"),
    re.compile(r"(?:最终答案|答案)\s*(?:应该|应)?\s*(?:是|为|[：:])\s*[：:]?\s*(?=([^\n]+))"),
    re.compile(r"\b(?:the\s+)?(?:final\s+)?answer\s+(?:is|=)\s*[:：]?\s*(?=([^\n]+))", re.I),
    re.compile(r"(?:^|\n)[ \t]*(?:[#*]+[ \t]*)?(?:final[ \t]+)?answer[ \t]*(?:\*\*)?[ \t]*[:：](?:\*\*)?[ \t]*"
               r"(?=([^\n]+))", re.I),
)
_SENTENCE_END = re.compile(r"(?<!\d)\.(?:\s|$)|。|；|;|，|,\s|\s+(?:because|since)\s", re.I)
_LAST_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
# record fields that hold a gold / reference answer on reasoning rows
GOLD_FIELDS = ("gold", "gold_answer", "expected_answer", "reference_answer", "final_answer", "answer_gold", "target")
NOT_REASONING = "no final answer and no gold answer on the row: final-answer is for reasoning rows"


def _tidy(answer: str) -> str:
    cut = _SENTENCE_END.search(answer)
    answer = answer[:cut.start()] if cut else answer
    return answer.strip().strip("*$").strip().rstrip(".,;:。，").strip()


def final_answers(text: str) -> list[str]:
    r"""Every explicit final answer in `text`, in order (boxed ones first).

        >>> final_answers(r"So $x=\boxed{\frac{1}{2}}$. The answer is 0.5.")
        ['\\frac{1}{2}', '0.5']
        >>> final_answers("所以一共 12 个。答案是：12个")
        ['12个']
    """
    found = []
    for m in _BOXED.finditer(text):
        close = matching_brace(text, m.end() - 1)
        if close != -1 and text[m.end():close].strip():
            found.append(text[m.end():close].strip())
    for pattern in _PHRASES:
        found += [a for a in (_tidy(g) for g in pattern.findall(text)) if a]
    return found


def distinct_answers(answers: list[str]) -> list[str]:
    """One representative per group of equivalent answers (synth.verify.fast_check, else exact match)."""
    groups: list[str] = []
    for answer in answers:
        for rep in groups:
            verdict = fast_check(rep, answer)
            if (verdict.correct if verdict is not None else squash(rep) == squash(answer)):
                break
        else:
            groups.append(answer)
    return groups


class FinalAnswerOptions(FilterOptions):
    require: bool = option(True, "drop solutions without an explicit final answer",
                           source="OpenMathInstruct (solutions without \\boxed{} are dropped)")
    allow_several: bool = option(False, "keep solutions whose final answers differ (multi-part questions)",
                                 source="OpenMathInstruct (multi_boxed solutions are dropped)")
    last_number: bool = option(False, "count the last number as the answer when no explicit one is given")


class FinalAnswerFilter(Filter):
    """Reject reasoning answers with no final answer, or with two or more different ones."""

    name = "final-answer"
    description = "Reasoning rows: drop solutions with no final answer or several different ones."
    Options = FinalAnswerOptions
    reasons = ("final_answer_missing", "final_answer_conflicting")
    score_names = ("final_answers",)

    def filter(self, record):
        text = self.answer(record)
        answers = final_answers(text)
        if not answers and self.options.last_number:
            answers = _LAST_NUMBER.findall(text)[-1:]
        distinct = distinct_answers(answers)
        scores = {"final_answers": len(distinct)}
        if not distinct:
            if not self.options.require:
                return Decision(True, scores=scores)
            chat = not any(record.get(f) not in (None, "") for f in GOLD_FIELDS)
            return Decision(False, "final_answer_missing", scores, detail=NOT_REASONING if chat else None)
        if len(distinct) > 1 and not self.options.allow_several:
            return Decision(False, "final_answer_conflicting", scores, detail=" | ".join(distinct[:4])[:200])
        return Decision(True, scores=scores)

    def summarize(self, score, values):
        """The usual counts, plus a note when most rows state no final answer (chat rows, not reasoning)."""
        if score != "final_answers":
            return None
        from synth.stages.filter import summarize_scores

        summary = summarize_scores(values)
        seen = [v for v in values if v is not None]
        if seen and sum(v == 0 for v in seen) > len(seen) / 2:
            summary["note"] = (f"{sum(v == 0 for v in seen)} of {len(seen)} rows state no final answer: final-answer is "
                               "for reasoning rows (a problem and a worked solution); on chat rows leave it out")
        return summary
