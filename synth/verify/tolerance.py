r"""A numeric tolerance a grader states beside a pair: ``rel_tol`` / ``abs_tol`` of ``check``.

Without one, numbers compare as they always have: exact values exactly, decimals at 6 places (see
``numbers.py``). With one, two numbers are equal when ``|a - b| <= max(rel * max(|a|, |b|), abs)``,
as ``math.isclose`` reads them, computed on exact fractions. Some graders state one tolerance per
answer of a list (OlympiadBench's judge: ``[1e+34, 0.001]`` for ``7 \times 10^{35}, 0.002``): a
sequence gives one per gold answer, in the gold's order; a sequence of one applies to every answer
(a one-answer gold included). A sequence of any other length does not fit the gold: ``ToleranceError``.

    >>> str(Tolerance.of(rel_tol=None, abs_tol=1e34))
    'abs_tol=1e+34'
    >>> Tolerance.of(None, 0.001).close(Fraction("0.003"), Fraction("0.002"))
    True
    >>> Tolerance.of(None, [0.1, 0.2]).fit(1, gold="x = 5")
    Traceback (most recent call last):
    ...
    synth.errors.ToleranceError: abs_tol gives 2 tolerances but the gold 'x = 5' has 1 answer: give one per gold answer, in the gold's order, or a single number for all

``check`` fits the bounds to the gold once, before comparing anything (``decide.fit_tolerance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from synth.errors import ToleranceError

Bound = float | tuple[float, ...]


def _bound(name: str, value: float | Sequence[float] | None) -> Bound:
    if value is None:
        return 0.0
    single = isinstance(value, (int, float))
    values = (value,) if single else tuple(value)  # type: ignore[arg-type]
    if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ToleranceError(f"{name} must be a number >= 0 or a list of them (one per gold answer); got {value!r}")
    return float(value) if single else tuple(float(v) for v in values)  # type: ignore[arg-type]


def _text(bound: Bound) -> str:
    return f"{bound:g}" if isinstance(bound, float) else "[" + ", ".join(f"{b:g}" for b in bound) + "]"


@dataclass(frozen=True)
class Tolerance:
    """``rel`` and ``abs``: each a bound, or one bound per gold answer."""

    rel: Bound = 0.0
    abs: Bound = 0.0

    @classmethod
    def of(cls, rel_tol: float | Sequence[float] | None, abs_tol: float | Sequence[float] | None) -> Tolerance | None:
        """The tolerance of ``check``'s arguments; ``None`` (today's policy) when neither is given."""
        if rel_tol is None and abs_tol is None:
            return None
        return cls(_bound("rel_tol", rel_tol), _bound("abs_tol", abs_tol))

    @property
    def per_answer(self) -> bool:
        return any(isinstance(b, tuple) and len(b) > 1 for b in (self.rel, self.abs))

    def fit(self, n: int, gold: str = "") -> None:
        """Refuse bounds that do not fit a gold of ``n`` answers (``gold``: its text, as the error names it).

        A single bound or a list of one fits any gold; a list of ``n`` fits a gold of ``n`` answers.
        """
        for name, bound in (("rel_tol", self.rel), ("abs_tol", self.abs)):
            if isinstance(bound, tuple) and len(bound) not in (1, n):
                where = f"the gold {gold!r}" if gold else "the gold"
                raise ToleranceError(f"{name} gives {len(bound)} tolerances but {where} has {n} answer"
                                     f"{'' if n == 1 else 's'}: give one per gold answer, in the gold's order, "
                                     "or a single number for all")

    def item(self, i: int, n: int) -> Tolerance:
        """The tolerance of gold answer ``i`` of ``n`` (bounds that do not fit ``n``: ``ToleranceError``)."""
        self.fit(n)

        def pick(bound: Bound) -> float:
            if isinstance(bound, float):
                return bound
            return bound[0] if len(bound) == 1 else bound[i]

        return Tolerance(pick(self.rel), pick(self.abs))

    def scalar(self) -> tuple[float, float]:
        """(rel, abs) for a pair of single answers."""
        one = self.item(0, 1)
        return one.rel, one.abs  # type: ignore[return-value]  # item() gives floats

    def close(self, a: Fraction, b: Fraction) -> bool:
        """Within the tolerance (of a single answer)."""
        rel, abs_ = self.scalar()
        # the bound as written (1e34 is 10**34, not the nearest binary float below it)
        return abs(a - b) <= max(Fraction(repr(rel)) * max(abs(a), abs(b)), Fraction(repr(abs_)))

    def __str__(self) -> str:
        parts = [f"{name}={_text(bound)}" for name, bound in (("rel_tol", self.rel), ("abs_tol", self.abs))
                 if bound not in (0.0, (0.0,))]
        return ", ".join(parts) or "rel_tol=0"
