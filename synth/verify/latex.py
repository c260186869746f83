r"""One math-verify comparison, and the rewriting that goes before it (no time limit here).

The same code runs in this process (``inline.py``) and in the worker processes (``_worker.py``).

Before parsing, an answer is rewritten so that math-verify reads it as meant:

* a bare answer gets math delimiters (``$...$``): math-verify's LaTeX reader wants math mode;
* ``\$`` (a dollar sign in LaTeX: ``\$1,\!000``) is dropped, since math-verify cannot parse it;
* the ``order`` policy says which lists are ordered:

  ==========  ===========================  =====================  ===================
  ``order``   ``(a, b)`` tuple             bare ``a, b``          ``\{a, b\}``
  ==========  ===========================  =====================  ===================
  ``tuples``  ordered                      a set                  a set
  ``all``     ordered                      ordered (a tuple)      a set
  ``none``    a set                        a set                  a set
  ==========  ===========================  =====================  ===================

  ``tuples`` is the default (math-verify's own reading). Under ``none`` an open interval written
  ``(a, b)`` reads as a set too: use it only where answers are never intervals.

    >>> for_math_verify("1, 2", "all"), for_math_verify(r"\$1,\!000", "tuples")
    ('$(1, 2)$', '$1,\\!000$')
    >>> for_math_verify("(3, -4)", "none")
    '$\\{3, -4\\}$'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

from synth.verify.normalize import clean

Order = Literal["tuples", "all", "none"]
ORDERS: tuple[str, ...] = ("tuples", "all", "none")
_OPEN, _CLOSE = "([{", ")]}"


def split_top(text: str, at: Callable[[str, int], int]) -> list[str]:
    r"""Split where ``at(text, i)`` gives a separator length > 0, outside brackets (``\{ \}`` count).

    >>> split_top("(1, 2), \\{3, 4\\}, 5", lambda t, i: t[i] == ",")
    ['(1, 2)', '\\{3, 4\\}', '5']
    """
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
            depth += 1 if text[i + 1] == "{" else -1
            i += 2
            continue
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif depth == 0:
            n = at(text, i)
            if n:
                parts.append(text[start:i])
                start = i = i + n
                continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _top_level_items(text: str) -> list[str]:
    """Split at commas outside brackets."""
    return split_top(text, lambda t, i: t[i] == ",")


def _enclosed(text: str) -> bool:
    """Does the bracket opening ``text`` close at its very end: ``(1, 2)`` yes, ``(1)(2)`` no?"""
    depth = 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
    return False


def apply_order(text: str, order: str) -> str:
    """Rewrite a list so that math-verify compares it under the ``order`` policy (see the table)."""
    if order == "tuples":
        return text
    s = clean(text)
    if order == "all" and "," in s and len(_top_level_items(s)) >= 2:
        return f"({s})"  # bare list → tuple
    if order == "none" and s.startswith("(") and s.endswith(")") and _enclosed(s):
        items = _top_level_items(s[1:-1])
        if len(items) >= 2:
            return "\\{" + ", ".join(items) + "\\}"  # tuple → set
    return text


def delimit(text: str) -> str:
    """math-verify's LaTeX extractor wants math mode; a bare answer gets ``$...$``."""
    if "$" in text or "\\(" in text or "\\[" in text or "\\boxed" in text:
        return text
    return f"${text}$"


# A symbol's subscript made of letters, digits and commands only: R_{\odot}, I_{\max}, x_\alpha.
_SUBSCRIPT = re.compile(
    r"(?<![\\a-zA-Z])([a-zA-Z])_(?:\{\s*((?:\\[a-zA-Z]+|[a-zA-Z0-9])(?:\s*(?:\\[a-zA-Z]+|[a-zA-Z0-9]))*)\s*\}|\\([a-zA-Z]+))"
)
_LABEL_COMMAND = re.compile(r"\\([a-zA-Z]+)\s*")
_NOT_LABELS = {"to", "in", "infty", "leq", "geq", "le", "ge", "neq", "cdot", "times", "pm", "mp"}


def _label(m: re.Match) -> str:
    """A subscript is a label: ``R_{\\odot}``, ``I_{\\max}`` become ``R_{odot}``, ``I_{max}`` (math-verify
    cannot read a command it does not know there, and then compares the strings)."""
    inner = m.group(2) if m.group(2) is not None else "\\" + m.group(3)
    if any(c in _NOT_LABELS for c in _LABEL_COMMAND.findall(inner)):
        return m.group(0)
    return m.group(1) + "_{" + _LABEL_COMMAND.sub(r"\1", inner).strip() + "}"


def for_math_verify(text: str, order: str = "tuples") -> str:
    """The text handed to ``math_verify.parse``."""
    text = text.replace("\\$", "")
    if "_" in text and "\\" in text:
        text = _SUBSCRIPT.sub(_label, text)
    return delimit(apply_order(text, order))


def _short(extracted: object, limit: int = 200) -> str | None:
    """The extracted string for the verdict, cut to ``limit`` characters (rows stay small)."""
    if not isinstance(extracted, str):
        return None
    return extracted if len(extracted) <= limit else extracted[: limit - 1] + "…"


@lru_cache(maxsize=4096)
def _parse(text: str) -> list:
    """math-verify's reading of ``text``, kept: one gold answer meets many sampled predictions.

    The parsed sympy objects are immutable and ``verify`` only reads the list.
    """
    from math_verify import parse

    return parse(text, parsing_timeout=None)


def _within(gold_parsed: list, pred_parsed: list, tolerance: tuple[float, float]) -> bool | None:
    """Both sides one number: within (rel, abs)? None when either side is not a single real number."""
    import sympy

    a, b = gold_parsed[0], pred_parsed[0]
    if not all(isinstance(x, sympy.Expr) and x.is_number for x in (a, b)):
        return None
    a, b = (sympy.N(x, 30) for x in (a, b))
    if not (a.is_real and b.is_real):
        return None
    rel, abs_ = (sympy.Rational(repr(t)) for t in tolerance)  # the bound as written, not its binary float
    return bool(abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_))


def verify_pair(gold: str, pred: str, order: str = "tuples", tolerance: tuple[float, float] | None = None) -> dict:
    """Parse and compare with math-verify (its own timeouts off); status and the strings it read.

    ``tolerance`` (rel, abs): where both sides are one real number, it decides instead of
    math-verify's rounding (``\cos^{10}(\frac{\pi}{10})`` against ``0.6054`` within abs 1e-4).
    """
    from math_verify import verify

    gold_parsed = _parse(for_math_verify(gold, order))
    if not gold_parsed:
        return {"status": "unverifiable", "detail": "math-verify could not parse the gold answer"}
    pred_parsed = _parse(for_math_verify(pred, order))
    # parse() returns [sympy object, extracted string]; report the strings (str() of a sympy
    # object can itself be slow).
    gold_text = _short(gold_parsed[-1])
    if not pred_parsed:
        return {"status": "incorrect", "gold": gold_text, "detail": "math-verify could not parse the prediction"}
    pred_text = _short(pred_parsed[-1])
    within = None if tolerance is None else _within(gold_parsed, pred_parsed, tolerance)
    if within is not None:
        return {"status": "correct" if within else "incorrect", "gold": gold_text, "pred": pred_text,
                "detail": "equal within the tolerance" if within else "further apart than the tolerance",
                "within_tolerance": within}
    ok = verify(gold_parsed, pred_parsed, timeout_seconds=None)
    return {"status": "correct" if ok else "incorrect", "gold": gold_text, "pred": pred_text}
