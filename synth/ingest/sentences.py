"""Sentence boundaries in Chinese and English text, and cut points inside an over-long sentence.

A sentence ends after 。！？!?； (with the closing quotes and brackets that follow, ”’」』）), after
…… and after ``.`` only before whitespace or the end, so ``4.0`` and ``10.5%`` stay whole. A
terminator inside 《…》 ends nothing. A line break ends a sentence next to CJK text (Chinese
documents put one paragraph per line) and before list items, table rows and quotes; between two
Latin words it is a hard wrap, not a boundary. A Markdown table row (a line opening with ``|``) is
never cut by a sentence end.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from synth.ingest.text import is_cjk_or_fullwidth

_CLOSERS = "”’」』）)】〕\"'\\]"
_END = re.compile(f"(?:[。！？!?；]+|…+|\\.+(?=[{_CLOSERS}]*(?:\\s|$)))[{_CLOSERS}]*")
_BOOK_TITLE = re.compile(r"《[^《》\n]*》")
_NEXT_LINE_STARTS_ITEM = re.compile(r"[-*+•>|#]|\d+[.)、]|[（(]")
# inside a sentence that alone exceeds the size: cut after a line break, then after a comma or a
# colon, then at a space
_CUTS = (re.compile(r"\n+"), re.compile(r"[，,、：:；;]+[”’」』）)]*"), re.compile(r"[ \t\u3000]+"))
_WORD_CHAR = re.compile(r"[\w.%%]")
_NUMBERING = re.compile(r"[ \t]*\d+(?:\.\d+)*\.*")  # "1." / "4.1." opening a line: numbering, not a sentence
_ABBREVIATIONS = {"e.g", "i.e", "fig", "figs", "no", "nos", "mr", "mrs", "ms", "dr", "vs", "cf", "approx", "p", "pp"}
_WORD_BEFORE = re.compile(r"(?<![A-Za-z.])([A-Za-z.]+)$")


def protected_ranges(text: str) -> list[tuple[int, int]]:
    """Spans never cut: book and document titles in 《…》."""
    return [m.span() for m in _BOOK_TITLE.finditer(text)]


def _inside(pos: int, ranges: list[tuple[int, int]], starts: list[int]) -> tuple[int, int] | None:
    i = bisect_right(starts, pos) - 1
    if i >= 0 and ranges[i][0] < pos < ranges[i][1]:
        return ranges[i]
    return None


def sentence_ends(text: str, start: int, end: int, ranges, starts) -> list[int]:
    """Positions in ``text[start:end]`` where a sentence ends (exclusive ends, ascending).

    >>> t = "工业4.0时代，资本充足率为10.5%。“不得低于百分之八。”见《安全生产法。》第二条。Done. Next"
    >>> r = protected_ranges(t)
    >>> [t[:e] for e in sentence_ends(t, 0, len(t), r, [a for a, _ in r])][:2]
    ['工业4.0时代，资本充足率为10.5%。', '工业4.0时代，资本充足率为10.5%。“不得低于百分之八。”']
    >>> [t[e:e + 4] for e in sentence_ends(t, 0, len(t), r, [a for a, _ in r])]
    ['“不得低', '见《安全', 'Done', ' Nex']
    """
    out = []
    for m in _END.finditer(text, start, end):
        # a terminator inside 《…》 ends inside it too ("》" is no closer): checking the end suffices
        if ranges and _inside(m.end(), ranges, starts):
            continue
        if text[m.start()] == "." and _not_an_end(text, start, m.start()):
            continue
        out.append(m.end())
    nl = text.find("\n", start, end)
    while nl != -1:
        prev = text[nl - 1] if nl > start else ""
        nxt = text[nl + 1] if nl + 1 < end else ""
        if is_cjk_or_fullwidth(prev) or is_cjk_or_fullwidth(nxt) or _NEXT_LINE_STARTS_ITEM.match(text, nl + 1, end) \
                or prev in ":|" or not prev.strip():
            out.append(nl)
        nl = text.find("\n", nl + 1, end)
    if out and len(out) > 1:
        out = sorted(set(out))
    if "|" in text[start:end]:
        out = [pos for pos in out if not _inside_table_row(text, start, pos)]
    return out


def _inside_table_row(text: str, start: int, pos: int) -> bool:
    """Whether ``pos`` falls inside a Markdown table row (a line opening with ``|``), not at its end:
    a row is one atom, so no chunk boundary cuts it."""
    line_start = max(start, text.rfind("\n", start, pos) + 1)
    return text.startswith("|", line_start) and pos < len(text) and text[pos] != "\n"


def _not_an_end(text: str, start: int, dot: int) -> bool:
    """A dot after line-opening numbering (``4.1.``) or after a common abbreviation (``e.g.``)."""
    line_start = max(start, text.rfind("\n", start, dot) + 1)
    if dot > line_start and _NUMBERING.fullmatch(text, line_start, dot):
        return True
    word = _WORD_BEFORE.search(text, max(start, dot - 8), dot)  # lookbehind sees before pos
    return word is not None and word.group(1).lower() in _ABBREVIATIONS


def cut_point(text: str, start: int, limit: int, ranges, starts) -> int:
    """Where to cut a sentence that is too long, at or before ``limit`` and after ``start``: the last
    line break, else the last comma or colon, else the last space in the window (ignoring the
    first third when a later candidate exists), else a hard cut moved back out of 《…》 and out of a
    word or number.

    >>> cut_point("先检查油位，再检查气压，最后试运行", 0, 10, [], [])
    6
    >>> cut_point("ABCDEFGHIJ", 0, 5, [], [])
    5
    """
    floor = start + (limit - start) // 3
    for pattern in _CUTS:
        best = -1
        for m in pattern.finditer(text, start + 1, limit):
            if m.end() <= limit and not _inside(m.end(), ranges, starts):
                best = m.end()
        if best > floor:
            return best
    for pattern in _CUTS:
        for m in reversed(list(pattern.finditer(text, start + 1, limit))):
            if m.end() <= limit and not _inside(m.end(), ranges, starts):
                return m.end()
    cut = limit
    inside = _inside(cut, ranges, starts)
    if inside and inside[0] > start:
        return inside[0]
    back = cut
    while back > start and _WORD_CHAR.match(text, back - 1) and _WORD_CHAR.match(text, back) \
            and text[back - 1].isascii() and text[back].isascii():
        back -= 1
    return back if back > start else cut
