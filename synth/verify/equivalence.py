r"""Is a predicted answer equivalent to the gold one? ``check`` / ``check_many`` answer with a ``Verdict``.

Cheap paths first, math-verify (in a worker process, under a wall-clock limit) only for the rest:

=================  ===================================================================
method             when
=================  ===================================================================
``none``           pred empty (``no_answer``), gold empty (``unverifiable``)
``exact``          same string once LaTeX presentation and whitespace are removed; or
                   both sides are plain words (``Monday``, ``yes``), compared case-folded
``choice``         gold is a letter A–J: the letter the prediction commits to
``number``         both sides are plain numbers (see ``numbers.py``, incl. the % rule)
``chinese_number`` as ``number``, one side written with Chinese numerals
``math_verify``    everything else: LaTeX, radicals, intervals, sets, expressions
=================  ===================================================================

    >>> check("1,000", "$1000.00").method
    'number'
    >>> check("B", "The answer is (b).").status
    'correct'
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Literal

from synth.verify.chinese import parse_chinese_number
from synth.verify.choice import find_choice, gold_choice
from synth.verify.extract import extract_answer
from synth.verify.normalize import clean, squash
from synth.verify.numbers import Number, numbers_equal, parse_number
from synth.verify.timeout import WorkerPool, default_pool

Status = Literal["correct", "incorrect", "no_answer", "unverifiable", "timeout"]
DEFAULT_TIMEOUT = 5.0
# An "answer" longer than this is a whole text, not an answer: sympy would only burn the timeout on it.
MAX_MATH_VERIFY_CHARS = 2000

# Words that are maths, not prose: "pi" vs "3.14" must go to math-verify.
_MATH_WORDS = {"pi", "e", "i", "inf", "infinity", "oo", "sqrt", "undefined", "dne", "none", "nan"}
_PLAIN_WORDS = re.compile(r"[^\W\d_]{2,}(?:[\s'-]+[^\W\d_]+)*")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one comparison, ready to be stored on a row (``to_dict``).

    ``gold`` / ``pred`` are the normalised forms that were compared (``None`` when not reached);
    ``detail`` says why, for anything but a plain match.
    """

    status: Status
    method: str
    gold: str | None = None
    pred: str | None = None
    detail: str | None = None

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


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


def _verdict(ok: bool, method: str, gold: str, pred: str, detail: str | None = None) -> Verdict:
    return Verdict("correct" if ok else "incorrect", method, gold, pred, detail)


def fast_check(gold: str | None, pred: str | None) -> Verdict | None:
    """Decide without math-verify, or return ``None`` when only math-verify can.

        >>> fast_check("50%", "0.5").status
        'correct'
        >>> fast_check(r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}") is None
        True
    """
    if pred is None or not clean(str(pred)):
        return Verdict("no_answer", "none", detail="no answer in the prediction")
    if gold is None or not clean(str(gold)):
        return Verdict("unverifiable", "none", detail="the gold answer is empty")
    gold, pred = str(gold), str(pred)
    g, p = squash(gold), squash(pred)
    if g == p:
        return Verdict("correct", "exact", g, p)
    letter = gold_choice(gold)
    if letter is not None:
        chosen = find_choice(pred)
        detail = None if chosen else "no option letter in the prediction"
        return _verdict(chosen == letter, "choice", letter, chosen, detail)
    gv, pv = _value(gold), _value(pred)
    if gv and pv:
        method = "chinese_number" if "chinese_number" in (gv[1], pv[1]) else "number"
        return _verdict(numbers_equal(gv[0], pv[0]), method, str(gv[0]), str(pv[0]))
    if gv and _is_plain_words(pred):
        return _verdict(False, gv[1], str(gv[0]), p, "the prediction is not a number")
    if _is_plain_words(gold) and (pv or _is_plain_words(pred)):
        return _verdict(g.casefold() == p.casefold(), "exact", g, p)
    return None


def _math_verify(gold: str, pred: str, timeout: float, pool: WorkerPool | None) -> Verdict:
    longest = max(len(gold), len(pred))
    if longest > MAX_MATH_VERIFY_CHARS:
        detail = f"answer too long for math-verify ({longest} > {MAX_MATH_VERIFY_CHARS} chars); extract it first"
        return Verdict("unverifiable", "none", detail=detail)
    reply = (pool or default_pool()).verify(gold, pred, timeout)
    return Verdict(reply["status"], "math_verify", reply.get("gold"), reply.get("pred"), reply.get("detail"))


def check(
    gold: str | None,
    pred: str | None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    use_math_verify: bool = True,
    pool: WorkerPool | None = None,
) -> Verdict:
    r"""Compare a predicted answer with the gold answer.

    Args:
        gold: the reference answer (not a whole solution).
        pred: the model's extracted answer (see ``extract_answer``); ``None`` means no answer.
        timeout: seconds math-verify may take before the verdict is ``timeout``.
        use_math_verify: when False, pairs the fast paths cannot decide are ``unverifiable``.
        pool: worker processes to use; the process-wide default when ``None``.

    Safe to call from any thread and from inside a running event loop (it blocks; see ``acheck``).

        >>> check(r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}").method
        'math_verify'
        >>> check("三百二十五", "325").status
        'correct'
    """
    verdict = fast_check(gold, pred)
    if verdict is not None:
        return verdict
    if not use_math_verify:
        return Verdict("unverifiable", "none", detail="needs math-verify, which is switched off")
    return _math_verify(str(gold), str(pred), timeout, pool)


def check_solution(gold: str | None, solution: str | None, **kwargs) -> Verdict:
    """``extract_answer`` from a whole solution, then ``check`` it against ``gold``."""
    return check(gold, extract_answer(solution).answer, **kwargs)


def check_many(
    pairs: Iterable[tuple[str | None, str | None]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    use_math_verify: bool = True,
    pool: WorkerPool | None = None,
) -> list[Verdict]:
    """``check`` for many ``(gold, pred)`` pairs, in order.

    Fast paths run inline; the remaining pairs are de-duplicated (rejection sampling repeats the
    same answer many times) and spread over the worker processes.

        >>> [v.status for v in check_many([("2", "2.0"), ("2", "3")])]
        ['correct', 'incorrect']
    """
    pairs = list(pairs)
    verdicts: list[Verdict | None] = []
    pending: dict[tuple[str, str], list[int]] = {}
    for i, (gold, pred) in enumerate(pairs):
        verdict = fast_check(gold, pred)
        if verdict is None and not use_math_verify:
            verdict = Verdict("unverifiable", "none", detail="needs math-verify, which is switched off")
        if verdict is None:
            pending.setdefault((str(gold), str(pred)), []).append(i)
        verdicts.append(verdict)
    if pending:
        pool = pool or default_pool()
        keys = list(pending)
        with ThreadPoolExecutor(max_workers=min(pool.size, len(keys))) as executor:
            results = executor.map(lambda key: _math_verify(key[0], key[1], timeout, pool), keys)
            for key, verdict in zip(keys, results):
                for i in pending[key]:
                    verdicts[i] = verdict
    return verdicts  # type: ignore[return-value]  # every slot is filled above


async def acheck(gold: str | None, pred: str | None, **kwargs) -> Verdict:
    """``check`` without blocking the event loop (runs in a thread)."""
    return await asyncio.to_thread(check, gold, pred, **kwargs)


async def acheck_many(pairs: Iterable[tuple[str | None, str | None]], **kwargs) -> list[Verdict]:
    """``check_many`` without blocking the event loop (runs in a thread)."""
    return await asyncio.to_thread(check_many, list(pairs), **kwargs)
