"""Ruled tables on PDF pages, found by pdfplumber (MIT, on pdfminer.six) and written as Markdown tables.

pdfplumber's default "lines" strategy finds tables drawn with rules. It lays a page out in full, which
costs about as much as reading its text, so only pages whose content draws lines or rectangles (a
cheap look at pypdf's content bytes) are laid out, in one pass over the file, each page closed after
use so memory stays bounded on long PDFs.

- Positions: pypdf reports where text is drawn in PDF space; ``display_point`` turns that into
  pdfplumber's coordinates on the shown (rotated) page.
- A table of one row or one column is not a table: its text stays as it is.
- A table whose rows run on past its rules (text on its rows just left or right of it: only some of
  its columns are ruled) is only part of a table: its text stays as it is too.
- Cells: ``None`` is empty, a cell's lines join with a space, ``|`` is escaped; the first row is the
  header. A table split across pages stays two tables.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

# path operators with their operands: a rectangle (x y w h re) not used as a clip (re W), a line (x y l)
_RULE_OPERATOR = re.compile(rb"(?<![\w.])(?:-?[\d.]+\s+){4}re\s+(?!W)|(?<![\w.])(?:-?[\d.]+\s+){2}l\s")
MIN_RULES = 4  # fewer distinct rectangles and lines than this draw no table of two rows and two columns
RUN_ON_GAP = 10.0  # points: text this close to a table's side, on its rows, belongs to it
log = logging.getLogger(__name__)


@dataclass
class PageTable:
    """A table's bounding box (PDF points, ``top`` measured down from the page's top) and cells."""

    x0: float
    top: float
    x1: float
    bottom: float
    rows: list[list[str]]

    def holds(self, x: float, top: float, slack: float = 2.0) -> bool:
        return self.x0 - slack <= x <= self.x1 + slack and self.top - slack <= top <= self.bottom + slack

    def markdown(self) -> str:
        return markdown_table(self.rows)


_UNMAPPED = re.compile(r"\(cid:\d+\)")  # pdfminer's name for a glyph without a character (a bullet)


def _cell(text: str | None) -> str:
    return " ".join(_UNMAPPED.sub("", text or "").split()).replace("|", "\\|")


def markdown_table(rows: list[list[str | None]]) -> str:
    """A Markdown table: the first row is the header.

    >>> print(markdown_table([["Fee", "Amount"], ["Filing\\nfee", None], ["a|b", "$5"]]))
    | Fee | Amount |
    | --- | --- |
    | Filing fee |  |
    | a\\|b | $5 |
    """
    width = max(len(row) for row in rows)
    cells = [[_cell(c) for c in row] + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + " --- |" * width]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells[1:]])


def may_have_rules(page) -> bool:
    """Whether a pypdf page draws at least ``MIN_RULES`` lines or rectangles, in its content or in
    the form XObjects it draws (one level down): only such pages can hold a ruled table."""
    try:
        streams = [page.get_contents()]
        resources = _resolved(page.get("/Resources"))
        for xobject in _resolved(resources.get("/XObject")).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                streams.append(xobject)
        drawn: set[bytes] = set()  # distinct operations: a rule drawn twice (fill and stroke) is one
        for stream in streams:
            if stream is None:
                continue
            for match in _RULE_OPERATOR.finditer(stream.get_data()):
                drawn.add(match.group().strip())
                if len(drawn) >= MIN_RULES:
                    return True
        return False
    except Exception:  # a page pypdf cannot inspect: let pdfplumber decide
        return True


def _resolved(obj) -> dict:
    obj = obj.get_object() if hasattr(obj, "get_object") else obj
    return obj if isinstance(obj, dict) else {}


def read_tables(path: Path, pages: list[int]) -> dict[int, list[PageTable]]:
    """The tables of the given pages (0-based), top to bottom; ``{}`` with a warning when pdfplumber
    cannot read the file (its text is then read without tables)."""
    if not pages:
        return {}
    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    found: dict[int, list[PageTable]] = {}
    try:
        with pdfplumber.open(path) as pdf:
            for index in pages:
                page = pdf.pages[index]
                try:
                    tables = _page_tables(page)
                finally:
                    page.close()  # drops the page's layout objects
                if tables:
                    found[index] = tables
    except Exception as exc:  # pdfminer trips over what pypdf could read: keep the text
        log.warning("%s: tables not read, pdfplumber cannot parse it (%s: %s)", path.name, type(exc).__name__,
                    str(exc)[:120])
        return {}
    return found


def display_point(x: float, y: float, rotation: int, box: tuple[float, float, float, float]
                  ) -> tuple[float, float]:
    """A point in PDF space (pypdf's) as pdfplumber places it on the shown page: (x, top), after the
    page's /Rotate, measured from the mediabox's corner (pdfminer's page matrix, inverted in y)."""
    x0, y0, x1, y1 = box
    rotation %= 360
    if rotation == 90:
        return y - y0, x - x0
    if rotation == 180:
        return x1 - x, y - y0
    if rotation == 270:
        return y1 - y, x1 - x
    return x - x0, y1 - y


def _page_tables(page) -> list[PageTable]:
    out = []
    for table in page.find_tables():
        rows = [row for row in table.extract() if any((c or "").strip() for c in row)]
        if len(rows) < 2 or max(len(row) for row in rows) < 2 or _runs_on(page, table.bbox):
            continue
        x0, top, x1, bottom = table.bbox
        out.append(PageTable(x0, top, x1, bottom, rows))
    return sorted(out, key=lambda t: t.top)


def _runs_on(page, bbox) -> bool:
    x0, top, x1, bottom = bbox
    for char in page.chars:
        middle = (char["top"] + char["bottom"]) / 2
        if top < middle < bottom and char["text"].strip() and \
                (x0 - RUN_ON_GAP < char["x1"] <= x0 or x1 <= char["x0"] < x1 + RUN_ON_GAP):
            return True
    return False
