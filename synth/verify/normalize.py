"""Strip the presentation from an answer string before it is compared.

Only wrappers that never change the value are removed (after Hendrycks' ``_strip_string`` and
PRM800K's grader): math delimiters, ``\\boxed{}``, ``\\text{}``, spacing commands, ``\\left``/``\\right``,
``\\dfrac``. Units, percent signs and currency are the number parser's business (``numbers.py``).

    >>> clean(r"$\\boxed{\\dfrac{1}{2}}$.")
    '\\\\frac{1}{2}'
    >>> clean("  ＄１２ ")   # full-width forms fold to ASCII (NFKC)
    '$12'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# \boxed{...} / \fbox{...} / \text{...} style wrappers whose argument is kept.
_KEEP_ARG = ("boxed", "fbox", "text", "textbf", "textrm", "mathrm", "mathbf", "mbox", "displaystyle")

_SPACING = re.compile(r"\\[,;:! ]|\\quad|\\qquad|~")
_LEFT_RIGHT = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])")
_FRAC_VARIANTS = re.compile(r"\\[dt]frac(?![a-zA-Z])")
_DELIMS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))
# Not "!": 5! is a factorial.
_TRAILING_PUNCT = re.compile(r"[\s.,;:。，；：?？]+$")


def matching_brace(text: str, open_at: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``open_at``, or -1 when unbalanced.

    Escaped braces (``\\{``, ``\\}``, as in a LaTeX set) do not count.

        >>> matching_brace(r"{\\{1,2\\}}", 0)
        8
    """
    depth = 0
    i = open_at
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2  # skip the escaped character, e.g. \{ or \}
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def unwrap_commands(text: str, names: tuple[str, ...] = _KEEP_ARG) -> str:
    r"""Replace ``\name{arg}`` by ``arg`` for each command in ``names`` (nested braces allowed).

    >>> unwrap_commands(r"\boxed{\frac{1}{2}}\text{ cm}")
    '\\frac{1}{2} cm'
    """
    pattern = re.compile(r"\\(?:" + "|".join(names) + r")(?![a-zA-Z])\s*")
    out = []
    pos = 0
    while True:
        m = pattern.search(text, pos)
        if m is None:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos : m.start()])
        if m.end() < len(text) and text[m.end()] == "{":
            close = matching_brace(text, m.end())
            if close == -1:  # truncated: drop the command, keep the rest
                pos = m.end() + 1
            else:
                # Unwrap the argument recursively (\boxed{\text{B}}).
                out.append(unwrap_commands(text[m.end() + 1 : close], names))
                pos = close + 1
        else:
            pos = m.end()  # \displaystyle, or \boxed 5 without braces


def strip_delimiters(text: str) -> str:
    """Remove one pair of math delimiters around the whole string: ``$..$``, ``\\(..\\)``, ``\\[..\\]``."""
    text = text.strip()
    for left, right in _DELIMS:
        if len(text) >= len(left) + len(right) and text.startswith(left) and text.endswith(right):
            return text[len(left) : len(text) - len(right)].strip()
    return text


def clean(text: str) -> str:
    r"""Fold Unicode forms and remove value-preserving LaTeX presentation.

    >>> clean(r"\left( 1, 2 \right)")
    '( 1, 2 )'
    """
    # Each answer is cleaned several times on its way through the fast paths: remember short ones.
    return _clean_short(text) if len(text) <= 300 else _clean(text)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-").replace("\u2044", "/")
    text = strip_delimiters(_TRAILING_PUNCT.sub("", text))
    text = unwrap_commands(text)
    text = strip_delimiters(text)  # "\boxed{$5$}"
    text = _SPACING.sub(" ", text)
    text = _LEFT_RIGHT.sub("", text)
    text = _FRAC_VARIANTS.sub(r"\\frac", text)
    text = _TRAILING_PUNCT.sub("", text)
    return " ".join(text.split())


_clean_short = lru_cache(maxsize=16384)(_clean)


def squash(text: str) -> str:
    """``clean`` and drop all whitespace: the key for exact comparison.

    >>> squash(r"$x + 1$") == squash("x+1")
    True
    """
    return "".join(clean(text).split())
