"""Multiple-choice letters: ``B``, ``(B)``, ``B.``, ``答案：B``, ``option b``, ``\\text{(B)}``.

A gold answer counts as a choice only when it is a single capital letter A–J, possibly in
parentheses or followed by ``.``/``:``/``)``; a lowercase ``e`` or ``x`` stays math.

    >>> gold_choice("(C)")
    'C'
    >>> find_choice("The correct option is (b) because ...")
    'B'
    >>> find_choice("答案：D")
    'D'
"""

from __future__ import annotations

import re

from synth.verify.normalize import clean

_LETTERS = "A-J"
_GOLD = re.compile(rf"\(?\s*([{_LETTERS}])\s*\)?[.:)]?")
_BARE = re.compile(rf"\(?\s*([{_LETTERS}])\s*\)?[.:)]?", re.IGNORECASE)
# Ordered from most to least explicit; the last match of the first pattern that matches wins.
# A lowercase letter counts only in parentheses or at the very end ("the answer is a bit" is English).
_LETTER = r"(?-i:[(（]([A-Ja-j])[)）]|([A-J])(?![a-zA-Z])|([a-j])(?=[.)]?\s*$))"
# Ordered from most to least explicit; the last match of the first pattern that matches wins.
_PATTERNS = (
    re.compile(
        rf"(?:answer|option|choice)\s*(?:is|would be|should be)?\s*[:：]?\s*{_LETTER}", re.IGNORECASE
    ),
    re.compile(rf"(?:答案|选项|选择|应选|选)\s*(?:是|为|应该是|应为)?\s*[:：]?\s*{_LETTER}"),
)
_LEADING = re.compile(rf"^\s*(?:[(（]([{_LETTERS}])[)）]|([{_LETTERS}])[.:：、)）])\s")  # "B. 42", "(B) 42"
_PARENS = re.compile(rf"[(（]([{_LETTERS}])[)）]")


def gold_choice(text: str) -> str | None:
    """The letter if ``text`` is a bare choice letter, else ``None`` (strict: for gold answers)."""
    m = _GOLD.fullmatch(clean(text))
    return m.group(1) if m else None


def find_choice(text: str) -> str | None:
    """The choice letter a prediction commits to, or ``None`` (lenient: for model answers).

    A lone letter (any case), then "answer/option/choice X", then 答案/选 X; else, unless
    several different "(X)" appear, a leading "X." / "(X)", then the one letter in parentheses.

        >>> find_choice("b") , find_choice("(A) or (B)")
        ('B', None)
    """
    s = clean(text)
    m = _BARE.fullmatch(s)
    if m:
        return m.group(1).upper()
    for pattern in _PATTERNS:
        found = [next(g for g in m.groups() if g) for m in pattern.finditer(s + " ")]
        if found:
            return found[-1].upper()
    letters = {x.upper() for x in _PARENS.findall(s)}
    if len(letters) > 1:
        return None  # "(A) or (B)": no commitment
    m = _LEADING.match(s + " ")
    if m:
        return m.group(1) or m.group(2)
    return letters.pop() if letters else None
