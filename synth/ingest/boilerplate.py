"""Boilerplate: PDF running headers and footers, and chunks repeated across documents.

Running headers and footers are lines in the top or bottom two lines of a page that recur once digits
are folded (so ``第 3 页 共 60 页`` and ``第 4 页 共 60 页`` count as one line): on at least half of the
pages, or on three pages at least and never below or above those zones (a running header that
changes per chapter, with the page number glued to it). They are removed before the document text is built, so chunk
spans stay exact.

Repeated chunks (a disclaimer on every page, the same notice in every file) are dropped by the
exact key of synth.dedup: the text with case, width, punctuation and spacing folded.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

from synth.dedup.normalize import normalize

ZONE = 2  # lines at the top and at the bottom of a page that may be a running header or footer
_DIGITS = re.compile(r"\d+")
_BLANKS = re.compile(r"\s+")
_GLUED_NUMBER = re.compile(r"^\s*\d{1,4}\s+\S|\S\s+\d{1,4}\s*$")  # "90 5.2. TANGENTIALEBENE", "Chapter 1. Intro 7"


def line_key(line: str) -> str:
    """A line with spacing removed and digit runs folded: page numbers do not make lines differ.

    >>> line_key("第 3 页  共 60 页") == line_key("第 14 页 共 60 页")
    True
    """
    return _DIGITS.sub("#", _BLANKS.sub("", line))


def _zone(lines: list[str]) -> list[int]:
    """Indices of the first and last non-blank lines; one each on a page of four lines or fewer,
    so a short page keeps its body."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    zone = min(ZONE, max(1, (len(filled) - 1) // 2))
    return sorted(set(filled[:zone] + filled[-zone:]))


def running_lines(pages: list[list[str]], min_share: float = 0.5) -> set[str]:
    """Keys of lines that open or close at least ``min_share`` of the pages (two pages at least).

    >>> body = ["开机前检查油位。", "点检记录保存三年。", "异常须立即上报。", "交接班须签字。", "停机须挂牌。"]
    >>> pages = [["ACME 作业指导书", body[i - 1], f"- {i} -"] for i in range(1, 6)]
    >>> sorted(running_lines(pages))
    ['-#-', 'ACME作业指导书']
    """
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    body: set[str] = set()
    glued: set[str] = set()
    for lines in pages:
        zone = _zone(lines)
        counts.update({line_key(lines[i]) for i in zone})
        glued.update(line_key(lines[i]) for i in zone if _GLUED_NUMBER.search(lines[i]))
        zone_set = set(zone)
        body.update(line_key(line) for i, line in enumerate(lines) if i not in zone_set and line.strip())
    need = max(2, min_share * len(pages))
    # a running title with the page number glued to it changes per chapter: two pages suffice
    return {key for key, n in counts.items() if key and (n >= need or (key not in body and (n >= 3 or (n >= 2 and key in glued))))}


def kept_lines(lines: list[str], keys: set[str]) -> list[int]:
    """Indices of the page's lines that are not running headers or footers."""
    if not keys:
        return list(range(len(lines)))
    drop = {i for i in _zone(lines) if line_key(lines[i]) in keys}
    return [i for i in range(len(lines)) if i not in drop]


def strip_running(lines: list[str], keys: set[str]) -> list[str]:
    """The page's lines without the running headers and footers in its top and bottom zones."""
    if not keys:
        return lines
    drop = {i for i in _zone(lines) if line_key(lines[i]) in keys}
    return [line for i, line in enumerate(lines) if i not in drop]


class RepeatedChunks:
    """Remembers chunk texts by their normalised exact key; a chunk seen before is boilerplate.

    Eight bytes per chunk: a 50 000-chunk corpus keeps well under 10 MB.

    >>> seen = RepeatedChunks()
    >>> seen.is_repeat("本文件受控，复印无效。"), seen.is_repeat("本文件受控 复印无效"), seen.is_repeat("——")
    (False, True, True)
    """

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def is_repeat(self, text: str) -> bool:
        """True when the same text (after normalisation) came before, or it has no words at all."""
        key = normalize(text)
        if not key:
            return True
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
        if digest in self._seen:
            return True
        self._seen.add(digest)
        return False
