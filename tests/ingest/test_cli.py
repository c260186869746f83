"""`synth ingest` end to end, as a user runs it."""

from __future__ import annotations

import json
import shutil

from tests.conftest import EXAMPLES, synth_cli

DOCS = EXAMPLES / "docs" / "manufacturing-zh"


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_ingest_a_folder_with_broken_files_among_good_ones(tmp_path):
    corpus = tmp_path / "manuals"
    shutil.copytree(DOCS, corpus)
    (corpus / "损坏.pdf").write_bytes(b"%PDF-1.4\nthis is not a pdf at all")
    (corpus / "图纸.dwg").write_bytes(b"AC1032")
    result = synth_cli("ingest", str(corpus), "--out", str(tmp_path / "kb" / "chunks.jsonl"), "--chunk-size", "400",
                       "--overlap", "50", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 2
    assert any("损坏.pdf: not a readable PDF" in line for line in skipped)
    assert any("图纸.dwg: unsupported file type .dwg" in line for line in skipped)
    assert "5 files read (3 PDF pages), 2 skipped; 5 documents" in result.stdout
    documents = {d["id"]: d for d in read_jsonl(tmp_path / "kb" / "documents.jsonl")}
    chunks = read_jsonl(tmp_path / "kb" / "chunks.jsonl")
    assert len(documents) == 5 and len(chunks) > 8
    assert f"{len(chunks)} chunks" in result.stdout
    for chunk in chunks:
        assert documents[chunk["doc_id"]]["text"][chunk["start"]:chunk["end"]] == chunk["text"]
        assert len(chunk["text"]) <= 400 + 40  # a heading glued to its first sentence may add a line


def test_nothing_readable_exits_2_and_writes_nothing(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"garbage")
    result = synth_cli("ingest", str(tmp_path / "a.pdf"), str(tmp_path / "none-*.md"), "--out", "kb/chunks.jsonl",
                       cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: nothing could be ingested: ")
    assert "none-*.md: no file matches this pattern" in result.stderr
    assert not (tmp_path / "kb").exists() or not any((tmp_path / "kb").iterdir())


def test_bad_options_are_one_line_and_exit_2(tmp_path):
    (tmp_path / "a.md").write_text("# 一\n\n正文。\n", encoding="utf-8")
    for args, message in [(["--overlap", "200", "--chunk-size", "100"],
                           "overlap (200) must be smaller than chunk_size"),
                          (["--unit", "words"], "--unit 'words': use chars or tokens"),
                          (["--unit", "tokens"], "unit 'tokens' needs a tokenizer")]:
        result = synth_cli("ingest", "a.md", "--out", "chunks.jsonl", *args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert result.stderr.startswith("error: ")
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "chunks.jsonl").exists()


def test_out_folder_gets_chunks_and_documents(tmp_path):
    (tmp_path / "a.md").write_text("# 一\n\n正文。\n", encoding="utf-8")
    result = synth_cli("ingest", "a.md", "--out", "kb/", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert [c["text"] for c in read_jsonl(tmp_path / "kb" / "chunks.jsonl")] == ["# 一\n\n正文。"]
    assert read_jsonl(tmp_path / "kb" / "documents.jsonl")[0]["text"] == "# 一\n\n正文。\n"
