"""PDF text layer with pypdf (BSD-3): running headers/footers removed, hard line breaks joined.

A PDF has lines, not paragraphs. A line that fills the page width continues on the next line and
is joined to it: without a space between CJK text, with a space between Latin words, without the
hyphen of a word split across lines. A shorter line ends its paragraph, and a line that opens with
a structural mark (第X章, 一、, 4.1 ...) starts one. Pages are joined by the same rule, so a
sentence that runs over a page break stays whole; ``page_starts`` keeps where each page begins.
No OCR: a PDF without a text layer is skipped with that reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

from synth.ingest.boilerplate import running_lines, strip_running
from synth.ingest.structure import chinese_heading
from synth.ingest.text import display_width, is_hyphenated, join_wrapped, normalize_newlines

FULL_LINE = 0.8  # a line at least this share of the page's longest lines is a wrapped line
MIN_CHARS_PER_PAGE = 5  # fewer visible characters on every page: no text layer


class PdfUnreadable(ValueError):
    """The PDF cannot be read; the message is the reason shown to the user."""


def pdf_pages(path: Path) -> list[str]:
    """The text of each page (pypdf's layout-free extraction)."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    # pypdf logs what it recovers from, or gives up on, as warnings on stderr ("EOF marker not found"):
    # synth names a file it cannot read once, as skipped, and says nothing of one it could
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:
                raise PdfUnreadable("encrypted PDF (AES needs the 'cryptography' package: "
                                    "pip install cryptography)") from None
            if not opened:
                raise PdfUnreadable("encrypted PDF with a password; decrypt it first (e.g. qpdf --decrypt)")
        return [normalize_newlines(page.extract_text() or "") for page in reader.pages]
    except PdfUnreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise PdfUnreadable(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None


def pdf_text(pages: list[str]) -> tuple[str, list[int]]:
    """(document text, offset where each page starts) from the pages' raw text.

    >>> text, starts = pdf_text(["ACME\\n设备点检规程\\n第一章 总则\\n操作工应在开机前检查润滑\\n油位。\\nPage 1",
    ...                          "ACME\\nthe press must be main-\\ntained daily and then\\nchecked.\\nPage 2",
    ...                          "ACME\\n第二章 附则\\n本规程自发布之日起施行。\\nPage 3"])
    >>> print(text)
    设备点检规程
    第一章 总则
    操作工应在开机前检查润滑油位。
    <BLANKLINE>
    the press must be maintained daily and then checked.
    第二章 附则
    本规程自发布之日起施行。
    >>> [text[s:s + 3] for s in starts]
    ['设备点', 'the', '第二章']
    """
    keys = running_lines([p.split("\n") for p in pages])
    page_lines = [[line.strip() for line in strip_running(p.split("\n"), keys) if line.strip()] for p in pages]
    lengths = sorted(display_width(line) for lines in page_lines for line in lines)
    # the width of a full line: the 90th percentile of line lengths, robust to a few long outliers
    full = lengths[int(len(lengths) * 0.9)] * FULL_LINE if lengths else 0
    parts: list[str] = []
    starts: list[int] = []
    size = 0
    prev = ""
    for lines in page_lines:
        page_start = None
        for line in lines:
            if prev:
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
        starts.append(size if page_start is None else page_start)
    return "".join(parts), starts


def _separator(prev: str, line: str, full: float) -> str:
    """How the previous line joins this one: wrapped lines join, a short line ends a paragraph."""
    if chinese_heading(line, 0)[1]:
        return "\n"
    if display_width(prev) < full:
        return "\n\n" if prev[-1:] in "。！？!?.；;:：" or not prev[-1:].isalnum() else "\n"
    return join_wrapped(prev, line)
