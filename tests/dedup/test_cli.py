"""`synth dedup` / `synth decontam` through the real entry point."""

import json
import subprocess
import sys

from pathlib import Path

from typer.testing import CliRunner

from synth.cli._app import app

SYNTH = str(Path(sys.executable).parent / "synth")  # the installed console script


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_dedup_writes_kept_dropped_and_report(planted, tmp_path):
    rows, pairs = planted
    _write(tmp_path / "in.jsonl", rows)
    res = CliRunner().invoke(app, ["dedup", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "out.parquet"),
                                   "--field", "text", "--near", "--quiet"])
    assert res.exit_code == 0, res.output
    import pyarrow.parquet as pq

    kept = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert len(kept) == len(rows) - len(pairs) and set(kept[0]) == {"id", "text"}
    dropped = [json.loads(x) for x in open(tmp_path / "out.dropped.jsonl", encoding="utf-8")]
    assert {d["id"]: d["duplicate_of"] for d in dropped} == {c: o for o, c in pairs}
    report = json.loads((tmp_path / "out.report.json").read_text())
    assert report["params"]["bands"] == 32 and "0.60" in report["s_curve"]


def test_dedup_prints_s_curve(tmp_path):
    _write(tmp_path / "in.jsonl", [{"text": "a b c d e"}, {"text": "A B C D E!"}])
    res = CliRunner().invoke(app, ["dedup", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "ds"), "--near"])
    assert res.exit_code == 0, res.output
    assert "b x r = 32 x 4" in res.output and "dropped exact 1" in res.output
    assert (tmp_path / "ds" / "dataset_info.json").exists() and (tmp_path / "ds.report.json").exists()


def test_user_errors_are_one_line_exit_2(tmp_path):
    _write(tmp_path / "in.jsonl", [{"text": "a b c"}])
    for args, msg in (([str(tmp_path / "missing.jsonl")], "input not found"),
                      ([str(tmp_path / "in.jsonl"), "--field", "nope"], "field 'nope' is in no row"),
                      ([str(tmp_path / "in.jsonl"), "--near", "--bands", "50", "--rows", "4"], "exceeds num_perm")):
        p = subprocess.run([SYNTH, "dedup", *args, "--out", str(tmp_path / "o.jsonl")],
                           capture_output=True, text=True)
        assert p.returncode == 2 and msg in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_decontam_cli(tmp_path):
    q = "How many clips did Natalia sell altogether in April and May if she sold 48 in April?"
    _write(tmp_path / "bench.jsonl", [{"question": q}])
    _write(tmp_path / "in.jsonl", [{"id": 1, "prompt": q}, {"id": 2, "prompt": "Tell me a joke about cats."}])
    res = CliRunner().invoke(app, ["decontam", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "clean.jsonl"),
                                   "--benchmark", str(tmp_path / "bench.jsonl") + ":question", "--ngram", "8"])
    assert res.exit_code == 0, res.output
    assert [json.loads(x)["id"] for x in open(tmp_path / "clean.jsonl")] == [2]
    assert json.loads(open(tmp_path / "clean.contaminated.jsonl").readline())["benchmark_row"] == 0
