"""Answers shared by the process-reasoning recipes: reference answers, votes, equivalence classes, paths.

Self-consistency (Wang et al. 2022, arXiv 2203.11171) votes over sampled answers; used as pseudo-labels by
LMSI (arXiv 2210.11610) and OpenMathInstruct-2 (arXiv 2410.01560, ``fill_majority_answer.py``). Unlike
NeMo-Skills, which counts ``1/2`` and ``0.5`` as two answers (a TODO in its code), votes here go to
*equivalence classes* built with ``synth.verify.check``, so equal values written differently vote together.

    >>> [(c.answer, c.votes) for c in group_answers(["1/2", "0.5", "3", None, "0.50"])]
    [('1/2', 3), ('3', 1)]
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from synth.verify import DEFAULT_TIMEOUT, check_many, extract_answer

_GOLD_MARKERS = ("####", "\\boxed", "\\fbox", "答案", "answer is", "Answer:")


def reference_answer(value) -> str | None:
    """The gold answer from a seed field: a bare answer, or a whole solution ending in ``#### 72`` / ``\\boxed``.

        >>> reference_answer("Natalia sold 48/2 = 24 clips.\\n#### 72")
        '72'
        >>> reference_answer(" 1/2 ")
        '1/2'
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if any(marker in text for marker in _GOLD_MARKERS):
        return extract_answer(text).answer
    return text


@dataclass
class AnswerClass:
    """One equivalence class of answers: its first-seen spelling and the sample indices that gave it."""

    answer: str
    members: list[int] = field(default_factory=list)

    @property
    def votes(self) -> int:
        return len(self.members)


def group_answers(answers: list[str | None], *, timeout: float = DEFAULT_TIMEOUT) -> list[AnswerClass]:
    """Greedy equivalence classes over ``answers`` (``None`` = no answer, left out), most votes first.

    Each distinct spelling is compared with the first spelling of every class so far (``check`` with
    the class representative as gold); ties in votes keep first-appearance order. Blocking: call it
    through ``agroup_answers`` inside a recipe.
    """
    classes: list[AnswerClass] = []
    by_spelling: dict[str, AnswerClass] = {}
    for i, answer in enumerate(answers):
        if answer is None or not str(answer).strip():
            continue
        key = str(answer).strip()
        found = by_spelling.get(key)
        if found is None and classes:
            verdicts = check_many([(c.answer, key) for c in classes], timeout=timeout)
            found = next((c for c, v in zip(classes, verdicts) if v.correct), None)
        if found is None:
            found = AnswerClass(key)
            classes.append(found)
        by_spelling[key] = found
        found.members.append(i)
    order = {id(c): n for n, c in enumerate(classes)}
    return sorted(classes, key=lambda c: (-c.votes, order[id(c)]))


async def agroup_answers(answers: list[str | None], *, timeout: float = DEFAULT_TIMEOUT) -> list[AnswerClass]:
    """``group_answers`` in a thread, so a slow math-verify comparison never blocks the event loop."""
    return await asyncio.to_thread(group_answers, answers, timeout=timeout)


def distribution(classes: list[AnswerClass]) -> list[dict]:
    """The vote distribution as parquet-friendly rows: ``[{"answer": "18", "votes": 3}, ...]``."""
    return [{"answer": c.answer, "votes": c.votes} for c in classes]


def majority(classes: list[AnswerClass], *, min_votes: int = 1, min_agreement: float = 0.0) -> tuple[dict | None, str | None]:
    """The majority vote as ``{answer, votes, total, agreement}`` and ``None``, or ``None`` and the reason.

    ``total`` counts samples that gave an answer; ``agreement = votes / total``. A tie for first place
    is kept (the first-seen class wins) and shows as agreement <= 0.5: ask for ``min_agreement > 0.5``
    to require a strict majority.

        >>> majority(group_answers(["4", "4", "5"]), min_votes=2)
        ({'answer': '4', 'votes': 2, 'total': 3, 'agreement': 0.6667}, None)
        >>> majority(group_answers(["4", "5"]), min_agreement=0.6)
        (None, 'agreement 0.5 < min_agreement 0.6')
    """
    total = sum(c.votes for c in classes)
    if not classes:
        return None, "no sample gave an answer"
    top = classes[0]
    agreement = round(top.votes / total, 4)
    if top.votes < min_votes:
        return None, f"votes {top.votes} < min_votes {min_votes}"
    if agreement < min_agreement:
        return None, f"agreement {agreement:g} < min_agreement {min_agreement:g}"
    return {"answer": top.answer, "votes": top.votes, "total": total, "agreement": agreement}, None


_NON_WORD = re.compile(r"[\s,.;:!?，。；：！？、*#$\\]+")


def path_signature(steps: list[str]) -> tuple[str, ...]:
    """Normalised steps (case, whitespace, punctuation and markup dropped): equal signatures = one path.

    RFT (Yuan et al. 2023) keys paths on their calculator equations; this keys on the whole normalised
    step text, which also works for solutions without ``<<a*b=c>>`` annotations.

        >>> path_signature(["Step 1: 2 + 3 = 5."]) == path_signature(["step 1:  2+3=5"])
        True
    """
    return tuple(_NON_WORD.sub("", s).casefold() for s in steps)
