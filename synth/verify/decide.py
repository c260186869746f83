r"""The cheap part of a comparison: read both answers, then decide without sympy when possible.

``decide`` returns a ``Verdict``, or a ``Pending`` pair that only math-verify can settle:

=================  ===================================================================
method             when
=================  ===================================================================
``none``           no answer in the prediction (``no_answer``), gold empty (``unverifiable``)
``exact``          same string once LaTeX presentation and whitespace are removed; or
                   both sides are plain words (``Monday``, ``yes``), compared case-folded
``choice``         gold is an option (``B``, ``B. 3/4``): the letter the prediction chooses
``number``         both sides are plain numbers (see ``numbers.py``, incl. the % rule), within
                   the caller's tolerance where one is given (``tolerance.py``)
``chinese_number`` as ``number``, one side written with Chinese numerals
``list``           several answers on a side (``multi.py``), each settled by the paths above;
                   the verdict's ``order`` names the ordered-answers policy used
``math_verify``    everything else: LaTeX, radicals, intervals, sets, expressions
=================  ===================================================================

``name = value`` against a bare value compares the value (``v_{\max} = 3/2`` and ``1.5``); a sentence
behind a written marker gives the value it states (``Réponse : … 150 €``, ``答案：每段长 3/4 米``); a
gold solution without a marker gives the value it ends on.

    >>> fast_check("1,000", "$1000.00").method
    'number'
    >>> fast_check("B", "The answer is (b).").status
    'correct'
    >>> fast_check("7", "So the total is 3 + 4 = 7 apples.\nAnswer: 7").to_dict()["extraction"]
    'answer_colon'
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import asdict, dataclass
from typing import Literal, NamedTuple

from synth.verify import multi
from synth.verify.chinese import parse_chinese_number
from synth.verify.choice import find_choice, gold_option
from synth.verify.extract import MARKED, find_last_value, find_marked, split_thinking, value_in_phrase
from synth.verify.latex import apply_order
from synth.verify.normalize import clean, squash
from synth.verify.numbers import Number, numbers_equal, parse_number
from synth.verify.solution import Reading, is_prose, read_prediction
from synth.verify.tolerance import Tolerance

Status = Literal["correct", "incorrect", "no_answer", "unverifiable", "timeout"]

# Words that are maths, not prose: "pi" vs "3.14" must go to math-verify.
_MATH_WORDS = {"pi", "e", "i", "inf", "infinity", "oo", "sqrt", "undefined", "dne", "none", "nan"}
_PLAIN_WORDS = re.compile(r"[^\W\d_]{2,}(?:[\s'-]+[^\W\d_]+)*")
# After a gold solution's last value: at most a few words (a unit, "are left") and the full stop.
_ENDS_ON = re.compile(r"^\s*\$?\s*(?:[^\W\d_]+[\s.,;:!?。]*){0,4}[\s.。!！]*$")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one comparison, ready to be stored on a row (``to_dict``).

    ``gold`` / ``pred`` are the normalised forms that were compared (``None`` when not reached);
    ``detail`` says why, for anything but a plain match; ``extraction`` / ``gold_extraction`` name
    the pattern that found the answer in a whole solution (``None``: the text was the answer);
    ``order`` is the ordered-answers policy the comparison ran under, given whenever a list, set or
    tuple was compared (``detail`` then says whether in order or as a multiset); ``tolerance`` is the
    caller's numeric tolerance (``rel_tol=…, abs_tol=…``), given whenever numbers were compared under one
    (``detail`` then says whether the values were equal, within it, or further apart).
    """

    status: Status
    method: str
    gold: str | None = None
    pred: str | None = None
    detail: str | None = None
    extraction: str | None = None
    gold_extraction: str | None = None
    order: str | None = None
    tolerance: str | None = None

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


class Pending(NamedTuple):
    """A pair for math-verify, with how each answer was read.

    ``order``: the policy to hand math-verify (``None``: the caller's); a list already rewritten as a
    tuple or a set by ``_compare_lists`` goes with ``tuples``, so its order is the one decided here.
    ``policy``: the caller's policy, reported on the verdict when lists are compared; ``detail``: how;
    ``tolerance``: the caller's, which math-verify's reply is held to where both sides are one number
    (the verdict names it only then: a list or an expression is math-verify's to decide).
    """

    gold: str
    pred: str
    extraction: str | None
    gold_extraction: str | None
    order: str | None = None
    policy: str | None = None
    detail: str | None = None
    tolerance: Tolerance | None = None

    def numeric_tolerance(self) -> tuple[float, float] | None:
        """(rel, abs) for math-verify's numeric fallback: one bound for the pair, or None."""
        return None if self.tolerance is None or self.tolerance.per_answer else self.tolerance.scalar()

    def verdict(self, reply: dict) -> Verdict:
        return Verdict(reply["status"], "math_verify", reply.get("gold"), reply.get("pred"),
                       reply.get("detail") or self.detail, self.extraction, self.gold_extraction, self.policy,
                       str(self.tolerance) if "within_tolerance" in reply else None)


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


_GROUPED = re.compile(r"\d,\d{3}(?!\d)")


def _same(gold: str, pred: str) -> bool:
    """The same text but for presentation; ``1,000`` and ``1, 000`` (a list) are not."""
    if squash(gold) != squash(pred):
        return False
    return gold == pred or "," not in gold or bool(_GROUPED.search(clean(gold))) == bool(_GROUPED.search(clean(pred)))


def _has_list(text: str) -> bool:
    return "," in text or ";" in text


def _numbers(gold: Number, pred: Number, tolerance: Tolerance | None) -> tuple[bool, str | None]:
    """Equal or not, and (under a tolerance) the detail that says how."""
    ok = numbers_equal(gold, pred, tolerance=tolerance)
    if tolerance is None:
        return ok, None
    if not ok:
        return False, f"further apart than {tolerance}"
    return True, None if gold.value == pred.value else f"equal within {tolerance}"


def _compare(gold: str, pred: str, found: str | None, gold_found: str | None, order: str = "tuples",
             depth: int = 0, tolerance: Tolerance | None = None) -> Verdict | Pending:
    """Both answers read: the fast paths, else a ``Pending`` pair."""

    def verdict(ok: bool, method: str, g: str, p: str, detail: str | None = None, tol: str | None = None) -> Verdict:
        return Verdict("correct" if ok else "incorrect", method, g, p, detail, found, gold_found, tolerance=tol)

    g, p = squash(gold), squash(pred)
    if not p:
        return Verdict("no_answer", "none", detail="no answer in the prediction", extraction=found,
                       gold_extraction=gold_found)
    if g == p and _same(gold, pred):
        return verdict(True, "exact", g, p)
    if depth < 2:
        listed = _compare_lists(gold, pred, found, gold_found, order, depth, tolerance)
        if listed is not None:
            return listed
        named = _compare_named(gold, pred, found, gold_found, order, depth, tolerance)
        if named is not None:
            return named
    gv, pv = _value(gold), _value(pred)
    if tolerance is not None and (gv or not _has_list(g)):  # one gold answer (the bounds fit it: fit_tolerance)
        tolerance = tolerance.item(0, 1)
    if gv and pv:
        method = "chinese_number" if "chinese_number" in (gv[1], pv[1]) else "number"
        ok, detail = _numbers(gv[0], pv[0], tolerance)
        return verdict(ok, method, str(gv[0]), str(pv[0]), detail, None if tolerance is None else str(tolerance))
    if gv and _is_plain_words(pred):
        return verdict(False, gv[1], str(gv[0]), p, "the prediction is not a number")
    if _is_plain_words(gold) and (pv or _is_plain_words(pred)):
        return verdict(g.casefold() == p.casefold(), "exact", g, p)
    policy = order if _has_list(g) or _has_list(p) else None
    return Pending(gold, pred, found, gold_found, policy=policy, tolerance=tolerance)


def _compare_lists(gold: str, pred: str, found: str | None, gold_found: str | None, order: str,
                   depth: int, tolerance: Tolerance | None) -> Verdict | Pending | None:
    """Several answers on either side (``multi.py``): item by item, a multiset unless ``order`` says otherwise."""
    gi, pi = multi.items(gold), multi.items(pred)
    if not gi and not pi:
        return None
    if gi and not pi:  # beside a list, 3,5 is the list 3 and 5 (alone it is 3.5)
        pi = multi.items(pred, lone_comma=True)
    elif pi and not gi:
        gi = multi.items(gold, lone_comma=True)
    if not gi or not pi:  # a list against one thing: settled here only when the one thing is a plain value
        one = gold if not gi else pred
        if _value(one) or _is_plain_words(one):
            n = len(gi or pi)
            detail = f"{n} answers expected, 1 given" if gi else f"1 answer expected, {n} given"
            return Verdict("incorrect", "list", squash(gold), squash(pred), detail, found, gold_found, order)
        return None
    tol = None if tolerance is None else str(tolerance)
    if order != "tuples":
        gi, pi = [apply_order(i, order) for i in gi], [apply_order(i, order) for i in pi]
    ga, pa, by_name = multi.align(gi, pi)
    ordered = by_name or (order == "all" and not multi.is_set(gold) and not multi.is_set(pred))
    how = "matched by name" if by_name else ("in order" if ordered else "as a multiset")
    detail = f"{len(ga)} and {len(pa)} answers compared {how} (order={order!r}{'' if tol is None else ', ' + tol})"

    def same(i: int, a: str, b: str) -> bool | None:  # gold answer i against a predicted one
        one = None if tolerance is None else tolerance.item(i, len(ga))
        decided = _compare(a, b, None, None, "tuples", depth + 1, one)
        return decided.correct if isinstance(decided, Verdict) else None

    result = multi.match(ga, pa, ordered, same)
    g, p = ", ".join(squash(i) for i in ga), ", ".join(squash(i) for i in pa)
    if result is None:
        return Pending(multi.as_math(ga, ordered), multi.as_math(pa, ordered), found, gold_found, "tuples", order,
                       detail, tolerance)
    return Verdict("correct" if result else "incorrect", "list", g, p, detail, found, gold_found, order, tol)


def _compare_named(gold: str, pred: str, found: str | None, gold_found: str | None, order: str,
                   depth: int, tolerance: Tolerance | None) -> Verdict | Pending | None:
    """``name = value`` against a bare value (compare the value), or against the same name."""
    if "=" not in gold and "=" not in pred:
        return None
    gn, gv = multi.split_name(clean(gold)) if "=" in gold else (None, gold)
    pn, pv = multi.split_name(clean(pred)) if "=" in pred else (None, pred)
    if (gn and not pn and "=" not in pred) or (pn and not gn and "=" not in gold) or (
        gn and pn and gn.replace("\\", "") == pn.replace("\\", "")
    ):
        decided = _compare(gv, pv, found, gold_found, order, depth + 1, tolerance)
        note = f"the value of {gn or pn} compared"
        if isinstance(decided, Verdict):
            return dataclasses.replace(decided, detail=decided.detail or note)
        return decided._replace(detail=decided.detail or note)
    return None


def _choose(letter: str, option_text: str | None, pred: str, gold_found: str | None, order: str,
            tolerance: Tolerance | None) -> Verdict | Pending:
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
        return _decide(option_text, response, gold_found, order, tolerance)
    return Verdict("incorrect", "choice", letter, None, "no option letter in the prediction", found, gold_found)


def read_gold(text: str) -> Reading:
    r"""The gold's answer: a marked one (``#### 72``, a box, a run of boxes); a gold *solution* in prose
    without a marker gives the value it ends on (GSM8K-style ``…\nA: 18``); anything else as it is.

        >>> read_gold("48 / 2 = 24 in May.\n#### 72")
        Reading(answer='72', pattern='hash', detail=None)
    """
    marked = find_marked(text)
    if marked:
        return Reading(marked.answer, marked.pattern)
    if ("\n" in text.strip() or len(text) > 80) and is_prose(text):
        last = find_last_value(text)
        # only a value the text ends on ("…\nA: 18", "so 19 are left."), not one met along the way
        if last and _ENDS_ON.search(text[text.rfind(last.answer) + len(last.answer) :]):
            return Reading(last.answer, last.pattern)
    return Reading(text, None)


def _from_phrase(answer: str, pattern: str | None) -> str:
    """A written marker's phrase that is a sentence (``Il a payé 150 €``, 每段长 3/4 米) gives its value."""
    if pattern in MARKED and pattern not in ("boxed", "fbox", "boxes") and not _is_answer(answer):
        value = value_in_phrase(answer)
        if value is not None:
            return value
    return answer


def _gold_answer(gold: str) -> tuple[str, str | None]:
    """The answer ``decide`` compares the prediction with, read from the gold, and how it was found."""
    read = read_gold(gold)
    return _from_phrase(read.answer or gold, read.pattern), read.pattern


def fit_tolerance(gold: str | None, tolerance: Tolerance | None) -> None:
    """Refuse (``ToleranceError``) a list of bounds whose count does not fit the gold's answers.

    Counted from the gold alone, whatever the prediction: a list (``1, 2``, ``\\{1, 2\\}``, ``6 and 8``,
    ``x = 1, y = 2``) holds its items, anything else one answer (``3,5`` alone is 3.5, ``x = 5`` one
    value); an option's text is counted, an option letter is one answer. An empty gold is not counted
    (its verdict is ``unverifiable``). The error names the gold's answer as written.
    """
    if tolerance is None or not tolerance.per_answer or gold is None or not clean(str(gold)):
        return
    answer, _ = _gold_answer(str(gold))
    option = gold_option(answer)
    if option is not None:
        answer = option[1] or answer
    tolerance.fit(len(multi.items(answer)) or 1, answer)


def decide(gold: str | None, pred: str | None, *, gold_found: str | None = None,
           order: str = "tuples", tolerance: Tolerance | None = None) -> Verdict | Pending:
    """A verdict from the fast paths, or the ``Pending`` pair math-verify must compare.

    ``order`` is the ordered-answers policy (``tuples``, ``all``, ``none``; see ``latex.py``);
    ``tolerance`` the numeric one (``None``: exact values exactly, decimals at 6 places), fitted to
    the gold before anything is compared (``fit_tolerance``).
    """
    fit_tolerance(gold, tolerance)
    return _decide(gold, pred, gold_found, order, tolerance)


def _decide(gold: str | None, pred: str | None, gold_found: str | None, order: str,
            tolerance: Tolerance | None) -> Verdict | Pending:
    if pred is None or not clean(str(pred)):
        return Verdict("no_answer", "none", detail="no answer in the prediction")
    if gold is None or not clean(str(gold)):
        return Verdict("unverifiable", "none", detail="the gold answer is empty")
    gold, pred = str(gold), str(pred)
    if _same(gold, pred):  # the common case, before any reading
        return Verdict("correct", "exact", squash(gold), squash(pred), gold_extraction=gold_found)
    if gold_found is None:
        gold, gold_found = _gold_answer(gold)
    option = gold_option(gold)
    if option is not None:
        return _choose(option[0], option[1], pred, gold_found, order, tolerance)
    reading = read_prediction(pred, _is_answer)
    if reading.answer is None:
        return Verdict("no_answer", "none", detail=reading.detail, extraction=reading.pattern,
                       gold_extraction=gold_found)
    return _compare(gold, _from_phrase(reading.answer, reading.pattern), reading.pattern, gold_found, order, 0,
                    tolerance)


def fast_check(gold: str | None, pred: str | None, order: str = "tuples") -> Verdict | None:
    r"""Decide without math-verify, or return ``None`` when only math-verify can.

        >>> fast_check("50%", "0.5").status
        'correct'
        >>> fast_check(r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}") is None
        True
    """
    decided = decide(gold, pred, order=order)
    return decided if isinstance(decided, Verdict) else None
