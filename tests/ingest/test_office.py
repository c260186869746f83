"""PowerPoint and Excel files (python-pptx, openpyxl): slides with their titles as headings, sheets as
Markdown tables; encrypted PDFs that open without a password. Fixtures are built here."""

from __future__ import annotations

import pytest

from synth.ingest import read_document, split_text
from tests.ingest.docs import make_pdf


def test_pptx_slides_have_their_titles_as_headings(tmp_path):
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "设备点检"
    slide.placeholders[1].text_frame.text = "每班开机前完成日常点检"
    slide.placeholders[1].text_frame.add_paragraph().text = "发现异常立即停机"
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "点检周期"
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for (r, c), value in {(0, 0): "项目", (0, 1): "周期", (1, 0): "润滑", (1, 1): "每班"}.items():
        table.cell(r, c).text = value
    deck.save(tmp_path / "培训.pptx")
    doc = read_document(tmp_path / "培训.pptx")
    assert doc.text == "# 设备点检\n\n每班开机前完成日常点检\n发现异常立即停机\n\n# 点检周期\n\n项目 | 周期\n润滑 | 每班"
    assert [c["headings"] for c in split_text(doc.text, 30)] == [["设备点检"], ["点检周期"]]


def test_xlsx_sheets_are_markdown_tables(tmp_path):
    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "点检记录"
    sheet.append(["设备", "日期", "油位", None])
    sheet.append(["1号压力机", datetime.date(2024, 5, 6), 0.85, None])
    sheet.append([None, None, None, None])
    sheet.append(["2号|压力机", datetime.datetime(2024, 5, 7, 8, 30), 12.0, None])
    book.create_sheet("空表")
    book.save(tmp_path / "记录.xlsx")
    doc = read_document(tmp_path / "记录.xlsx")
    assert doc.text == ("# 点检记录\n\n| 设备 | 日期 | 油位 |\n| --- | --- | --- |\n| 1号压力机 | 2024-05-06 | 0.85 |\n"
                        "| 2号\\|压力机 | 2024-05-07 08:30:00 | 12 |")


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_encrypted_pdf_without_a_user_password_is_read(tmp_path, algorithm):
    from pypdf import PdfReader, PdfWriter

    pytest.importorskip("cryptography")
    plain = make_pdf(tmp_path / "plain.pdf", [["本文件受控，仅限内部使用。"]])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm=algorithm)
    with open(tmp_path / "locked.pdf", "wb") as fh:
        writer.write(fh)
    assert read_document(tmp_path / "locked.pdf").text == "本文件受控，仅限内部使用。"


def _scan_pdf(path, lines):
    """A 'scanned' page: the text drawn into an image (WenQuanYi, a CJK font the system has), the
    image alone on the page."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    fonts = ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"]
    font_path = next((f for f in fonts if __import__("os").path.exists(f)), None)
    if font_path is None:
        pytest.skip("no CJK font to draw a scanned page with")
    font = ImageFont.truetype(font_path, 40)
    image = Image.new("RGB", (1240, 200 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((80, 100 + 70 * i), line, fill="black", font=font)
    pdf = canvas.Canvas(str(path))
    pdf.drawImage(ImageReader(image), 0, 0, width=595, height=595 * image.size[1] / image.size[0])
    pdf.showPage()
    pdf.save()
    return path


def test_scanned_page_is_read_by_ocr_and_its_chunks_marked(tmp_path):
    from synth.ingest import IngestReport, iter_chunks
    from synth.ingest.ocr import available

    if not available():
        pytest.skip("the ocr extra (rapidocr-onnxruntime) is not installed")
    path = _scan_pdf(tmp_path / "扫描件.pdf", ["设备点检规程", "操作工应在开机前检查油位。"])
    report = IngestReport()
    chunks = list(iter_chunks([path], report=report))
    text = "".join(c["text"] for c in chunks)
    assert "点检规程" in text and "检查油位" in text
    assert all(c.get("ocr") is True for c in chunks) and report.ocr_pages == 1


def test_scanned_page_without_the_ocr_extra_names_the_install_hint(tmp_path, monkeypatch):
    from synth.ingest import Unreadable
    from synth.ingest import ocr

    monkeypatch.setattr(ocr, "_engine", lambda: None)
    path = _scan_pdf(tmp_path / "扫描件.pdf", ["设备点检规程"])
    with pytest.raises(Unreadable, match=r"no text layer on any of its 1 pages .*pip install 'synth-datagen\[ocr\]'"):
        read_document(path)


def test_a_scanned_page_among_text_pages_is_named_and_the_rest_read(tmp_path, monkeypatch):
    from pypdf import PdfReader, PdfWriter

    from synth.ingest import IngestReport, iter_chunks
    from synth.ingest import ocr

    monkeypatch.setattr(ocr, "_engine", lambda: None)
    text_pdf = make_pdf(tmp_path / "text.pdf", [["第一章 总则", "本规程适用于冲压车间。"]])
    scan = _scan_pdf(tmp_path / "scan.pdf", ["设备点检规程"])
    writer = PdfWriter()
    for source in (text_pdf, scan):
        for page in PdfReader(source).pages:
            writer.add_page(page)
    with open(tmp_path / "mixed.pdf", "wb") as fh:
        writer.write(fh)
    report = IngestReport()
    chunks = list(iter_chunks([tmp_path / "mixed.pdf"], report=report))
    assert "本规程适用于冲压车间。" in chunks[0]["text"] and not report.skipped
    assert len(report.notes) == 1 and "page(s) without a text layer left out (pages 2)" in report.notes[0][1]
