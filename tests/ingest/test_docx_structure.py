"""DOCX: Word's automatic numbering kept in headings and items, tables of contents skipped, embedded
HTML/MHT chunks (w:altChunk) read. Fixtures are built here with python-docx."""

from __future__ import annotations

import zipfile

import docx
from docx.oxml import parse_xml

from synth.ingest import read_document, split_text

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _numbered_heading_styles(document) -> None:
    """An abstract numbering 1 / 1.1 linked to Heading 1 / Heading 2, as Word's multilevel lists are."""
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {W} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1"/>'
        '<w:suff w:val="space"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/>'
        '<w:suff w:val="space"/></w:lvl></w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {W} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    numbering.insert(1, parse_xml(
        f'<w:abstractNum {W} w:abstractNumId="91"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
        '<w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%1）"/><w:suff w:val="nothing"/></w:lvl></w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {W} w:numId="91"><w:abstractNumId w:val="91"/></w:num>'))
    for name, level in (("Heading 1", 0), ("Heading 2", 1)):
        ppr = document.styles[name].element.get_or_add_pPr()
        ppr.append(parse_xml(f'<w:numPr {W}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'))


def _item(document, text: str) -> None:
    p = document.add_paragraph(text)
    p._p.get_or_add_pPr().append(parse_xml(f'<w:numPr {W}><w:ilvl w:val="0"/><w:numId w:val="91"/></w:numPr>'))


def test_word_numbering_is_kept_in_headings_and_items(tmp_path):
    document = docx.Document()
    _numbered_heading_styles(document)
    document.add_heading("范围", 1)
    document.add_paragraph("本标准规定了冲压车间设备点检的要求。")
    document.add_heading("术语和定义", 1)
    document.add_heading("点检", 2)
    document.add_paragraph("按规定的周期对设备进行的检查。")
    _item(document, "日常点检由操作工完成。")
    _item(document, "定期点检由维修工完成。")
    document.add_heading("定检", 2)
    document.save(tmp_path / "标准.docx")
    text = read_document(tmp_path / "标准.docx").text
    assert "## 1 范围" in text and "## 2 术语和定义" in text and "### 2.1 点检" in text and "### 2.2 定检" in text
    assert "（一）日常点检由操作工完成。" in text and "（二）定期点检由维修工完成。" in text
    paths = [c["headings"] for c in split_text(text, 40)]
    assert ["2 术语和定义", "2.1 点检"] in paths


def test_table_of_contents_is_skipped(tmp_path):
    document = docx.Document()
    document.add_paragraph("目录")
    for line in ("1 范围\t1", "2 术语和定义\t2"):
        p = document.add_paragraph(line)
        p.style = document.styles.add_style("TOC 1", 1) if "TOC 1" not in [s.name for s in document.styles] \
            else document.styles["TOC 1"]
    # a TOC field around two more lines (Word's own TOC: begin, instruction, entries, end)
    field = document.add_paragraph()
    field._p.append(parse_xml(f'<w:r {W}><w:fldChar w:fldCharType="begin"/></w:r>'))
    field._p.append(parse_xml(f'<w:r {W}><w:instrText xml:space="preserve"> TOC \\o "1-3" \\h </w:instrText></w:r>'))
    field._p.append(parse_xml(f'<w:r {W}><w:fldChar w:fldCharType="separate"/></w:r>'))
    field._p.append(parse_xml(f'<w:r {W}><w:t>3 点检周期\t3</w:t></w:r>'))
    last = document.add_paragraph("4 记录\t5")
    last._p.append(parse_xml(f'<w:r {W}><w:fldChar w:fldCharType="end"/></w:r>'))
    document.add_heading("1 范围", 1)
    document.add_paragraph("本标准规定了点检要求。")
    document.save(tmp_path / "toc.docx")
    text = read_document(tmp_path / "toc.docx").text
    assert "\t" not in text and "3 点检周期" not in text and "4 记录" not in text
    assert text.endswith("## 1 范围\n\n本标准规定了点检要求。")


def test_an_embedded_mht_chunk_is_read(tmp_path):
    """Word files exported by web systems often hold the whole body as an MHT chunk (w:altChunk)."""
    document = docx.Document()
    document.add_paragraph("placeholder")
    document.save(tmp_path / "base.docx")
    mht = ('MIME-Version: 1.0\r\nContent-Type: multipart/related; type="text/html"; boundary="B"\r\n\r\n--B\r\n'
           'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
           '<html><body><h1>=E4=B8=AD=E5=8D=8E=E4=BA=BA=E6=B0=91=E5=85=B1=E5=92=8C=E5=9B=BD=E5=8A=B3=E5=8A=A8=E6=B3=95</h1>'
           '<p>=E7=AC=AC=E4=B8=80=E6=9D=A1 =E4=B8=BA=E4=BA=86=E4=BF=9D=E6=8A=A4=E5=8A=B3=E5=8A=A8=E8=80=85=E3=80=82</p>'
           '</body></html>\r\n--B--\r\n')
    with zipfile.ZipFile(tmp_path / "base.docx") as src, zipfile.ZipFile(tmp_path / "law.docx", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:p>", b'<w:altChunk r:id="mht1"/><w:p>', 1) if b"<w:p>" in data else \
                    data.replace(b"<w:body>", b'<w:body><w:altChunk r:id="mht1"/>', 1)
                data = data.replace(b"placeholder", b"")
            elif item.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="mht1" Type="http://schemas.openxmlformats.org/'
                                    b'officeDocument/2006/relationships/aFChunk" Target="afchunk.mht"/></Relationships>')
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Default Extension="mht" ContentType="message/rfc822"/></Types>')
            dst.writestr(item, data)
        dst.writestr("word/afchunk.mht", mht)
    text = read_document(tmp_path / "law.docx").text
    assert text == "# 中华人民共和国劳动法\n\n第一条 为了保护劳动者。"
