"""Headings in a document's text: Markdown ``#`` lines and the structural marks of Chinese
government, legal and factory documents (第X编/章/节/条, 一、, （一）, 1.1 numbering).

Each heading has a *rank* (smaller = higher); the heading path of a position is the stack of the
headings above it, a new heading popping every heading of equal or lower rank. Ranks only order
headings, so a document that starts at 第X条 or at ``###`` still gets sensible paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_NUM = "一二三四五六七八九十百千零〇两"
_SPACE = " \t\u3000"
MD_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# (pattern, rank); the label is group 1, what follows it may be a title or the body of an article
_CN_MARKS = [
    (re.compile(f"^(第[{_CN_NUM}\\d]+编)"), 11),
    (re.compile(f"^(第[{_CN_NUM}\\d]+章)"), 12),
    (re.compile(f"^(第[{_CN_NUM}\\d]+节)"), 13),
    (re.compile(f"^(第[{_CN_NUM}\\d]+条)(?=[{_SPACE}]|$)"), 14),
    (re.compile(f"^([{_CN_NUM}]+、)"), 15),
    (re.compile(f"^([（(][{_CN_NUM}]+[）)])"), 16),
]
# "4.1 一般要求", "4.1.2 ...", "1 范围" (GB/T 1.1 style); "1. 打开电源" / "1、" is a list item
_NUMBERED = re.compile(f"^(\\d{{1,2}}(?:[.．]\\d{{1,2}}){{0,4}})([.．、]?)[{_SPACE}]+(?=\\S)")
_SENTENCE_PUNCT = re.compile(r"[。！？!?；;，,]")
TITLE_MAX = 40  # longer lines are body text, not titles
ARTICLE_RANK = 14  # 第X条: short articles that may share a chunk even at the top level


@dataclass(frozen=True)
class Heading:
    """A heading found at ``text[start:end]`` (a whole line, or the label of an article line)."""

    start: int
    end: int
    rank: int
    title: str


def _title_like(line: str) -> bool:
    """Short, no sentence punctuation inside or at the end, not a table row or contents line: a
    title rather than a sentence."""
    s = line.strip(_SPACE)
    return 0 < len(s) <= TITLE_MAX and not _SENTENCE_PUNCT.search(s) and not s.endswith(("。", ".")) \
        and junk_heading(s) is None


_NUMBER_GROUP = re.compile(r"(?<![\d.])\d[\d,.]*(?![\d.])")
_LEADERS = re.compile(r"(?:\.{3,}|…{2,}|·{3,}|(?:\s?[.·・]){4,})\s*\(?[\divxlc]{1,6}\)?\s*$", re.IGNORECASE)
_PAGE_REF = re.compile(r"^(?:\d{1,2}(?:[.．]\d{1,2}){0,4}[.．、]?|第[^\s章节条编]{1,5}[章节编])[" + _SPACE + r"]*\S.*[" + _SPACE + r"]\d{1,4}$")
_FURNITURE = re.compile(r"^[-–—_\s]*(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?[-–—_\s]*$|^第\s*\d+\s*页|^共\s*\d+\s*页"
                        r"|https?://|www\.|^[\w.-]+\.(?:com|org|net|cn|gov)\b", re.IGNORECASE)


def junk_heading(line: str) -> str | None:
    """Why a line can never be a heading, or None: a table row (mostly digits, or three number
    groups with no more letters than digits), a table-of-contents line (dot leaders and a page
    number; a numbered title ending in a page number), page furniture (page numbers, URLs).

    >>> [junk_heading(s) for s in ["10 20 30 40 50", "0 0 0 22.45 否", "5 API 说明 20", "4.1 一般要求",
    ...                            "第 3 页 共 7 页", "1 Introduction ........ 3", "1972–1985: Founding"]]
    ['table', 'table', 'contents', None, 'furniture', 'contents', None]
    """
    s = line.strip(_SPACE)
    compact = "".join(s.split())
    if not compact:
        return "empty"
    if _FURNITURE.search(s):
        return "furniture"
    digits = sum(ch.isdigit() for ch in compact)
    letters = sum(ch.isalpha() for ch in compact)
    if (digits >= 2 and digits >= 2 * letters) or (len(_NUMBER_GROUP.findall(s)) >= 3 and digits >= letters):
        return "table"
    if _LEADERS.search(s) or _PAGE_REF.match(s):
        return "contents"
    return None


def chinese_heading(line: str, offset: int, *, numbered: bool = True) -> tuple[Heading | None, bool]:
    """(heading, starts_block) for one line at ``offset`` in the document.

    Chapters, sections and articles are headings: the whole line when it is title-like, else the
    label (``第三条``) with the article's text after it. 一、/（一）/numbered lines are headings
    only when title-like; otherwise they still start a new block (a list item, a numbered clause).
    ``1.`` / ``1、`` lines are list items, and with ``numbered=False`` (Markdown, where headings
    are ``#`` lines) so are ``4.1`` lines.

    >>> chinese_heading("第一章　总则", 0)
    (Heading(start=0, end=6, rank=12, title='第一章\\u3000总则'), True)
    >>> chinese_heading("第三条 操作人员应当持证上岗。", 10)[0].title
    '第三条'
    >>> chinese_heading("一、操作前检查油位，确认无泄漏。", 0)
    (None, True)
    >>> chinese_heading("4.0时代的工厂", 0)
    (None, False)
    >>> chinese_heading("4.1 一般要求", 0)[0].title, chinese_heading("1. 打开电源", 0)
    ('4.1 一般要求', (None, True))
    """
    indent = len(line) - len(line.lstrip(_SPACE))
    body = line[indent:].rstrip(_SPACE)
    if not body:
        return None, False
    start = offset + indent
    for pattern, rank in _CN_MARKS:
        m = pattern.match(body)
        if not m:
            continue
        if _title_like(body):
            return Heading(start, start + len(body), rank, body), True
        if rank <= ARTICLE_RANK:
            return Heading(start, start + m.end(1), rank, m.group(1)), True
        return None, True
    m = _NUMBERED.match(body)
    if m:
        depth = m.group(1).count(".") + m.group(1).count("．")
        if numbered and _title_like(body) and not (depth == 0 and m.group(2)):
            return Heading(start, start + len(body), 17 + depth, body), True
        return None, True
    return None, False


def markdown_heading(line: str, offset: int) -> Heading | None:
    """An ATX heading (``#`` to ``######``) with its level as rank.

    >>> markdown_heading("## 2 适用范围 ##", 5)
    Heading(start=5, end=17, rank=2, title='2 适用范围')
    """
    m = MD_HEADING.match(line)
    if not m or not m.group(2).strip():
        return None
    return Heading(offset, offset + len(line.rstrip()), len(m.group(1)), m.group(2).strip())


def is_fence(line: str) -> bool:
    """A Markdown code fence line (``` or ~~~): no headings inside a fenced block."""
    return _FENCE.match(line) is not None
