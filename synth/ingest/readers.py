"""One reader per format: a file in, a `Document` out (its text is what chunk spans refer to).

- txt: the file's own text, newlines normalised to ``\\n``; UTF-8, else GB18030/GBK or what
  charset-normalizer recognises (the encoding is recorded).
- md: the same; ``#`` lines are headings.
- html/htm/xhtml: selectolax; headings as ``#`` lines (see synth.ingest.htmltext).
- pdf: pypdf's text layer; running headers/footers removed, wrapped lines joined (synth.ingest.pdf).
- docx, pptx, xlsx (synth.ingest.office): docx through python-docx, the body walked in order so tables
  stay in place (a line per row, a merged cell once); ``Title`` becomes ``#``, ``Heading N`` (or
  outline level N) ``#`` × (N + 1); slides with their titles as headings; sheets as Markdown tables.
- epub: stdlib zipfile: container.xml -> OPF -> spine -> XHTML, each through the HTML reader.

A reader raises `Unreadable` with the reason a file is skipped.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable
from pathlib import Path

from synth.ingest.document import Document, Unreadable, decoded
from synth.ingest.htmltext import html_to_text, main_content
from synth.ingest.office import read_docx, read_pptx, read_xlsx
from synth.ingest.text import UndecodableText, decode

__all__ = ["READERS", "Document", "Unreadable", "read_docx", "read_document", "read_epub", "read_html", "read_md",
           "read_pdf", "read_pptx", "read_txt", "read_xlsx"]


def read_txt(path: Path, source: str) -> Document:
    text, encoding = decoded(path)
    return Document(source, "txt", text, encoding)


def read_md(path: Path, source: str) -> Document:
    text, encoding = decoded(path)
    return Document(source, "md", text, encoding, markdown=True)


def read_html(path: Path, source: str, *, main: bool = True) -> Document:
    """A web page: its main content (``main``, see synth.ingest.htmltext.main_content) or all of it."""
    text, encoding = decoded(path)
    return Document(source, "html", main_content(text) if main else html_to_text(text), encoding, markdown=True)


def read_pdf(path: Path, source: str) -> Document:
    from synth.ingest.pdf import MIN_CHARS_PER_PAGE, PdfUnreadable, pdf_text, read_pdf_source

    try:
        pdf = read_pdf_source(path)
    except PdfUnreadable as exc:
        raise Unreadable(str(exc)) from None
    from synth.ingest.ocr import INSTALL_HINT, available

    pages = pdf.pages
    hint = f"install OCR to read them: {INSTALL_HINT}" if not available() else "OCR found no text on them"
    if not any(len("".join(page.text.split())) >= MIN_CHARS_PER_PAGE for page in pages):
        raise Unreadable(f"no text layer on any of its {len(pages)} pages (a scanned PDF?); {hint}")
    text, starts, marked = pdf_text(pages, pdf.outline)
    notes = []
    if pdf.blank_pages:
        shown = ", ".join(str(p + 1) for p in pdf.blank_pages[:10]) + (" ..." if len(pdf.blank_pages) > 10 else "")
        notes.append(f"{len(pdf.blank_pages)} page(s) without a text layer left out (pages {shown}); {hint}")
    return Document(source, "pdf", text, page_starts=starts, markdown=marked, ocr_pages=pdf.ocr_pages or None,
                    notes=notes)


def read_epub(path: Path, source: str) -> Document:
    import xml.etree.ElementTree as ET

    try:
        with zipfile.ZipFile(path) as book:
            container = ET.fromstring(book.read("META-INF/container.xml"))
            rootfile = next((el.get("full-path") for el in container.iter() if el.tag.endswith("rootfile")), None)
            if not rootfile:
                raise Unreadable("EPUB without a rootfile in META-INF/container.xml")
            opf = ET.fromstring(book.read(rootfile))
            base = posixpath.dirname(rootfile)
            items = {el.get("id"): el.get("href") for el in opf.iter() if el.tag.endswith("}item")}
            spine = [el.get("idref") for el in opf.iter() if el.tag.endswith("}itemref")]
            chapters = []
            for idref in spine:
                href = items.get(idref)
                if not href:
                    continue
                name = posixpath.normpath(posixpath.join(base, href.split("#")[0]))
                html, _ = decode(book.read(name))
                text = html_to_text(html)
                if text.strip():
                    chapters.append(text)
    except Unreadable:
        raise
    except (zipfile.BadZipFile, KeyError, ET.ParseError, UndecodableText) as exc:
        raise Unreadable(f"not a readable EPUB ({type(exc).__name__}: {str(exc)[:120]})") from None
    except OSError as exc:
        raise Unreadable(f"cannot open ({exc.strerror or exc})") from None
    return Document(source, "epub", "\n\n".join(chapters), markdown=True)


READERS: dict[str, Callable[[Path, str], Document]] = {
    ".txt": read_txt, ".text": read_txt, ".md": read_md, ".markdown": read_md, ".html": read_html,
    ".htm": read_html, ".xhtml": read_html, ".pdf": read_pdf, ".docx": read_docx, ".epub": read_epub,
    ".pptx": read_pptx, ".xlsx": read_xlsx, ".xlsm": read_xlsx,
}
_CONVERT = {".doc": "save it as .docx", ".wps": "save it as .docx", ".rtf": "save it as .docx",
            ".ppt": "save it as .pptx", ".xls": "save it as .xlsx"}


def read_document(path: Path, source: str | None = None, *, html_main: bool = True) -> Document:
    """Read one file by its extension; raises `Unreadable` with the reason. ``html_main``: a web
    page is read as its main content (menus, comments and footers left out), else whole."""
    suffix = path.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        hint = _CONVERT.get(suffix, "ingest reads " + " ".join(sorted(set(READERS))))
        raise Unreadable(f"unsupported file type {suffix or '(no extension)'}; {hint}")
    if reader is read_html:
        document = read_html(path, source or path.as_posix(), main=html_main)
    else:
        document = reader(path, source or path.as_posix())
    if not document.text.strip():
        raise Unreadable("no text in it")
    return document
