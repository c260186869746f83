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
