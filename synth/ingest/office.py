"""Office formats: docx (python-docx, the body walked in order so tables stay in place), pptx (slides
with their titles as headings) and xlsx (each sheet a Markdown table); see readers.py for the rest."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from synth.ingest.document import Document, Unreadable
from synth.ingest.htmltext import collapse, html_to_text
from synth.ingest.text import UndecodableText, decode, normalize_newlines


def read_docx(path: Path, source: str) -> Document:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    from synth.ingest.numbering import Numbering

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"not a readable .docx ({type(exc).__name__}: {str(exc)[:120]})") from None
    blocks: list[str] = []
    _DocxWalk(document, Numbering(document)).walk(document.element.body, blocks)
    return Document(source, "docx", "\n\n".join(blocks), markdown=True)


_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_TOC_STYLE = re.compile(r"^(?:toc|目录)\s*(?:\d|heading|标题)|^(?:toc heading|目录标题)$", re.IGNORECASE)


class _DocxWalk:
    """The body in order: paragraphs (headings with Word's automatic numbering), tables, content
    controls, embedded HTML/MHT chunks (``w:altChunk``); tables of contents skipped (a TOC content
    control, ``TOC N`` styles, or a TOC field)."""

    def __init__(self, document, numbering) -> None:
        self.document = document
        self.numbering = numbering
        self.in_toc = 0  # open TOC fields

    def walk(self, container, blocks: list[str]) -> None:
        from docx.oxml.ns import qn
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        for child in container.iterchildren():
            if child.tag == qn("w:p"):
                self._paragraph(Paragraph(child, self.document), blocks)
            elif child.tag == qn("w:tbl"):
                rows = _docx_table(Table(child, self.document))
                if rows and not self.in_toc:
                    blocks.append("\n".join(rows))
            elif child.tag == qn("w:sdt"):  # content control: walk its content, but not a table of contents
                gallery = child.find(f".//{qn('w:docPartGallery')}")
                content = child.find(qn("w:sdtContent"))
                if content is not None and (gallery is None or "Contents" not in (gallery.get(qn("w:val")) or "")):
                    self.walk(content, blocks)
            elif child.tag == qn("w:altChunk"):
                text = self._alt_chunk(child.get(qn("r:id")))
                if text:
                    blocks.append(text)

    def _paragraph(self, paragraph, blocks: list[str]) -> None:
        from docx.oxml.ns import qn

        p = paragraph._p
        instr = "".join(t.text or "" for t in p.iter(qn("w:instrText")))
        fld = [c.get(qn("w:fldCharType")) for c in p.iter(qn("w:fldChar"))]
        style = (paragraph.style.name or "") if paragraph.style is not None else ""
        toc_here = bool(re.search(r"\bTOC\b", instr)) or bool(re.search(r"\bTOC\b", p.xpath("string(.//w:fldSimple/@w:instr)")))
        if toc_here:
            self.in_toc += 1
        skip = self.in_toc > 0 or bool(_TOC_STYLE.match(style.strip()))
        if self.in_toc and "end" in fld:
            # the TOC field closes at the end that balances its begin (fields nest inside a TOC)
            depth = getattr(self, "_depth", 0)
            for kind in fld:
                depth += 1 if kind == "begin" else -1 if kind == "end" else 0
            self._depth = depth
            if depth <= 0:
                self.in_toc, self._depth = 0, 0
        elif self.in_toc:
            self._depth = getattr(self, "_depth", 0) + fld.count("begin") - fld.count("end")
        text = paragraph.text.strip()
        label = self.numbering.label(paragraph) if text else ""
        if not text or skip:
            return
        level = _docx_heading_level(paragraph)
        text = label + text if label and not text.startswith(label.strip()) else text
        blocks.append(text if level is None else "#" * min(6, level + 1) + " " + collapse(text))

    def _alt_chunk(self, rid: str | None) -> str:
        """The text of an embedded HTML, MHT or plain-text chunk (Word imports it when the file opens)."""
        try:
            part = self.document.part.related_parts[rid]
        except (KeyError, TypeError):
            return ""
        blob, ctype = part.blob, (part.content_type or "").lower()
        name = str(part.partname).lower()
        if "html" in ctype or name.endswith((".htm", ".html", ".xhtml")):
            return html_to_text(decode(blob)[0])
        if "rfc822" in ctype or "mhtml" in ctype or name.endswith((".mht", ".mhtml")):
            import email
            import email.policy

            message = email.message_from_bytes(blob, policy=email.policy.default)
            for sub in message.walk():
                if sub.get_content_type() == "text/html":
                    raw = sub.get_payload(decode=True) or b""
                    charset = sub.get_content_charset()
                    try:
                        html = raw.decode(charset) if charset else decode(raw)[0]
                    except (LookupError, UnicodeDecodeError, UndecodableText):
                        html = raw.decode("utf-8", errors="replace")
                    return html_to_text(html)
            return ""
        if ctype.startswith("text/plain") or name.endswith(".txt"):
            return normalize_newlines(decode(blob)[0]).strip()
        return ""


def _docx_heading_level(paragraph) -> int | None:
    """0 for Title, N for Heading N (style or its base styles, or an outline level), else None."""
    from docx.oxml.ns import qn

    def outline(element) -> int | None:
        ppr = element.find(qn("w:pPr")) if element is not None else None
        lvl = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
        if lvl is not None and (lvl.get(qn("w:val")) or "").isdigit() and int(lvl.get(qn("w:val"))) < 9:
            return int(lvl.get(qn("w:val"))) + 1
        return None

    level = outline(paragraph._p)
    if level is not None:
        return level
    style = paragraph.style
    while style is not None:
        name = (style.name or "").strip()
        if name.lower() in ("title", "标题"):
            return 0
        m = _HEADING_STYLE.match(name)
        if m:
            return int(m.group(1))
        level = outline(style.element)
        if level is not None:
            return level
        style = style.base_style
    return None


def _docx_table(table) -> list[str]:
    """A line per row, cells joined by `` | ``; a merged cell's text appears once (python-docx
    repeats the cell for every grid column and row it spans). A cell merged down from the row
    above leaves an empty column, so the columns stay aligned."""
    seen = set()
    rows = []
    for row in table.rows:
        cells = []
        in_row = set()
        for cell in row.cells:
            if cell._tc in in_row:  # spans several columns of this row
                continue
            in_row.add(cell._tc)
            cells.append("" if cell._tc in seen else collapse(cell.text))
            seen.add(cell._tc)
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def read_pptx(path: Path, source: str) -> Document:
    """Slides in order: the slide title as a ``#`` heading, then the text of its other shapes (top to
    bottom, left to right, inside groups too) and its tables a line per row."""
    try:
        from pptx import Presentation
        from pptx.exc import PackageNotFoundError
    except ImportError:
        raise Unreadable("reading .pptx needs python-pptx: pip install python-pptx") from None
    try:
        deck = Presentation(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"not a readable .pptx ({type(exc).__name__}: {str(exc)[:120]})") from None
    blocks: list[str] = []
    for slide in deck.slides:
        title_shape = slide.shapes.title
        title = collapse(title_shape.text_frame.text) if title_shape is not None and title_shape.has_text_frame else ""
        if title:
            blocks.append("# " + title)
        for shape in sorted(_pptx_shapes(slide.shapes), key=lambda sh: ((sh.top or 0), (sh.left or 0))):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            if getattr(shape, "has_table", False) and shape.has_table:
                rows = [" | ".join(collapse(cell.text) for cell in row.cells) for row in shape.table.rows]
                rows = [r for r in rows if r.replace("|", "").strip()]
                if rows:
                    blocks.append("\n".join(rows))
            elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                lines = [collapse(p.text) for p in shape.text_frame.paragraphs]
                text = "\n".join(line for line in lines if line)
                if text:
                    blocks.append(text)
    return Document(source, "pptx", "\n\n".join(blocks), markdown=True)


def _pptx_shapes(shapes):
    for shape in shapes:
        if shape.shape_type is not None and int(shape.shape_type) == 6:  # a group: its shapes
            yield from _pptx_shapes(shape.shapes)
        else:
            yield shape


def read_xlsx(path: Path, source: str) -> Document:
    """Each sheet with data as a ``#`` heading (its name) and a Markdown table: the first row with
    data is the header; empty rows and columns are left out; cells show their stored values."""
    try:
        import openpyxl
    except ImportError:
        raise Unreadable("reading .xlsx needs openpyxl: pip install openpyxl") from None
    try:
        book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Unreadable(f"not a readable .xlsx ({type(exc).__name__}: {str(exc)[:120]})") from None
    blocks: list[str] = []
    try:
        for sheet in book.worksheets:
            rows = [[_xlsx_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            rows = [row for row in rows if any(row)]
            if not rows:
                continue
            keep = [j for j in range(max(len(r) for r in rows)) if any(j < len(r) and r[j] for r in rows)]
            rows = [[r[j] if j < len(r) else "" for j in keep] for r in rows]
            table = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(keep)]
            table += ["| " + " | ".join(r) + " |" for r in rows[1:]]
            blocks.append(f"# {sheet.title}\n\n" + "\n".join(table))
    finally:
        book.close()
    return Document(source, "xlsx", "\n\n".join(blocks), markdown=True)


def _xlsx_cell(value) -> str:
    import datetime

    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    elif isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        value = value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
        value = value.removesuffix(" 00:00:00")
    return collapse(str(value)).replace("|", "\\|")
