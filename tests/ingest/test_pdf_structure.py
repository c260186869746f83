"""PDF structure from the PDF's own signals (synth.ingest.pdf): font sizes, the outline, page
furniture that varies per page, table-of-contents and table lines, repaired characters.

Fixtures are generated here (reportlab); the measurement on real documents is bench/ingest_quality.py.
"""

from __future__ import annotations

from synth.ingest import read_document, split_text
from synth.ingest.pdf import pdf_text
from synth.ingest.structure import chinese_heading, junk_heading
from tests.ingest.docs import make_pdf

BODY = ["本标准规定了冲压车间设备点检的周期、内容和记录要求，适用于本公司所有冲压设备的日常点检和",
        "定期点检。操作工应在每班开机前完成日常点检，并将结果记录在点检表中。"]


def body(n: int) -> list[str]:
    """Two lines of body text, different for each n (lines that repeat at the top or bottom of pages,
    digits aside, are furniture)."""
    word = "甲乙丙丁戊己庚辛壬癸子丑"[n]
    return [f"{word}类：" + BODY[0], BODY[1].replace("。", f"（{word}类）。", 1)]


def _chunks(doc, size=60):
    return split_text(doc.text, size, markdown=doc.markdown)


def test_headings_come_from_font_sizes_and_rank_by_size(tmp_path):
    pages = [[("设备点检规程", 20), ("1 范围", 14), *body(1), ("1.1 适用设备", 12), *body(2)],
             [("2 点检周期", 14), *body(3), ("2.1 日常点检", 12), *body(4)]]
    doc = read_document(make_pdf(tmp_path / "规程.pdf", pages))
    assert doc.markdown
    paths = [c["headings"] for c in _chunks(doc)]
    assert ["设备点检规程", "1 范围", "1.1 适用设备"] in paths
    assert ["设备点检规程", "2 点检周期", "2.1 日常点检"] in paths


def test_table_rows_and_cover_codes_in_large_type_are_never_headings(tmp_path):
    pages = [[("ICS 01.140.20", 14), ("设备点检规程", 20), ("10 20 30 40 50 60 70 80 90 100", 14),
              ("0 0 0 22.45 否", 14), *body(5), ("1 范围", 14), *body(6)]]
    doc = read_document(make_pdf(tmp_path / "规程.pdf", pages))
    heads = {h for c in _chunks(doc) for h in c["headings"]}
    assert heads == {"设备点检规程", "1 范围"}


def test_outline_gives_the_heading_levels_and_the_contents_page_is_dropped(tmp_path):
    toc = ["目录", "1 范围 .................... 2", "2 规范性引用文件 ............ 2", "3 点检周期 2",
           "3.1 日常点检 2", "3.2 定期点检 2", "4 记录 2"]
    text = ["1 范围", *body(7), "2 规范性引用文件", *body(8), "3 点检周期", "3.1 日常点检", *body(9), "3.2 定期点检",
            *body(10), "4 记录", *body(11)]
    outline = [("1 范围", 0, 1), ("2 规范性引用文件", 0, 1), ("3 点检周期", 0, 1), ("3.1 日常点检", 1, 1),
               ("3.2 定期点检", 1, 1), ("4 记录", 0, 1)]
    doc = read_document(make_pdf(tmp_path / "规程.pdf", [toc, text], outline=outline))
    assert "...." not in doc.text and "4 记录 2" not in doc.text
    paths = [c["headings"] for c in _chunks(doc)]
    assert ["3 点检周期", "3.2 定期点检"] in paths and ["4 记录"] in paths
    assert all(not h.endswith(" 2") for p in paths for h in p)


def test_contents_lines_without_leaders_are_not_headings():
    assert junk_heading("5 API 说明 20") == "contents"
    assert chinese_heading("5 API 说明 20", 0)[0] is None
    assert chinese_heading("5 API 说明", 0)[0].title == "5 API 说明"


def test_running_header_that_changes_per_chapter_is_removed(tmp_path):
    chapter = {1: "1.1 适用范围", 2: "1.1 适用范围", 3: "2.1 周期要求", 4: "2.1 周期要求", 5: "2.1 周期要求"}
    pages = [["正文开始。", *body(n), "本页结束。"] for n in range(1, 6)]
    doc = read_document(make_pdf(tmp_path / "手册.pdf", pages, header=lambda n: f"{n} {chapter[n]}"))
    assert "适用范围" not in doc.text and "周期要求" not in doc.text
    assert doc.text.count("点检表中") == 5


def test_ligatures_nul_and_numbers_cut_at_a_cell_wrap_are_repaired():
    text, _, _ = pdf_text(["The \ufb01rst \ufb02oor of the o\ufb03ce\x00 is closed.\nTotal paid 1,858,221,567.\n60 yuan",
                           "Report at http://211.\n152.9.47/report and 3,000. 50 in cash."])
    assert "first floor of the office is closed." in text
    assert "1,858,221,567.60 yuan" in text and "http://211.152.9.47/report" in text and "3,000.50 in cash" in text
    assert "\ufb01" not in text and "\x00" not in text
