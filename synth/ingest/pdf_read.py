"""A PDF's pages as pypdf reads them (BSD-3): text, per-line font size and weight, the outline, OCR for
pages without a text layer (synth.ingest.pdf makes the document text of them).

- **Text and fonts.** pypdf extracts each page's text; its visitor reports, piece by piece, the font
  and the effective font size (font size × text and graphics matrix scale) of the same text, so each
  line knows its size and whether its font is bold.
- **Characters.** Ligatures (ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ) become their letters, NUL bytes are dropped (in TeX's
  symbol fonts, where code 0 is the minus sign, they become ``−``).
- **Tables.** A ruled table (synth.ingest.pdf_tables) replaces the text drawn inside its box with a
  Markdown table, placed where its first text was; those lines are listed in ``table_lines``.
- **Scans.** A page without a text layer is read by OCR when the ``ocr`` extra is installed
  (synth.ingest.ocr); its chunks are marked ``"ocr": true``. Without it the page is named with
  the install hint.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from synth.ingest.pdf_tables import PageTable, display_point, may_have_rules, read_tables
from synth.ingest.text import normalize_newlines

MIN_CHARS_PER_PAGE = 5  # fewer visible characters on a page: no text layer
LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                           "\ufb05": "st", "\ufb06": "st"})
_BOLD = re.compile(r"bold|black|heavy|semibold|demi|(?:cm|sf|lm)bx|simhei|heiti|黑体", re.IGNORECASE)
_TEX_SYMBOL = re.compile(r"cmsy|lmsy|msbm|msam", re.IGNORECASE)


class PdfUnreadable(ValueError):
    """The PDF cannot be read; the message is the reason shown to the user."""


@dataclass
class PdfPage:
    """One page: its text and, per line of ``text.split("\\n")``, the dominant font size and boldness."""

    text: str
    sizes: list[float] = field(default_factory=list)
    bold: list[bool] = field(default_factory=list)
    table_lines: set[int] = field(default_factory=set)  # lines of Markdown tables made of ruled tables


@dataclass
class PdfSource:
    pages: list[PdfPage]
    outline: list[tuple[str, int, int]] = field(default_factory=list)  # (title, depth, page index)
    ocr_pages: list[int] = field(default_factory=list)  # pages read by OCR
    blank_pages: list[int] = field(default_factory=list)  # pages without a text layer left unread


def _visible(text: str) -> int:
    return len("".join(text.split()))


def _open(path: Path):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    # pypdf logs what it recovers from, or gives up on, as warnings on stderr ("EOF marker not found"):
    # synth names a file it cannot read once, as skipped, and says nothing of one it could
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(path)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except DependencyError:
            raise PdfUnreadable("encrypted PDF (AES needs the 'cryptography' package: "
                                "pip install cryptography)") from None
        if not opened:
            raise PdfUnreadable("encrypted PDF with a password; decrypt it first (e.g. qpdf --decrypt)")
    return reader


def read_pdf_source(path: Path, *, ocr: bool = True, tables_too: bool = True) -> PdfSource:
    """Pages with per-line font sizes, and the outline. A page without a text layer is read by OCR
    when ``ocr`` and the OCR extra is installed (synth.ingest.ocr), else left empty and listed.
    ``tables_too``: ruled tables become Markdown tables in place of their text (synth.ingest.pdf_tables)."""
    from pypdf.errors import PdfReadError

    from synth.ingest import ocr as ocr_module

    try:
        reader = _open(path)
        pages, ocr_pages, blank = [], [], []
        tables = read_tables(path, [i for i, page in enumerate(reader.pages) if may_have_rules(page)]) \
            if tables_too else {}
        for index, page in enumerate(reader.pages):
            read = _page(page, tables.get(index, []))
            if _visible(read.text) < MIN_CHARS_PER_PAGE:
                text = ocr_module.ocr_page(page) if ocr and ocr_module.available() else ""
                if _visible(text) >= MIN_CHARS_PER_PAGE:
                    read = PdfPage(normalize_newlines(text))
                    ocr_pages.append(index)
                else:
                    blank.append(index)
            pages.append(read)
        outline = _outline(reader)
    except PdfUnreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise PdfUnreadable(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    return PdfSource(pages, outline, ocr_pages, blank)


def pdf_pages(path: Path) -> list[str]:
    """The text of each page (pypdf's layout-free extraction, characters repaired)."""
    return [page.text for page in read_pdf_source(path).pages]


def _scale(matrix) -> float:
    try:
        return math.hypot(float(matrix[2]), float(matrix[3])) or 1.0
    except (TypeError, IndexError, ValueError):
        return 1.0


def _page(page, tables: list[PageTable] = ()) -> PdfPage:
    pieces: list[tuple[str, float, bool, bool]] = []  # text, size, bold, from a table
    placed: set[int] = set()
    visited: list[str] = []  # all the text, a table's included
    box = tuple(float(v) for v in page.mediabox)
    rotation = int(page.get("/Rotate", 0) or 0)

    def visit(text, cm, tm, font, size):
        if not text:
            return
        name = str((font or {}).get("/BaseFont", "")) if hasattr(font, "get") else ""
        if "\x00" in text:
            text = text.replace("\x00", "\u2212" if _TEX_SYMBOL.search(name) else "")
        try:
            eff = float(size or 0) * _scale(tm) * _scale(cm)
        except (TypeError, ValueError):
            eff = 0.0
        visited.append(text)
        table = _table_at(tables, cm, tm, rotation, box) if tables else None
        if table is None:
            pieces.append((text, round(eff * 2) / 2, bool(_BOLD.search(name)), False))
        elif table not in placed:  # a table's text is replaced by the table, where its first text was
            placed.add(table)
            pieces.append(("\n" + tables[table].markdown() + "\n", 0.0, False, True))

    raw = page.extract_text(visitor_text=visit) or ""
    text = "".join(p[0] for p in pieces)
    if "".join(visited).replace("\u2212", "") != raw.replace("\x00", ""):  # the visitor did not see it all
        text, pieces = raw.replace("\x00", ""), []
    text = normalize_newlines(text.translate(LIGATURES))
    sizes: list[float] = []
    bold: list[bool] = []
    table_lines: set[int] = set()
    if pieces:
        weights: Counter = Counter()
        for piece, size, is_bold, is_table in pieces:
            parts = normalize_newlines(piece.translate(LIGATURES)).split("\n")
            for k, part in enumerate(parts):
                if k:
                    sizes_bold = weights.most_common(1)[0][0] if weights else (0.0, False)
                    sizes.append(sizes_bold[0])
                    bold.append(sizes_bold[1])
                    weights = Counter()
                if is_table and part:
                    table_lines.add(len(sizes))
                n = sum(1 for ch in part if not ch.isspace())
                if n:
                    weights[(size, is_bold)] += n
        top = weights.most_common(1)[0][0] if weights else (0.0, False)
        sizes.append(top[0])
        bold.append(top[1])
    lines = text.split("\n")
    if len(sizes) != len(lines):
        sizes, bold, table_lines = [0.0] * len(lines), [False] * len(lines), set()
    return PdfPage(text, sizes, bold, table_lines)


def _table_at(tables: list[PageTable], cm, tm, rotation: int, box) -> int | None:
    """Index of the table holding the text drawn at the origin of ``tm`` × ``cm``, or None."""
    try:
        x = float(tm[4]) * float(cm[0]) + float(tm[5]) * float(cm[2]) + float(cm[4])
        y = float(tm[4]) * float(cm[1]) + float(tm[5]) * float(cm[3]) + float(cm[5])
    except (TypeError, ValueError, IndexError):
        return None
    x, top = display_point(x, y, rotation, box)
    for k, table in enumerate(tables):
        if table.holds(x, top):
            return k
    return None


def _outline(reader) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # a broken destination: the entry cannot be placed
                continue
            title = str(getattr(item, "title", "") or "").strip()
            if title and page is not None and page >= 0:
                out.append((title, depth, page))

    try:
        walk(reader.outline, 0)
    except Exception:
        return []
    return out
