"""Builders for real test documents: PDFs (reportlab, CID font), DOCX (python-docx), EPUB (zipfile)."""

from __future__ import annotations

import zipfile
from pathlib import Path


def make_pdf(path: Path, pages: list[list], *, header=None, footer: bool = False,
             font_size: float = 10, outline: list[tuple[str, int, int]] = ()) -> Path:
    """One PDF page per list of lines, drawn as given (so tests control where lines wrap), with an
    optional running header (a string, or a function of the page number) and a "第 n 页 共 N 页"
    footer on every page. A line may be ``(text, size)`` to set it in another size. ``outline``:
    bookmarks ``(title, level, page index)``."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    width, height = A4
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for number, lines in enumerate(pages, 1):
        for j, (_, _, page) in enumerate(outline):
            if page == number - 1:
                pdf.bookmarkPage(f"o{j}")
        pdf.setFont("STSong-Light", font_size)
        if header:
            pdf.drawString(40, height - 30, header(number) if callable(header) else header)
        y = height - 60
        for line in lines:
            text, size = line if isinstance(line, tuple) else (line, font_size)
            pdf.setFont("STSong-Light", size)
            pdf.drawString(40, y, text)
            y -= size * 1.6
        pdf.setFont("STSong-Light", font_size)
        if footer:
            pdf.drawCentredString(width / 2, 30, f"第 {number} 页 共 {len(pages)} 页")
        pdf.showPage()
    for j, (title, level, _) in enumerate(outline):
        pdf.addOutlineEntry(title, f"o{j}", level=level)
    pdf.save()
    return path


def make_docx(path: Path, blocks: list[tuple[str, object]]) -> Path:
    """Blocks: ("title", text), ("h1".."h3", text), ("p", text), ("table", rows) with rows a list of
    lists; ("merge", (r1, c1, r2, c2)) merges cells of the table added last."""
    import docx

    document = docx.Document()
    table = None
    for kind, value in blocks:
        if kind == "title":
            document.add_heading(value, level=0)
        elif kind.startswith("h"):
            document.add_heading(value, level=int(kind[1]))
        elif kind == "p":
            document.add_paragraph(value)
        elif kind == "table":
            table = document.add_table(rows=len(value), cols=len(value[0]))
            for r, row in enumerate(value):
                for c, text in enumerate(row):
                    if text:
                        table.cell(r, c).text = text
        elif kind == "merge":
            r1, c1, r2, c2 = value
            table.cell(r1, c1).merge(table.cell(r2, c2))
    document.save(str(path))
    return path


def make_epub(path: Path, chapters: dict[str, str], spine: list[str]) -> Path:
    """A minimal EPUB 3: chapters {file name: XHTML body}, read in ``spine`` order."""
    manifest = "".join(f'<item id="{name}" href="text/{name}" media-type="application/xhtml+xml"/>'
                       for name in chapters)
    itemrefs = "".join(f'<itemref idref="{name}"/>' for name in spine)
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr("META-INF/container.xml",
                      '<?xml version="1.0"?><container version="1.0" '
                      'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                      '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                      '</rootfiles></container>')
        book.writestr("OEBPS/content.opf",
                      '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
                      f'<metadata/><manifest>{manifest}</manifest><spine>{itemrefs}</spine></package>')
        for name, body in chapters.items():
            book.writestr(f"OEBPS/text/{name}",
                          '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                          f"<head><title>{name}</title></head><body>{body}</body></html>")
    return path
