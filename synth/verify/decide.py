r"""The cheap part of a comparison: read both answers, then decide without sympy when possible.

``decide`` returns a ``Verdict``, or a ``Pending`` pair that only math-verify can settle:

=================  ===================================================================
method             when
=================  ===================================================================
``none``           no answer in the prediction (``no_answer``), gold empty (``unverifiable``)
``exact``          same string once LaTeX presentation and whitespace are removed; or
                   both sides are plain words (``Monday``, ``yes``), compared case-folded
``choice``         gold is an option (``B``, ``B. 3/4``): the letter the prediction chooses
``number``         both sides are plain numbers (see ``numbers.py``, incl. the % rule)
``chinese_number`` as ``number``, one side written with Chinese numerals
``math_verify``    everything else: LaTeX, radicals, intervals, sets, expressions
=================  ===================================================================

    >>> fast_check("1,000", "$1000.00").method
    'number'
    >>> fast_check("B", "The answer is (b).").status
    'correct'
    >>> fast_check("7", "So the total is 3 + 4 = 7 apples.\nAnswer: 7").to_dict()["extraction"]
    'answer_colon'
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Literal, NamedTuple

from synth.verify.chinese import parse_chinese_number
from synth.verify.choice import find_choice, gold_option
from synth.verify.extract import find_marked, split_thinking
from synth.verify.normalize import clean, squash
from synth.verify.numbers import Number, numbers_equal, parse_number
from synth.verify.solution import is_prose, read_gold, read_prediction

Status = Literal["correct", "incorrect", "no_answer", "unverifiable", "timeout"]

# Words that are maths, not prose: "pi" vs "3.14" must go to math-verify.
_MATH_WORDS = {"pi", "e", "i", "inf", "infinity", "oo", "sqrt", "undefined", "dne", "none", "nan"}
_PLAIN_WORDS = re.compile(r"[^\W\d_]{2,}(?:[\s'-]+[^\W\d_]+)*")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one comparison, ready to be stored on a row (``to_dict``).

    ``gold`` / ``pred`` are the normalised forms that were compared (``None`` when not reached);
    ``detail`` says why, for anything but a plain match; ``extraction`` / ``gold_extraction`` name
    the pattern that found the answer in a whole solution (``None``: the text was the answer).
    """

    status: Status
    method: str
    gold: str | None = None
    pred: str | None = None
    detail: str | None = None
    extraction: str | None = None
    gold_extraction: str | None = None

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


class Pending(NamedTuple):
    """A pair for math-verify, with how each answer was read."""

    gold: str
    pred: str
    extraction: str | None
    gold_extraction: str | None

    def verdict(self, reply: dict) -> Verdict:
        return Verdict(reply["status"], "math_verify", reply.get("gold"), reply.get("pred"), reply.get("detail"),
                       self.extraction, self.gold_extraction)


def _value(text: str) -> tuple[Number, str] | None:
    plain = parse_number(text)
    if plain is not None:
        return plain, "number"
    zh = parse_chinese_number(text)
    return (zh, "chinese_number") if zh is not None else None


def _is_plain_words(text: str) -> bool:
    """Prose like "Monday" or "no solution": nothing math-verify could improve on."""
    s = clean(text)
    return bool(_PLAIN_WORDS.fullmatch(s)) and not any(w.lower() in _MATH_WORDS for w in s.split())


def _is_answer(text: str) -> bool:
    """An answer as it stands: a plain value, or a few words (所以一共有十五个球。 is a sentence)."""
    return len(text) <= 200 and (_value(text) is not None or (_is_plain_words(text) and not is_prose(text)))


def _compare(gold: str, pred: str, found: str | None, gold_found: str | None) -> Verdict | Pending:
    """Both answers read: the fast paths, else a ``Pending`` pair."""

    def verdict(ok: bool, method: str, g: str, p: str, detail: str | None = None) -> Verdict:
        return Verdict("correct" if ok else "incorrect", method, g, p, detail, found, gold_found)

    g, p = squash(gold), squash(pred)
    if not p:
        return Verdict("no_answer", "none", detail="no answer in the prediction", extraction=found,
                       gold_extraction=gold_found)
    if g == p:
        return verdict(True, "exact", g, p)
    gv, pv = _value(gold), _value(pred)
    if gv and pv:
        method = "chinese_number" if "chinese_number" in (gv[1], pv[1]) else "number"
        return verdict(numbers_equal(gv[0], pv[0]), method, str(gv[0]), str(pv[0]))
    if gv and _is_plain_words(pred):
        return verdict(False, gv[1], str(gv[0]), p, "the prediction is not a number")
    if _is_plain_words(gold) and (pv or _is_plain_words(pred)):
        return verdict(g.casefold() == p.casefold(), "exact", g, p)
    return Pending(gold, pred, found, gold_found)


def _choose(letter: str, option_text: str | None, pred: str, gold_found: str | None) -> Verdict | Pending:
    """Gold is an option: the letter the prediction chooses (a marked answer first), or the option's text."""
    thinking, response, finished = split_thinking(pred)
    if not finished:
        return Verdict("no_answer", "none", detail="the text stops inside <think>: no final answer",
                       extraction="none", gold_extraction=gold_found)
    found = "after_thinking" if thinking is not None else None
    marked = find_marked(response)
    chosen = find_choice(marked.answer) if marked else None
    if chosen:
        found = marked.pattern
    else:
        chosen = find_choice(response)
    if chosen:
        return Verdict("correct" if chosen == letter else "incorrect", "choice", letter, chosen, None, found, gold_found)
    if option_text:  # "B. 3/4" answered with "0.75"
        return decide(option_text, response, gold_found=gold_found)
    return Verdict("incorrect", "choice", letter, None, "no option letter in the prediction", found, gold_found)


def decide(gold: str | None, pred: str | None, *, gold_found: str | None = None) -> Verdict | Pending:
    """A verdict from the fast paths, or the ``Pending`` pair math-verify must compare."""
    if pred is None or not clean(str(pred)):
        return Verdict("no_answer", "none", detail="no answer in the prediction")
    if gold is None or not clean(str(gold)):
        return Verdict("unverifiable", "none", detail="the gold answer is empty")
    gold, pred = str(gold), str(pred)
    if squash(gold) == squash(pred):  # the common case, before any reading
        return Verdict("correct", "exact", squash(gold), squash(pred), gold_extraction=gold_found)
    if gold_found is None:
        read = read_gold(gold)
        gold, gold_found = read.answer or gold, read.pattern
    option = gold_option(gold)
    if option is not None:
        return _choose(option[0], option[1], pred, gold_found)
    reading = read_prediction(pred, _is_answer)
    if reading.answer is None:
        return Verdict("no_answer", "none", detail=reading.detail, extraction=reading.pattern,
                       gold_extraction=gold_found)
    return _compare(gold, reading.answer, reading.pattern, gold_found)


def fast_check(gold: str | None, pred: str | None) -> Verdict | None:
    r"""Decide without math-verify, or return ``None`` when only math-verify can.

        >>> fast_check("50%", "0.5").status
        'correct'
        >>> fast_check(r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}") is None
        True
    """
    decided = decide(gold, pred)
    return decided if isinstance(decided, Verdict) else None
