"""The splitter: exact spans, structure, sentence boundaries, protected tokens, overlap."""

from __future__ import annotations

import random
import re

import pytest

from synth.ingest import split_text

CLAUSES = ["操作工应检查润滑油位", "气源压力不低于0.5MPa", "依据《中华人民共和国安全生产法》第二十一条执行",
           "工业4.0时代的产线要求更高", "本月一次交检合格率为10.5%以上", "严禁短接安全光栅",
           "维修工应在30分钟内到达现场", "记录保存期限不少于三年", "见《设备故障维修记录表，第2版》",
           "模具紧固螺栓无松动"]
ENDS = ["。", "！", "？", "；", "。”", "……"]
PROTECTED = re.compile(r"《[^》]*》|\d+\.\d+%?|0\.5MPa")


def chinese_corpus(seed: int = 0, chapters: int = 4, articles: int = 5) -> str:
    """A regulation-style Chinese text: 第X章 / 第X条 with sentences of several clauses."""
    rnd = random.Random(seed)
    numerals = "一二三四五六七八九十"
    lines = ["冲压车间设备管理制度", ""]
    n = 0
    for c in range(chapters):
        lines.append(f"第{numerals[c]}章　第{c + 1}部分要求")
        for _ in range(articles):
            n += 1
            sentences = []
            for _ in range(rnd.randint(1, 6)):
                body = "，".join(rnd.sample(CLAUSES, rnd.randint(1, 4)))
                end = rnd.choice(ENDS)
                sentences.append(("“" + body + end) if end.endswith("”") else body + end)
            label = f"第{numerals[n - 1]}条" if n <= 10 else f"第十{numerals[n - 11]}条" if n < 20 else f"第{n}条"
            lines.append(f"{label}　" + "".join(sentences))
    return "\n".join(lines) + "\n"


def markdown_corpus(seed: int = 0) -> str:
    rnd = random.Random(seed)
    parts = ["# 首件检验作业指导书", ""]
    for s in range(1, 5):
        parts += [f"## {s} 第{s}节", ""]
        for sub in range(1, 3):
            parts += [f"### {s}.{sub} 要求", ""]
            for _ in range(rnd.randint(1, 3)):
                parts += ["".join("，".join(rnd.sample(CLAUSES, 3)) + rnd.choice("。！？") for _ in range(4)), ""]
    return "\n".join(parts)


def heading_lines(chunk_text: str) -> list[str]:
    return [line for line in chunk_text.split("\n")
            if re.match(r"#{1,6} |第[一二三四五六七八九十]+章", line) or line == "冲压车间设备管理制度"]


def assert_exact_and_covering(text: str, chunks: list[dict]) -> None:
    """Every chunk is the exact span it names, and together they cover every visible character."""
    covered = bytearray(len(text))
    for chunk in chunks:
        assert text[chunk["start"]:chunk["end"]] == chunk["text"]
        assert chunk["text"] == chunk["text"].strip()
        covered[chunk["start"]:chunk["end"]] = b"\1" * (chunk["end"] - chunk["start"])
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not missing, f"text not in any chunk: {text[missing[0]:missing[0] + 20]!r}"


@pytest.mark.parametrize("size", [40, 120, 400, 1500])
@pytest.mark.parametrize("overlap", [0, 30])
@pytest.mark.parametrize("kind", ["txt", "md"])
def test_spans_are_exact_cover_the_text_and_respect_the_size(size, overlap, kind):
    text = chinese_corpus(size) if kind == "txt" else markdown_corpus(size)
    chunks = split_text(text, size, overlap if overlap < size else 0, markdown=kind == "md")
    assert len(chunks) >= (2 if size < 1500 else 1)
    assert_exact_and_covering(text, chunks)
    for chunk in chunks:
        if len(chunk["text"]) > size:  # only headings glued to their first sentence may overflow
            body = chunk["text"]
            for line in heading_lines(body):
                body = body.replace(line, "", 1)
            body = re.sub(r"^第[一二三四五六七八九十\d]+条", "", body.strip())
            assert len(body.strip()) <= size, chunk["text"]


def test_chinese_chunks_end_at_sentence_ends():
    text = chinese_corpus(1, chapters=3, articles=6)
    longest = max(len(s) for s in re.split(r"(?<=[。！？；])", text))
    assert longest < 200  # no sentence alone exceeds the size below
    for chunk in split_text(text, 200, markdown=False):
        end = chunk["end"]
        assert text[end - 1] in "。！？；”…" or text[end:end + 1] in ("\n", ""), chunk["text"][-20:]


def test_numbers_and_book_titles_are_never_split():
    text = chinese_corpus(2)
    # one sentence far longer than the size, full of protected tokens and without a full stop
    text += "附加说明" + "，".join(["工业4.0", "10.5%", "《中华人民共和国安全生产法》"] * 30) + "。\n"
    protected = [m.span() for m in PROTECTED.finditer(text)]
    assert len(protected) > 100
    for size in (25, 60, 150):
        chunks = split_text(text, size, markdown=False)
        assert_exact_and_covering(text, chunks)
        for chunk in chunks:
            for a, b in protected:
                assert not a < chunk["start"] < b and not a < chunk["end"] < b, (text[a:b], chunk["text"])


def test_a_sentence_longer_than_the_size_is_cut_after_commas():
    sentence = "，".join(["检查润滑油位", "确认气压正常", "测试安全光栅", "核对模具编号", "空运转三次"] * 6) + "。"
    chunks = split_text(sentence, 40)
    assert len(chunks) > 3
    assert all(len(c["text"]) <= 40 for c in chunks)
    assert all(c["text"].endswith("，") for c in chunks[:-1])
    assert "".join(c["text"] for c in chunks) == sentence


def test_text_without_any_break_is_hard_cut_to_the_size():
    text = "压力机" * 100
    chunks = split_text(text, 70)
    assert [len(c["text"]) for c in chunks] == [70, 70, 70, 70, 20]
    assert "".join(c["text"] for c in chunks) == text


def test_markdown_heading_paths():
    text = ("# 设备点检规程\n\n适用于冲压车间。\n\n## 1 日常点检\n\n### 1.1 开机前\n\n检查油位。检查气压。\n\n"
            "### 1.2 运行中\n\n注意异响。\n\n## 2 记录\n\n```\n# 注释不是标题\n```\n\n记录保存三年。\n")
    chunks = split_text(text, 40)
    assert_exact_and_covering(text, chunks)
    got = [(c["headings"], c["text"].split("\n")[0]) for c in chunks]
    assert got == [
        (["设备点检规程"], "# 设备点检规程"),
        (["设备点检规程", "1 日常点检", "1.1 开机前"], "## 1 日常点检"),
        (["设备点检规程", "1 日常点检", "1.2 运行中"], "### 1.2 运行中"),
        (["设备点检规程", "2 记录"], "## 2 记录"),
    ]
    assert "# 注释不是标题" in chunks[-1]["text"]


def test_sibling_sections_merge_under_their_parent():
    text = "# 规程\n\n## 1 目的\n\n保证安全。\n\n## 2 范围\n\n冲压车间。\n\n# 附录\n\n表格说明。\n"
    chunks = split_text(text, 1500)
    assert [c["headings"] for c in chunks] == [["规程"], ["附录"]]  # top-level sections stay apart
    assert "## 2 范围" in chunks[0]["text"]


def test_chinese_structure_heading_paths():
    text = ("安全生产操作规程\n\n第一章　总则\n第一条　为保障安全，制定本规程。\n第二条　本规程适用于全体员工。\n"
            "第二章　作业要求\n一、作业前准备\n（一）劳保用品\n操作前必须穿戴安全鞋。\n（二）设备检查\n确认光栅有效。\n"
            "二、作业中要求\n1.1 送料\n使用专用工具送料。\n")
    chunks = split_text(text, 20, markdown=False)
    assert_exact_and_covering(text, chunks)
    got = [(c["headings"], c["text"].split("\n")[0][:8]) for c in chunks]
    assert got == [
        (["安全生产操作规程", "第一章　总则", "第一条"], "安全生产操作规程"),
        (["安全生产操作规程", "第一章　总则", "第二条"], "第二条　本规程适"),
        (["安全生产操作规程", "第二章　作业要求", "一、作业前准备", "（一）劳保用品"], "第二章　作业要求"),
        (["安全生产操作规程", "第二章　作业要求", "一、作业前准备", "（二）设备检查"], "（二）设备检查"),
        (["安全生产操作规程", "第二章　作业要求", "二、作业中要求", "1.1 送料"], "二、作业中要求"),
    ]


def test_a_heading_is_never_alone_in_a_chunk():
    text = "# A\n\n## B\n\n### C\n\n" + "正文句子。" * 30 + "\n\n## D\n\n### E\n\n短句。\n\n## F\n"
    for size in (10, 30, 200):
        chunks = split_text(text, size)
        assert_exact_and_covering(text, chunks)
        for chunk in chunks:
            body = [line for line in chunk["text"].split("\n") if line.strip() and not line.startswith("#")]
            assert body, f"heading-only chunk {chunk['text']!r}"


def test_overlap_repeats_whole_sentences_within_a_section():
    sentences = [f"第{i}句说明设备点检的第{i}项要求。" for i in range(1, 40)]
    text = "# 点检\n\n" + "".join(sentences) + "\n\n# 记录\n\n" + "".join(sentences[:12]) + "\n"
    plain = split_text(text, 120)
    with_overlap = split_text(text, 120, overlap=40)
    assert all(b["start"] >= a["end"] for a, b in zip(plain, plain[1:]))
    overlapped = 0
    for a, b in zip(with_overlap, with_overlap[1:]):
        if b["text"].startswith("# "):  # a new section starts at its heading, never earlier
            assert b["start"] >= a["end"]
            continue
        assert b["start"] < a["end"] and a["end"] - b["start"] <= 40
        assert text[b["start"] - 1] == "。"  # starts at a sentence boundary
        overlapped += 1
    assert overlapped >= 3
    assert len(with_overlap) > len(plain)


def test_english_full_stops_only_end_sentences_before_whitespace():
    text = ("Presses in hall 4.0 run at 10.5% load, e.g. the 400-ton line. Fig. 3 shows the\n"
            "wiring of the brake. The slide stops at top dead center. Check it daily.\n")
    chunks = split_text(text, 70)
    assert_exact_and_covering(text, chunks)
    ends = [c["text"][-12:] for c in chunks]
    assert all(e.endswith(".") for e in ends)
    assert not any(c["text"].endswith(("4.", "10.", "e.g.", "Fig.")) for c in chunks)
    assert "the\nwiring" in " ".join(c["text"] for c in chunks)  # a hard wrap is not a sentence end


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="overlap"):
        split_text("文本。", 10, overlap=10)
    with pytest.raises(ValueError, match="chunk_size"):
        split_text("文本。", 0)


def test_numbered_list_items_are_not_headings():
    md = "# 换模步骤\n\n1. 停机并上锁\n2. 松开模具压板\n3. 吊出旧模具\n\n完成后填写记录。\n"
    txt = "换模作业规程\n\n一、操作步骤\n1、停机并上锁\n2、松开模具压板\n4.1 注意事项\n吊装时下方不得站人。\n"
    assert {tuple(c["headings"]) for c in split_text(md, 1500)} == {("换模步骤",)}
    paths = [c["headings"] for c in split_text(txt, 20, markdown=False)]
    assert paths[0] == ["换模作业规程", "一、操作步骤"] and len(paths) > 2
    assert paths[-1] == ["换模作业规程", "一、操作步骤", "4.1 注意事项"]
    assert all(path[:2] == ["换模作业规程", "一、操作步骤"] and len(path) <= 3 for path in paths)
