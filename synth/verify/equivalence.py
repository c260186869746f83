r"""Is a predicted answer equivalent to the gold one? ``check`` / ``check_many`` answer with a ``Verdict``.

Both sides are read first (a whole solution gives its final answer, see ``solution.py``), then the
cheap paths decide (``decide.py``), and math-verify settles the rest under a time limit: in this
process when that is safe (``inline.py``), else in a worker process (``timeout.py``).

    >>> check("1,000", "$1000.00").method
    'number'
    >>> check("B", "A and C are ruled out, so the answer is (b).").status
    'correct'
    >>> check("0.003, 5.233", "0.002, 5.234", abs_tol=0.001).tolerance
    'abs_tol=0.001'
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from synth.verify import inline as _inline
from synth.verify.decide import Pending, Status, Verdict, decide, fast_check
from synth.verify.latex import ORDERS
from synth.verify.timeout import WorkerPool, default_pool
from synth.verify.tolerance import Tolerance

__all__ = ["DEFAULT_TIMEOUT", "Status", "Verdict", "acheck", "acheck_many", "check", "check_many",
           "check_solution", "fast_check"]

DEFAULT_TIMEOUT = 5.0
# An answer longer than this is a whole text that no extraction could shorten: sympy would only burn
# the limit on it.
MAX_MATH_VERIFY_CHARS = 2000


def _check_order(order: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")


def _too_long(pair: Pending) -> Verdict | None:
    longest = max(len(pair.gold), len(pair.pred))
    if longest <= MAX_MATH_VERIFY_CHARS:
        return None
    detail = f"answer too long for math-verify ({longest} > {MAX_MATH_VERIFY_CHARS} chars) and no final answer found in it"
    return Verdict("unverifiable", "none", detail=detail, extraction=pair.extraction,
                   gold_extraction=pair.gold_extraction)


def _switched_off(pair: Pending) -> Verdict:
    return Verdict("unverifiable", "none", detail="needs math-verify, which is switched off",
                   extraction=pair.extraction, gold_extraction=pair.gold_extraction)


def _in_worker(pair: Pending, timeout: float, pool: WorkerPool | None, order: str) -> Verdict:
    return _too_long(pair) or pair.verdict(
        (pool or default_pool()).verify(pair.gold, pair.pred, timeout, pair.order or order, pair.numeric_tolerance()))


def _settle(pairs: list[Pending], timeout: float, pool: WorkerPool | None, order: str, here: bool) -> list[Verdict]:
    """math-verify on distinct pairs: in this process where safe, the rest over the worker processes."""
    verdicts: list[Verdict | None] = [_too_long(p) for p in pairs]
    todo = [i for i, v in enumerate(verdicts) if v is None]
    if here and _inline.available():
        safe = [i for i in todo if not (_inline.risky(pairs[i].gold) or _inline.risky(pairs[i].pred))]
        if safe:
            with _inline.session():
                for i in safe:
                    verdicts[i] = pairs[i].verdict(_inline.verify_here(
                        pairs[i].gold, pairs[i].pred, timeout, pairs[i].order or order, pairs[i].numeric_tolerance()))
        todo = [i for i in todo if verdicts[i] is None]
    if todo:
        pool = pool or default_pool()
        with ThreadPoolExecutor(max_workers=min(pool.size, len(todo))) as executor:
            done = executor.map(lambda i: _in_worker(pairs[i], timeout, pool, order), todo)
            for i, verdict in zip(todo, done):
                verdicts[i] = verdict
    return verdicts  # type: ignore[return-value]  # every slot is filled above


def check(
    gold: str | None,
    pred: str | None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    use_math_verify: bool = True,
    pool: WorkerPool | None = None,
    order: str = "tuples",
    inline: bool = True,
    rel_tol: float | Sequence[float] | None = None,
    abs_tol: float | Sequence[float] | None = None,
) -> Verdict:
    r"""Compare a predicted answer (or a whole solution) with the gold answer.

    Args:
        gold: the reference answer; a gold solution with ``#### 72`` or a box gives its marked answer.
        pred: the model's answer, or its whole output (``<think>`` included); ``None`` means no answer.
        timeout: seconds math-verify may take before the verdict is ``timeout``.
        use_math_verify: when False, pairs the fast paths cannot decide are ``unverifiable``.
        pool: worker processes for comparisons that cannot run here; the process-wide default when ``None``.
        order: which lists are ordered: ``tuples`` (default: ``(a, b)`` ordered, bare ``a, b`` a set),
            ``all`` (bare lists ordered too) or ``none`` (tuples compared as sets).
        inline: compare in this process when safe (main thread, input passes the guard); False always
            uses the worker processes.
        rel_tol, abs_tol: a tolerance the grader states for this pair: numbers are equal when
            ``|a - b| <= max(rel_tol * max(|a|, |b|), abs_tol)``, list items included (a list of
            tolerances: one per gold answer, in the gold's order). ``None`` for both (default): exact
            values exactly, decimals at 6 places. The verdict's ``tolerance`` names it.

    Safe to call from any thread and from inside a running event loop (it blocks; see ``acheck``).

        >>> check(r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}").method
        'math_verify'
        >>> check("三百二十五", "325").status
        'correct'
    """
    _check_order(order)
    decided = decide(gold, pred, order=order, tolerance=Tolerance.of(rel_tol, abs_tol))
    if isinstance(decided, Verdict):
        return decided
    if not use_math_verify:
        return _switched_off(decided)
    return _settle([decided], timeout, pool, order, inline)[0]


def check_solution(gold: str | None, solution: str | None, **kwargs) -> Verdict:
    """``check`` a whole solution against ``gold`` (``check`` reads the final answer out of it)."""
    return check(gold, solution, **kwargs)


def check_many(
    pairs: Iterable[tuple[str | None, str | None]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    use_math_verify: bool = True,
    pool: WorkerPool | None = None,
    order: str = "tuples",
    inline: bool = True,
    rel_tol: float | Sequence[float] | None = None,
    abs_tol: float | Sequence[float] | None = None,
) -> list[Verdict]:
    """``check`` for many ``(gold, pred)`` pairs, in order (same arguments as ``check``; a tolerance
    holds for every pair).

    Fast paths run first; the pairs left for math-verify are de-duplicated (rejection sampling
    repeats the same answer many times) and compared in this process, or, off the main thread or
    with ``inline=False``, spread over the worker processes.

        >>> [v.status for v in check_many([("2", "2.0"), ("2", "3")])]
        ['correct', 'incorrect']
    """
    _check_order(order)
    tolerance = Tolerance.of(rel_tol, abs_tol)
    verdicts: list[Verdict | None] = []
    pending: dict[tuple[str, str, str | None], list[tuple[int, Pending]]] = {}
    for i, (gold, pred) in enumerate(pairs):
        decided = decide(gold, pred, order=order, tolerance=tolerance)
        if isinstance(decided, Pending):
            if use_math_verify:
                pending.setdefault((decided.gold, decided.pred, decided.order), []).append((i, decided))
                decided = None
            else:
                decided = _switched_off(decided)
        verdicts.append(decided)
    if pending:
        settled = _settle([uses[0][1] for uses in pending.values()], timeout, pool, order, inline)
        for uses, verdict in zip(pending.values(), settled):
            for i, pair in uses:  # same answers, but each pair keeps how its answers were found
                verdicts[i] = dataclasses.replace(verdict, extraction=pair.extraction,
                                                  gold_extraction=pair.gold_extraction, order=pair.policy)
    return verdicts  # type: ignore[return-value]  # every slot is filled above


async def acheck(gold: str | None, pred: str | None, **kwargs) -> Verdict:
    """``check`` without blocking the event loop (runs in a thread, so math-verify runs in a worker)."""
    return await asyncio.to_thread(check, gold, pred, **kwargs)


async def acheck_many(pairs: Iterable[tuple[str | None, str | None]], **kwargs) -> list[Verdict]:
    """``check_many`` without blocking the event loop (runs in a thread, so math-verify runs in workers)."""
    return await asyncio.to_thread(check_many, list(pairs), **kwargs)
