"""Split a solution into reasoning steps (for step labels and path-level dedup).

The first structure found wins:

1. numbered steps: ``Step 1:``, ``1.`` / ``1)`` / ``(1)`` at a line start, ``第一步`` / ``第1步``
   (text before the first marker is a step of its own; markers stay in the step text)
2. paragraphs separated by blank lines
3. lines
4. sentences (``.``/``!``/``?`` followed by a space, or ``。！？``; decimals are not split)

    >>> split_steps("Step 1: 3 + 4 = 7.\\nStep 2: 7 * 2 = 14.\\nThe answer is 14.")
    ['Step 1: 3 + 4 = 7.', 'Step 2: 7 * 2 = 14.\\nThe answer is 14.']
    >>> split_steps("He has 3.5 kg. She has 2 kg. Together 5.5 kg.")
    ['He has 3.5 kg.', 'She has 2 kg.', 'Together 5.5 kg.']
"""

from __future__ import annotations

import re

_ZH_ORDINAL = r"[一二三四五六七八九十\d]+"
_MARKER = re.compile(
    r"^[ \t]*(?:[#*]+[ \t]*)?"
    rf"(?:step[ \t]*\d+[ \t]*[:.)：]?|\d+[.)][ \t]|\(\d+\)[ \t]?|第{_ZH_ORDINAL}步)",
    re.IGNORECASE | re.MULTILINE,
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])")


def _nonempty(parts: list[str]) -> list[str]:
    return [p.strip() for p in parts if p.strip()]


def split_steps(text: str | None) -> list[str]:
    """Split ``text`` into steps; an empty text gives ``[]``.

        >>> split_steps("第一步：先算单价。第二步：再算总价。")
        ['第一步：先算单价。', '第二步：再算总价。']
    """
    if not text or not text.strip():
        return []
    starts = [m.start() for m in _MARKER.finditer(text)]
    if not starts:  # markers may also follow each other on one line: 第一步…。第二步…
        starts = [m.start() for m in re.finditer(rf"第{_ZH_ORDINAL}步", text)]
    if len(starts) >= 2:
        bounds = ([0] if starts[0] > 0 else []) + starts + [len(text)]
        return _nonempty([text[a:b] for a, b in zip(bounds, bounds[1:])])
    for splitter in (_BLANK_LINE.split, str.splitlines, _SENTENCE.split):
        parts = _nonempty(splitter(text))
        if len(parts) >= 2:
            return parts
    return [text.strip()]
