"""Ruled PDF tables come out of ingest as Markdown tables, in place of their loose text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from synth.ingest.pdf_read import read_pdf_source
from synth.ingest.pdf_tables import markdown_table
from synth.ingest.readers import read_pdf
from synth.ingest.split import split_text
from tests.ingest.docs import make_pdf

# pdfplumber's test PDF for issue 466 (see fixtures/SOURCES.md): four tables whose cells name
# themselves (T0-12: table 0, row 1, column 2); table 0 is ruled on every side, 1 and 2 lack
# horizontal or vertical rules, 3 has only a rule under its header
TABLES_PDF = Path(__file__).parent / "fixtures" / "pdfplumber-issue-466-tables.pdf"


def test_ruled_table_becomes_markdown_rows_in_place():
    text = read_pdf(TABLES_PDF, "t.pdf").text
    table = ("| T0-C0 | T0-C1 | T0-C2 |\n| --- | --- | --- |\n| T0-00 | T0-01 | T0-02 |\n"
             "| T0-10 | T0-11 | T0-12 |\n| T0-20-last | T0-21-last | T0-22-last |")
    assert table in text
    # the text around it stays, once, in reading order; the table's loose words are gone
    before, after = text.split(table)
    assert before.rstrip().endswith("Reference table") and before.count("Reference table") == 1
    assert after.lstrip().startswith("No horizontal lines") and text.count("T0-11") == 1
    # a table without vertical rules is not ruled: its text stays as lines
    assert "T1-00 T1-01 T1-02" in text and "| T1-00" not in text


def test_table_rows_are_not_headings_and_chunks_keep_rows_whole():
    document = read_pdf(TABLES_PDF, "t.pdf")
    for size in (40, 60, 90):
        for chunk in split_text(document.text, size, markdown=document.markdown):
            for line in chunk["text"].split("\n"):
                if line.startswith("| T0"):
                    assert line.endswith("|"), (size, chunk["text"])
            assert not any(h.startswith("|") for h in chunk["headings"])


def test_pages_without_tables_read_as_before(tmp_path):
    path = make_pdf(tmp_path / "plain.pdf", [[("设备点检规程", 18), "第一章 总则", "操作工应在开机前检查润滑油位。"],
                                             [("第二章 附则", 14), "本规程自发布之日起施行。"]])
    with_tables, without = read_pdf_source(path), read_pdf_source(path, tables_too=False)
    assert [(p.text, p.sizes, p.bold) for p in with_tables.pages] == \
        [(p.text, p.sizes, p.bold) for p in without.pages]
    assert not any(p.table_lines for p in with_tables.pages)


def test_pdf_pdfplumber_cannot_parse_still_ingests(monkeypatch, caplog):
    import pdfplumber

    def broken(*args, **kwargs):
        raise ValueError("pdfminer gave up")

    monkeypatch.setattr(pdfplumber, "open", broken)
    with caplog.at_level(logging.WARNING):
        text = read_pdf(TABLES_PDF, "t.pdf").text
    assert "T0-00 T0-01 T0-02" in text and "| T0-00" not in text
    assert "tables not read" in caplog.text


def test_markdown_table_cells():
    assert markdown_table([["Fee (cid:2)", "a|b"], ["line\none", None]]) == \
        "| Fee | a\\|b |\n| --- | --- |\n| line one |  |"


@pytest.mark.parametrize("rows", [[["only", "one row"]], [["a"], ["b"]]])
def test_one_row_or_one_column_is_not_a_table(rows, monkeypatch):
    from synth.ingest import pdf_tables

    class FakeTable:
        bbox = (0, 0, 10, 10)

        def extract(self):
            return rows

    class FakePage:
        rotation = 0
        chars = []

        def find_tables(self):
            return [FakeTable()]

    assert pdf_tables._page_tables(FakePage()) == []
