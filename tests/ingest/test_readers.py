"""Readers: real files of every format, including broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth.ingest import Unreadable, read_document, split_text
from tests.conftest import EXAMPLES
from tests.ingest.docs import make_docx, make_epub, make_pdf

DOCS = EXAMPLES / "docs" / "manufacturing-zh"


def test_gb18030_text_file_is_decoded_and_its_encoding_recorded(tmp_path):
    text = "第一章　总则\r\n第一条　为保障员工安全，制定本规程。\r\n第二条　本规程适用于冲压车间。𠀀\r\n"
    path = tmp_path / "规程.txt"
    path.write_bytes(text.encode("gb18030"))
    doc = read_document(path)
    assert doc.encoding == "gb18030"
    assert doc.text == text.replace("\r\n", "\n")
    assert doc.format == "txt" and not doc.markdown


def test_gbk_example_file_reads_as_chinese():
    doc = read_document(DOCS / "安全生产操作规程.txt")
    assert doc.encoding == "gb18030"
    assert "第十一条　设备维修、换模和清理作业前，必须执行上锁挂牌程序" in doc.text


def test_utf8_markdown_keeps_its_own_text(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes("\ufeff# 标题\r\n\r\n正文。\r\n".encode("utf-8"))
    doc = read_document(path)
    assert (doc.text, doc.encoding, doc.markdown) == ("# 标题\n\n正文。\n", "utf-8", True)


def test_html_headings_blocks_and_tables(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><head><title>t</title><script>var x = '# no';</script></head><body>"
                    "<nav>首页 &gt; 规程</nav><h1>首件检验</h1><p>首件  必须\n检验。<br>合格后生产。</p>"
                    "<h2>检验项目</h2><table><tr><th>项目</th><th>标准</th></tr><tr><td>尺寸</td><td>±0.1</td></tr>"
                    "</table><ul><li>外观</li><li>毛刺</li></ul></body></html>", encoding="utf-8")
    doc = read_document(path)
    assert doc.text == ("# 首件检验\n\n首件 必须 检验。\n合格后生产。\n\n## 检验项目\n\n项目 | 标准\n尺寸 | ±0.1\n\n"
                        "外观\n\n毛刺")
    chunks = split_text(doc.text, 1500, markdown=doc.markdown)
    assert [c["headings"] for c in chunks] == [["首件检验"]]
    small = [c["headings"] for c in split_text(doc.text, 25, markdown=True)]
    assert small[0] == ["首件检验"] and len(small) > 2
    assert all(path == ["首件检验", "检验项目"] for path in small[1:])


def test_docx_walks_the_body_in_order_with_headings_and_merged_cells_once(tmp_path):
    path = make_docx(tmp_path / "首件.docx", [
        ("title", "首件检验作业指导书"), ("p", "文件编号：QW-ZL-012"), ("h1", "1 目的"), ("p", "防止成批不合格。"),
        ("h1", "2 检验"), ("h2", "2.1 项目"), ("p", "检验项目见下表。"),
        ("table", [["项目", "方法", "标准"], ["尺寸", "卡尺", "±0.1"], ["孔位", "", "可插入"], ["备注：合格后生产", "", ""]]),
        ("merge", (1, 1, 2, 1)), ("merge", (3, 0, 3, 2)),
        ("p", "表后的段落。"),
    ])
    doc = read_document(path)
    assert doc.markdown and doc.format == "docx"
    assert doc.text == ("# 首件检验作业指导书\n\n文件编号：QW-ZL-012\n\n## 1 目的\n\n防止成批不合格。\n\n## 2 检验\n\n"
                        "### 2.1 项目\n\n检验项目见下表。\n\n项目 | 方法 | 标准\n尺寸 | 卡尺 | ±0.1\n孔位 |  | 可插入\n"
                        "备注：合格后生产\n\n表后的段落。")
    paths = [c["headings"] for c in split_text(doc.text, 40, markdown=True)]
    assert ["首件检验作业指导书", "1 目的"] in paths
    assert ["首件检验作业指导书", "2 检验", "2.1 项目"] in paths


def test_example_docx_has_its_table_in_place():
    doc = read_document(DOCS / "首件检验作业指导书.docx")
    table = doc.text.index("检验项目 | 检验方法 | 判定标准")
    assert doc.text.index("### 4.2 专检") < table < doc.text.index("### 4.3 判定与放行")
    assert doc.text.count("首件检验合格后方可批量生产") == 1  # the merged note row, once


def test_epub_chapters_follow_the_spine(tmp_path):
    path = make_epub(tmp_path / "book.epub", {"b.xhtml": "<h1>第二章 检验</h1><p>首件检验。</p>",
                                              "a.xhtml": "<h1>第一章 点检</h1><p>日常点检。</p>"},
                     spine=["a.xhtml", "b.xhtml"])
    doc = read_document(path)
    assert doc.text == "# 第一章 点检\n\n日常点检。\n\n# 第二章 检验\n\n首件检验。"
    assert doc.format == "epub"


def test_pdf_drops_running_headers_and_footers_and_joins_wrapped_lines(tmp_path):
    body = [["不合格品控制程序", "1 目的", "对生产过程中出现的不合格品进行识别、标识、隔离、评审和",
             "处置，防止不合格品流入下道工序。"],
            ["2 职责", "质量部负责不合格品的判定和标识，生产车间负责隔离和返工，", "技术部负责返修工艺。"],
            ["3 记录", "Every press must be inspected by the shift's mainte-",
             "nance technician before the shift starts, and the",
             "result recorded."]]
    path = make_pdf(tmp_path / "程序.pdf", body, header="华东精密冲压有限公司 质量管理体系文件", footer=True)
    doc = read_document(path)
    assert "质量管理体系文件" not in doc.text and "页" not in doc.text
    assert "对生产过程中出现的不合格品进行识别、标识、隔离、评审和处置，防止不合格品流入下道工序。" in doc.text
    assert "生产车间负责隔离和返工，技术部负责返修工艺。" in doc.text
    assert "inspected by the shift's maintenance technician before the shift starts, and the result recorded." \
        in doc.text
    assert len(doc.page_starts) == 3
    assert [doc.text[s:s + 4] for s in doc.page_starts] == ["不合格品", "2 职责", "3 记录"]
    chunks = split_text(doc.text, 60, markdown=doc.markdown)
    assert chunks[0]["headings"][0] == "不合格品控制程序"
    assert ["不合格品控制程序", "2 职责"] in [c["headings"] for c in chunks]


def test_example_pdf_reads_as_text_without_its_header():
    doc = read_document(DOCS / "不合格品控制程序.pdf")
    assert len(doc.page_starts) >= 3
    assert "华东精密冲压有限公司" not in doc.text
    assert "按“人、机、料、法、环、测”逐项排查" in doc.text


def test_corrupt_pdf_is_unreadable_with_a_reason(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj <</Type /Catalog>> garbage without xref")
    with pytest.raises(Unreadable, match="not a readable PDF|no text layer"):
        read_document(path)


def test_encrypted_pdf_is_unreadable_with_a_reason(tmp_path):
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf", [["保密文件内容。"]])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    with open(tmp_path / "locked.pdf", "wb") as fh:
        writer.write(fh)
    with pytest.raises(Unreadable, match="encrypted PDF"):
        read_document(tmp_path / "locked.pdf")


def test_pdf_without_a_text_layer_is_unreadable(tmp_path):
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(tmp_path / "scan.pdf"))
    for _ in range(2):
        pdf.rect(50, 50, 400, 600, fill=1)  # a "scanned" page: drawing, no text
        pdf.showPage()
    pdf.save()
    with pytest.raises(Unreadable, match="no text layer on any of its 2 pages"):
        read_document(tmp_path / "scan.pdf")


@pytest.mark.parametrize("name, content, reason", [
    ("notes.doc", b"\xd0\xcf\x11\xe0", "unsupported file type .doc; save it as .docx"),
    ("image.png", b"\x89PNG", "unsupported file type .png"),
    ("empty.txt", b"", "no text in it"),
    ("blank.md", b"\n \n", "no text in it"),
    ("binary.txt", b"\x00\x01\x02\xff\xfe" * 10, "binary data"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable .docx"),
    ("broken.epub", b"not a zip", "not a readable EPUB"),
])
def test_unreadable_files_name_the_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(Unreadable, match=reason.replace(".", r"\.")):
        read_document(path)


def test_every_example_document_reads_with_exact_spans():
    for path in sorted(Path(DOCS).iterdir()):
        doc = read_document(path)
        chunks = split_text(doc.text, 300, markdown=doc.markdown)
        assert chunks, path
        for chunk in chunks:
            assert doc.text[chunk["start"]:chunk["end"]] == chunk["text"]


def test_docx_headings_by_chinese_style_name_and_outline_level(tmp_path):
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.styles.add_style("标题 1", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("第一章 总则", style="标题 1")
    document.add_paragraph("本规程适用于冲压车间。")
    outlined = document.add_paragraph("第一节 点检")  # a body-style paragraph promoted by its outline level
    level = OxmlElement("w:outlineLvl")
    level.set(qn("w:val"), "1")
    outlined._p.get_or_add_pPr().append(level)
    document.add_paragraph("每班开机前点检。")
    document.save(str(tmp_path / "规程.docx"))
    doc = read_document(tmp_path / "规程.docx")
    assert doc.text == "## 第一章 总则\n\n本规程适用于冲压车间。\n\n### 第一节 点检\n\n每班开机前点检。"


@pytest.mark.parametrize("text, encoding, expected", [
    ("质量\n", "gbk", "gb18030"),  # two characters: charset-normalizer alone guesses Big5
    ("設備點檢規程，操作人員應持證上崗。本規程適用於沖壓車間全部設備。\n", "big5", "big5"),
    ("Größe und Maß, café.\n", "cp1252", None),
])
def test_short_and_legacy_encodings(tmp_path, text, encoding, expected):
    path = tmp_path / "note.txt"
    path.write_bytes(text.encode(encoding))
    doc = read_document(path)
    assert doc.text == text
    if expected:
        assert doc.encoding == expected
