"""PDF text layer with pypdf (BSD-3): structure from the PDF's own signals, page furniture removed,
hard line breaks joined, broken text repaired. The pages, their fonts and the outline are read by
synth.ingest.pdf_read; this module makes the document text of them.

- **Headings.** From the outline (bookmarks) where the PDF has one: a line whose text is an outline
  entry (numbering and spacing aside) on the entry's page, or the next, is a heading at the entry's
  depth. Without an outline, from font sizes: a short, title-like line set larger than the body text
  (the size most characters have), or wholly bold at body size, is a heading; larger sizes rank
  higher. Headings become ``#`` lines (the document is then Markdown-like, so the splitter's heading
  paths follow them; 第X章/第X条 marks still work under them). A PDF without either signal keeps the
  splitter's text rules. Never a heading: table rows (mostly digits), table-of-contents lines,
  page furniture, URLs, sentences.
- **Page furniture.** Lines in the top or bottom two lines of a page that recur (digits folded) on
  half the pages, or on three pages at least and never in the body (a running header that changes
  per chapter, a page number glued to it), are removed; so are table-of-contents lines (a title
  followed by dot leaders or by a page number, on a page of such lines).
- **Lines.** A line that fills the page width continues on the next line and is joined to it:
  without a space between CJK text, with a space between Latin words, without the hyphen of a word
  split across lines, without a space inside a number or URL cut where a table cell wraps
  (``1,858,221,567.`` + ``60``). A shorter line ends its paragraph; a line that opens with a
  structural mark (第X章, 一、, 4.1 ...) starts one. Pages join by the same rule; ``page_starts``
  keeps where each page begins.
- **Tables.** A ruled table's Markdown rows (``PdfPage.table_lines``) stay as they are: a line per row,
  a blank line around the table, never furniture, contents or a heading.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from synth.ingest.boilerplate import kept_lines, running_lines
from synth.ingest.pdf_read import (LIGATURES, MIN_CHARS_PER_PAGE, PdfPage, PdfSource, PdfUnreadable, pdf_pages,
                                   read_pdf_source)
from synth.ingest.structure import chinese_heading, junk_heading
from synth.ingest.text import display_width, is_hyphenated, join_wrapped, normalize_newlines

# the reading half lives in pdf_read.py; its names stay importable from here
__all__ = ["MIN_CHARS_PER_PAGE", "PdfPage", "PdfSource", "PdfUnreadable", "pdf_pages", "pdf_text", "read_pdf_source",
           "repair_line", "toc_lines"]

FULL_LINE = 0.8  # a line at least this share of the page's longest lines is a wrapped line
HEADING_SCALE = 1.15  # a line this much larger than the body text may be a heading
HEADING_MAX_WIDTH = 100  # half-width cells; wider lines are text
MAX_LEVELS = 4
_LEADERS_PAGE = re.compile(r"(?:\.{3,}|…{2,}|·{3,}|-{4,}|_{4,}|(?:\s?[.·・]){4,})\s*\(?[\divxlcIVXLC]{1,6}\)?\s*$")
_ENDS_WITH_PAGE = re.compile(r"\S\s+\(?\d{1,4}\)?\s*$")
_NORM = re.compile(r"[\W_]+")


def _norm(s: str) -> str:
    return _NORM.sub("", unicodedata.normalize("NFKC", s)).lower()


def toc_lines(lines: list[str]) -> set[int]:
    """Indices of table-of-contents lines on a page: a title with dot leaders and a page number, or,
    on a page where at least five lines and 40 % of them end in a page number, each such line."""
    leaders = {i for i, line in enumerate(lines) if _LEADERS_PAGE.search(line) and re.search(r"[^\W\d_]", line)}
    numbered = {i for i, line in enumerate(lines) if _ENDS_WITH_PAGE.search(line) and re.search(r"[^\W\d_]", line)}
    filled = sum(1 for line in lines if line.strip())
    if len(numbered | leaders) >= 5 and len(numbered | leaders) >= 0.4 * max(1, filled):
        return numbered | leaders
    return leaders if len(leaders) >= 2 else set()


def _heading_ok(line: str) -> bool:
    s = line.strip()
    return bool(s) and display_width(s) <= HEADING_MAX_WIDTH and junk_heading(s) is None \
        and re.search(r"[^\W\d_]", s) is not None


def _outline_levels(pages: list[list[str]], outline: list[tuple[str, int, int]]) -> dict[tuple[int, int], int]:
    """(page, line) -> level for lines that are outline entries; a title split over two lines marks both."""
    found: dict[tuple[int, int], int] = {}
    norms = [[_norm(line) for line in lines] for lines in pages]
    for title, depth, page in outline:
        want = _norm(title)
        if not want:
            continue
        hit = None
        for p in (page, page + 1):
            if p >= len(pages) or hit:
                continue
            for i, have in enumerate(norms[p]):
                if (p, i) in found or not have:
                    continue
                if have == want or (have.endswith(want) and re.fullmatch(r"[\divxlc]*", have[:-len(want)])):
                    hit = [(p, i)]
                elif want.startswith(have) and len(have) >= 2 and i + 1 < len(norms[p]) and \
                        want == have + norms[p][i + 1]:
                    hit = [(p, i), (p, i + 1)]
                if hit:
                    break
        for key in hit or ():
            found[key] = min(MAX_LEVELS + 2, depth + 1)
    return found


def _font_levels(pages: list[PdfPage], kept: list[list[int]]) -> dict[tuple[int, int], int]:
    """(page, line) -> level from font size and weight, relative to the body text."""
    weights: Counter = Counter()
    for page, keep in zip(pages, kept):
        lines = page.text.split("\n")
        for i in keep:
            if page.sizes[i]:
                weights[page.sizes[i]] += len(lines[i].strip())
    if not weights:
        return {}
    body = weights.most_common(1)[0][0]
    total = sum(weights.values())
    candidates: dict[tuple[int, int], float] = {}
    for p, (page, keep) in enumerate(zip(pages, kept)):
        lines = page.text.split("\n")
        for i in keep:
            size, line = page.sizes[i], lines[i]
            if not size or not _heading_ok(line):
                continue
            if size >= body * HEADING_SCALE:
                candidates[(p, i)] = size
            elif page.bold[i] and size >= body * 0.95 and display_width(line.strip()) <= 60:
                candidates[(p, i)] = body  # wholly bold at body size: the lowest heading level
    if not candidates:
        return {}
    # a size that covers much of the text is a second body size, not a heading style
    by_size: Counter = Counter()
    for (p, i), size in candidates.items():
        by_size[size] += len(pages[p].text.split("\n")[i].strip())
    styles = sorted((s for s, n in by_size.items() if n <= 0.2 * total), reverse=True)
    if not styles:
        return {}
    level = {size: min(MAX_LEVELS, k + 1) for k, size in enumerate(styles)}
    return {key: level[size] for key, size in candidates.items() if size in level}


def pdf_text(pages: list[str] | list[PdfPage], outline: list[tuple[str, int, int]] | None = None
             ) -> tuple[str, list[int], bool]:
    """(document text, offset where each page starts, whether it has ``#`` heading lines).

    >>> text, starts, marked = pdf_text(["ACME\\n设备点检规程\\n第一章 总则\\n操作工应在开机前检查润滑\\n油位。\\nPage 1",
    ...                                  "ACME\\nthe press must be main-\\ntained daily and then\\nchecked.\\nPage 2",
    ...                                  "ACME\\n第二章 附则\\n本规程自发布之日起施行。\\nPage 3"])
    >>> print(text)
    设备点检规程
    第一章 总则
    操作工应在开机前检查润滑油位。
    <BLANKLINE>
    the press must be maintained daily and then checked.
    第二章 附则
    本规程自发布之日起施行。
    >>> [text[s:s + 3] for s in starts], marked
    (['设备点', 'the', '第二章'], False)
    """
    pages = [p if isinstance(p, PdfPage) else PdfPage(normalize_newlines(p.translate(LIGATURES)).replace("\x00", ""))
             for p in pages]
    for page in pages:
        n = len(page.text.split("\n"))
        if len(page.sizes) != n:
            page.sizes, page.bold = [0.0] * n, [False] * n
    raw = [page.text.split("\n") for page in pages]
    keys = running_lines(raw)
    kept: list[list[int]] = []
    for page, lines in zip(pages, raw):
        # a table's rows are neither page furniture nor contents lines, whatever they repeat or end with
        keep_lines = [i for i in kept_lines(lines, keys) if i not in page.table_lines]
        toc = toc_lines([lines[i] for i in keep_lines])
        kept.append(sorted([i for k, i in enumerate(keep_lines) if k not in toc and lines[i].strip()]
                           + list(page.table_lines)))
    levels = _outline_levels([[lines[i] if i in set(keep) and i not in page.table_lines else ""
                               for i in range(len(lines))]
                              for page, lines, keep in zip(pages, raw, kept)], outline or []) if outline else {}
    if not levels:
        levels = _font_levels(pages, kept)
    marked = bool(levels)
    widths = sorted(display_width(raw[p][i].strip()) for p, keep in enumerate(kept) for i in keep
                    if (p, i) not in levels and i not in pages[p].table_lines)
    # the width of a full line: the 90th percentile of line lengths, robust to a few long outliers
    full = widths[int(len(widths) * 0.9)] * FULL_LINE if widths else 0
    parts: list[str] = []
    starts: list[int] = []
    size = 0
    prev = ""
    prev_heading = 0
    prev_row = False
    for p, keep in enumerate(kept):
        page_start = None
        k = 0
        while k < len(keep):
            i = keep[k]
            row = i in pages[p].table_lines
            line = raw[p][i].strip() if row else repair_line(raw[p][i].strip())
            level = 0 if row else levels.get((p, i), 0)
            if level:  # a heading: its own line, "#" marks; a title wrapped over lines of one style joins
                while k + 1 < len(keep) and levels.get((p, keep[k + 1])) == level and \
                        keep[k + 1] == i + 1 and display_width(line) >= full * 0.5:
                    k += 1
                    i = keep[k]
                    nxt = raw[p][i].strip()
                    line = line + join_wrapped(line, nxt) + nxt
                line = "#" * level + " " + line
            if prev:
                if row or prev_row:  # a table is a block of its own, a line per row
                    sep = "\n" if row and prev_row and not _table_header(raw[p], i) else "\n\n"
                elif level or prev_heading:
                    sep = "\n\n"
                else:
                    sep = _separator(prev, line, full)
                    if sep == "" and is_hyphenated(prev, line):
                        parts[-1] = parts[-1][:-1]  # "main-" + "tained" -> "maintained"
                        size -= 1
                parts.append(sep)
                size += len(sep)
            if page_start is None:
                page_start = size
            parts.append(line)
            size += len(line)
            prev = line
            prev_heading = level
            prev_row = row
            k += 1
        starts.append(size if page_start is None else page_start)
    return "".join(parts), starts, marked


_TABLE_RULE = re.compile(r"\|(?: --- \|)+")


def _table_header(lines: list[str], i: int) -> bool:
    """A table row followed by the header separator: the first row of a table."""
    return i + 1 < len(lines) and _TABLE_RULE.fullmatch(lines[i + 1].strip()) is not None


_NUMBER_CUT = re.compile(r"\d[.,]$")
_URL_CUT = re.compile(r"(?:https?://|www\.)\S*[\w./\-_?=&#%:]$")
# an amount or an IP address cut where a table cell wraps, whatever the line's width
_AMOUNT_CUT = re.compile(r"(?:\d{1,3}(?:,\d{3})+\.|https?://\d{1,3}(?:\.\d{1,3}){0,2}\.)$")
_AMOUNT_SPLIT = re.compile(r"(\d{1,3}(?:,\d{3})+\.|https?://\d{1,3}(?:\.\d{1,3}){0,2}\.)[ \t]+(?=\d)")


def repair_line(line: str) -> str:
    """A number or IP address split by a space inside one line: ``1,858,221,567. 60`` ->
    ``1,858,221,567.60``, ``http://211. 152.9.47`` -> ``http://211.152.9.47``.

    >>> repair_line("合计 1,858,221,567. 60 元，见 http://211. 152.9.47/x")
    '合计 1,858,221,567.60 元，见 http://211.152.9.47/x'
    """
    return _AMOUNT_SPLIT.sub(r"\1", line)


def _separator(prev: str, line: str, full: float) -> str:
    """How the previous line joins this one: wrapped lines join, a short line ends a paragraph."""
    if _AMOUNT_CUT.search(prev) and line[:1].isdigit():
        return ""
    if chinese_heading(line, 0)[1]:
        return "\n"
    if display_width(prev) < full:
        return "\n\n" if prev[-1:] in "。！？!?.；;:：" or not prev[-1:].isalnum() else "\n"
    if (_NUMBER_CUT.search(prev) and line[:1].isdigit()) or (_URL_CUT.search(prev) and line[:1].isalnum()):
        return ""  # a number or a URL cut where a table cell wraps: "1,858,221,567." + "60"
    return join_wrapped(prev, line)
