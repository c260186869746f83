"""Regenerate the PDF and the DOCX of examples/docs/manufacturing-zh/ (both are committed).

    python examples/docs/make_pdf.py

The PDF uses reportlab's CID font STSong-Light (not embedded), so pypdf extracts real Chinese text;
every page carries a running header and a page-number footer, which `synth ingest` removes. The
DOCX is written with python-docx: Title and Heading styles, and one table with merged cells.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "manufacturing-zh"

NONCONFORMING = """\
# 不合格品控制程序
文件编号：QP-ZL-008　版本：C/2
## 1 目的
对生产过程中出现的不合格品进行识别、标识、隔离、评审和处置，防止不合格品被误用或流入下道工序及客户，并通过原因分析和纠正措施防止问题再次发生。
## 2 适用范围
本程序适用于原材料进货检验、生产过程检验、成品检验以及客户退回产品中发现的不合格品的控制。
## 3 职责
3.1 质量部负责不合格品的判定、标识和评审的组织，并跟踪纠正措施的实施效果。
3.2 生产车间负责不合格品的隔离、返工和返修，以及本车间原因分析的实施。
3.3 技术部负责提供返工、返修工艺，并参与让步接收的评审。
3.4 采购部负责与供应商沟通来料不合格的处理，并督促供应商提交改进报告。
## 4 工作程序
4.1 识别与标识：检验员发现不合格品后，应立即在产品或其容器上粘贴红色“不合格”标签，注明产品名称、批号、数量、不合格项目和发现日期。
4.2 隔离：不合格品应在2小时内移入不合格品区，不合格品区用红色地标线划定并上锁管理，钥匙由质量部保管。未经评审的不合格品，任何人不得擅自移出或使用。
4.3 评审：一般不合格由质量部检验主管评审；批量不合格（同一批次不合格率超过3%）或涉及安全、法规要求的不合格，由质量部经理组织生产、技术和采购部门共同评审，并填写《不合格品评审处置单》。
4.4 处置方式包括返工、返修、让步接收、降级使用和报废。返工、返修后的产品必须重新检验，合格后方可转入下道工序。让步接收须经技术部和质量部经理批准；涉及客户要求的，还须取得客户书面同意。报废品由仓库统一收集，按公司《废弃物管理规定》处理。
4.5 纠正措施：同一不合格项目在一个月内重复发生两次以上，或单次损失超过5000元的，由质量部发出《纠正预防措施要求单》，责任部门应在5个工作日内完成原因分析，按“人、机、料、法、环、测”逐项排查，并提出纠正措施和完成期限。质量部对纠正措施的实施效果进行验证，连续三个批次未再发生方可关闭。
4.6 客户退货：客户退回的产品由销售部登记后交质量部确认。确属我方责任的，按本程序第4.3条组织评审，并在48小时内向客户提交临时措施，10个工作日内提交8D报告。
## 5 记录
不合格品评审处置单、纠正预防措施要求单和客户退货记录由质量部保存，保存期限不少于三年。
"""

HEADER = "华东精密冲压有限公司　质量管理体系文件"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _wrap(text: str, cells: int) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if _width(line + ch) > cells:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line] if line else lines


def make_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    width, height = A5
    margin, size, leading = 40, 11, 24
    cells = int((width - 2 * margin) / (size / 2))
    items = []
    for raw in NONCONFORMING.splitlines():
        if raw.startswith("#"):
            level = len(raw) - len(raw.lstrip("#"))
            items.append((raw.lstrip("# "), 15 if level == 1 else 12))
        else:
            items.append((raw, size))
    pages = []
    page: list[tuple[str, float]] = []
    y = height - margin - 30
    for text, font_size in items:
        for line in _wrap(text, int(cells * size / font_size)):
            if y < margin + 30:
                pages.append(page)
                page, y = [], height - margin - 30
            page.append((line, font_size, y))
            y -= leading * font_size / size
    pages.append(page)
    pdf = canvas.Canvas(str(path), pagesize=A5, invariant=1)
    pdf.setTitle("不合格品控制程序")
    for number, lines in enumerate(pages, 1):
        pdf.setFont("STSong-Light", 8)
        pdf.drawString(margin, height - margin, HEADER)
        pdf.drawCentredString(width / 2, margin - 10, f"第 {number} 页 共 {len(pages)} 页")
        for line, font_size, y in lines:
            pdf.setFont("STSong-Light", font_size)
            pdf.drawString(margin, y, line)
        pdf.showPage()
    pdf.save()


FIRST_ARTICLE = [
    ("title", "首件检验作业指导书"),
    ("p", "文件编号：QW-ZL-012　版本：B/0　编制：质量部"),
    ("h1", "1 目的"),
    ("p", "通过对每批次、每班次生产的第一件产品进行全面检验，及早发现模具、夹具、工艺参数或原材料方面的问题，"
          "防止成批不合格品的产生。"),
    ("h1", "2 适用范围"),
    ("p", "本指导书适用于公司冲压、焊接和机加工工序的首件检验。"),
    ("h1", "3 首件检验的时机"),
    ("p", "有下列情况之一时，必须进行首件检验："),
    ("p", "（1）每班开始生产时；"),
    ("p", "（2）更换模具、夹具或调整工艺参数后；"),
    ("p", "（3）更换原材料批次或供应商后；"),
    ("p", "（4）设备维修后恢复生产时；"),
    ("p", "（5）停产超过4小时后重新生产时。"),
    ("h1", "4 检验程序"),
    ("h2", "4.1 自检"),
    ("p", "操作工按作业指导书完成首件生产后，对照图纸和检验规范进行自检，在《首件检验记录表》中填写实测值，"
          "并在首件上挂“待检”标签。自检不合格的，不得送专检。"),
    ("h2", "4.2 专检"),
    ("p", "检验员接到通知后应在20分钟内完成检验。检验项目、方法和判定标准见下表。"),
    ("table", None),
    ("h2", "4.3 判定与放行"),
    ("p", "首件检验合格的，检验员在首件标签上签字并注明日期，首件应保留至该批次生产结束，作为批量生产的比对样件。"
          "首件检验不合格的，操作工应查明原因并调整，重新制作首件并再次送检，直至合格。"),
    ("p", "连续三次首件检验不合格的，应报告车间主任和工艺工程师，组织分析原因后方可继续生产。"),
    ("h1", "5 记录"),
    ("p", "《首件检验记录表》由质量部保存，保存期限为两年。"),
]
TABLE = [
    ["检验项目", "检验方法", "判定标准"],
    ["外观", "目视", "无裂纹、划伤、压痕和锈蚀"],
    ["关键尺寸", "游标卡尺、专用检具", "符合图纸公差要求"],
    ["孔位", "", "检具定位销可顺利插入"],
    ["毛刺高度", "塞尺", "不大于0.1 mm"],
    ["备注：首件检验合格后方可批量生产。", "", ""],
]


def make_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    for kind, text in FIRST_ARTICLE:
        if kind == "title":
            document.add_heading(text, level=0)
        elif kind in ("h1", "h2"):
            document.add_heading(text, level=int(kind[1]))
        elif kind == "p":
            document.add_paragraph(text)
        else:
            table = document.add_table(rows=len(TABLE), cols=3)
            table.style = "Table Grid"
            for r, row in enumerate(TABLE):
                for c, value in enumerate(row):
                    if value:
                        table.cell(r, c).text = value
            table.cell(2, 1).merge(table.cell(3, 1))  # one method for two rows
            table.cell(5, 0).merge(table.cell(5, 2))  # a note across the whole row
    document.core_properties.title = "首件检验作业指导书"
    document.save(str(path))


if __name__ == "__main__":
    make_pdf(FOLDER / "不合格品控制程序.pdf")
    make_docx(FOLDER / "首件检验作业指导书.docx")
    print(f"wrote {FOLDER / '不合格品控制程序.pdf'} and {FOLDER / '首件检验作业指导书.docx'}")
