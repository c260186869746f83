"""The library API: iter_chunks / ingest over folders and globs, the report, boilerplate, streaming."""

from __future__ import annotations

import json

import pytest

from synth.errors import ConfigError, InputError
from synth.ingest import IngestOptions, IngestReport, chunk_id, expand_paths, ingest, iter_chunks
from tests.conftest import EXAMPLES
from tests.ingest.docs import make_pdf

DOCS = EXAMPLES / "docs" / "manufacturing-zh"
NOTICE = "## 受控说明\n\n本文件为受控文件，未经质量部批准不得复印或外传。\n\n"


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_ingest_writes_chunks_and_documents_with_exact_spans(tmp_path):
    out = tmp_path / "kb" / "chunks.jsonl"
    report = ingest([DOCS], out, IngestOptions(chunk_size=300))
    documents = {d["id"]: d for d in read_jsonl(tmp_path / "kb" / "documents.jsonl")}
    chunks = read_jsonl(out)
    assert report.files_read == report.documents == len(documents) == 5
    assert report.chunks == len(chunks) > 10 and not report.skipped
    assert {d["format"] for d in documents.values()} == {"md", "txt", "pdf", "docx", "html"}
    assert report.pages == len(next(d for d in documents.values() if d["format"] == "pdf")["page_starts"])
    for chunk in chunks:
        assert set(chunk) == {"id", "source", "doc_id", "headings", "start", "end", "text", "lang"}
        doc = documents[chunk["doc_id"]]
        assert doc["text"][chunk["start"]:chunk["end"]] == chunk["text"]
        assert chunk["source"] == doc["source"]
        assert chunk["id"] == chunk_id(chunk["source"], chunk["start"], chunk["end"], chunk["text"])
    assert len({c["id"] for c in chunks}) == len(chunks)
    langs = {c["source"].rsplit("/", 1)[-1]: c["lang"] for c in chunks}
    assert langs["lockout-tagout.html"] == "en" and langs["设备点检规程.md"] == "zh"


def test_iter_chunks_reads_globs_and_reports_skipped_files(tmp_path):
    (tmp_path / "a.md").write_text("# 甲\n\n甲的正文。\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("# 乙\n\n乙的正文。\n", encoding="utf-8")
    (tmp_path / "sub" / "c.xyz").write_text("?", encoding="utf-8")
    (tmp_path / ".hidden.md").write_text("# 隐藏\n\n不读。\n", encoding="utf-8")
    seen = []
    report = IngestReport(on_skip=lambda source, reason: seen.append((source, reason)))
    chunks = list(iter_chunks([str(tmp_path / "**" / "*.md"), tmp_path / "sub", tmp_path / "missing.md"],
                              report=report))
    assert sorted(c["text"] for c in chunks) == ["# 乙\n\n乙的正文。", "# 甲\n\n甲的正文。"]  # b.md read once
    assert report.skipped == seen
    assert [(s.rsplit("/", 1)[-1], r.split(";")[0]) for s, r in seen] == [
        ("missing.md", "not found (check the path)"), ("c.xyz", "unsupported file type .xyz")]


def test_nothing_readable_raises_input_error(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG")
    with pytest.raises(InputError, match=r"nothing could be ingested: .*a\.png: unsupported file type \.png"):
        list(iter_chunks([tmp_path]))
    with pytest.raises(InputError, match="no file matches this pattern"):
        ingest([str(tmp_path / "*.pdf")], tmp_path / "chunks.jsonl")
    assert not (tmp_path / "chunks.jsonl").exists() and not (tmp_path / "documents.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temporary files left behind


def test_repeated_chunks_are_dropped_and_counted(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.md").write_text(f"# 规程{name}\n\n第{name}份文件的正文，内容各不相同。\n\n" + NOTICE,
                                             encoding="utf-8")
    (tmp_path / "c.md").write_text("# 规程c\n\n正文。\n\n" + NOTICE + "## 附录\n\n附录内容。\n\n" + NOTICE,
                                   encoding="utf-8")
    report = IngestReport()
    chunks = list(iter_chunks([tmp_path], IngestOptions(chunk_size=40), report))
    notices = [c for c in chunks if "受控文件" in c["text"]]
    assert len(notices) == 1 and notices[0]["source"].endswith("a.md")
    assert report.repeated_dropped == 3
    kept_all = list(iter_chunks([tmp_path], IngestOptions(chunk_size=40, drop_repeated=False)))
    assert len(kept_all) == len(chunks) + 3


def test_pdf_running_header_never_reaches_a_chunk(tmp_path):
    pages = [[f"第{i}节 点检要求", f"本页说明第{i}项点检内容，操作工应逐项检查并记录。"] for i in range(1, 6)]
    make_pdf(tmp_path / "规程.pdf", pages, header="ACME 冲压车间作业文件", footer=True)
    chunks = list(iter_chunks([tmp_path / "规程.pdf"], IngestOptions(chunk_size=60)))
    assert len(chunks) >= 3
    assert not any("ACME" in c["text"] or "共 5 页" in c["text"] for c in chunks)


def test_documents_are_read_one_at_a_time(tmp_path):
    """The second file is read only after the first one's chunks were taken: streaming, not bulk."""
    first, second = tmp_path / "1.md", tmp_path / "2.md"
    first.write_text("# 一\n\n第一份。\n", encoding="utf-8")
    second.write_text("# 二\n\n旧内容。\n", encoding="utf-8")
    stream = iter_chunks([first, second])
    assert next(stream)["text"] == "# 一\n\n第一份。"
    second.write_text("# 二\n\n新内容。\n", encoding="utf-8")
    assert next(stream)["text"] == "# 二\n\n新内容。"


def test_expand_paths_excludes_outputs_and_orders_stably(tmp_path):
    for name in ("b.md", "a.md", "chunks.jsonl"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    files = expand_paths([tmp_path], exclude=[tmp_path / "chunks.jsonl"])
    assert [p.name for p, _ in files] == ["a.md", "b.md"]


def test_options_are_validated_with_one_line():
    with pytest.raises(ConfigError, match=r"overlap \(1500\) must be smaller than chunk_size \(1500\)"):
        IngestOptions.parse(chunk_size=1500, overlap=1500)
    with pytest.raises(ConfigError, match="chunk_size: Input should be greater than or equal to 1"):
        IngestOptions.parse(chunk_size=0)
    with pytest.raises(ConfigError, match="unit 'tokens' needs a tokenizer"):
        IngestOptions.parse(unit="tokens")


def test_token_unit_without_transformers_is_one_clear_error(tmp_path, monkeypatch):
    import sys

    from synth.ingest import tokens

    tokens.token_lengths.cache_clear()
    monkeypatch.setitem(sys.modules, "transformers", None)
    (tmp_path / "a.md").write_text("# 一\n\n正文。\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"--unit tokens needs transformers: pip install transformers"):
        list(iter_chunks([tmp_path], IngestOptions(unit="tokens", tokenizer="any")))
    tokens.token_lengths.cache_clear()


def _local_tokenizer(folder):
    """A small real BPE tokenizer saved as a local directory, as a served model ships it."""
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    corpus = [(DOCS / "设备点检规程.md").read_text(encoding="utf-8"), "the press must be checked every shift"]
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]"]))
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(str(folder))
    return folder


def test_token_unit_sizes_chunks_by_the_tokenizer(tmp_path):
    from transformers import AutoTokenizer

    folder = _local_tokenizer(tmp_path / "tokenizer")
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    options = IngestOptions(chunk_size=60, unit="tokens", tokenizer=str(folder))
    chunks = list(iter_chunks([DOCS / "设备点检规程.md"], options))
    counts = [len(tokenizer(c["text"], add_special_tokens=False)["input_ids"]) for c in chunks]
    by_chars = list(iter_chunks([DOCS / "设备点检规程.md"], IngestOptions(chunk_size=60)))
    assert len(chunks) > 3 and len(chunks) != len(by_chars)
    # pieces are counted one by one; a tokenizer may merge across a boundary: a little slack
    assert max(counts) <= 60 + 10
    assert sum(counts) / len(counts) > 25  # packed towards the size, not one sentence each


def test_unloadable_tokenizer_is_one_clear_error(tmp_path):
    pytest.importorskip("transformers")
    (tmp_path / "a.md").write_text("# 一\n\n正文。\n", encoding="utf-8")
    with pytest.raises(InputError, match="cannot load tokenizer .*no-such-tokenizer"):
        list(iter_chunks([tmp_path / "a.md"],
                         IngestOptions(unit="tokens", tokenizer=str(tmp_path / "no-such-tokenizer"))))
