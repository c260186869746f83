"""Streamed outputs: Parquet whose columns change between batches, and what a killed run leaves behind."""

import json
import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from synth.cli._app import app

from ..conftest import synth_cli


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _rows(n=300):
    return [{"id": i, "text": f"row number {i} says something quite different about item {i * 7919 % 1000}"}
            for i in range(n)]


def _dedup(tmp_path, inp, out, *extra):
    return CliRunner().invoke(app, ["dedup", str(inp), "-o", str(out), "--batch-rows", "100", "--quiet", *extra])


def test_parquet_output_takes_a_column_only_early_rows_have(tmp_path):
    rows = [{**r, "extra": f"x{i}"} if i < 150 else r for i, r in enumerate(_rows())]
    _write(tmp_path / "in.jsonl", rows)
    res = _dedup(tmp_path, tmp_path / "in.jsonl", tmp_path / "out.parquet")
    assert res.exit_code == 0, res.output + repr(res.exception)
    got = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [r["id"] for r in got] == list(range(300))
    assert [r["extra"] for r in got] == [f"x{i}" for i in range(150)] + [None] * 150


def test_parquet_output_takes_a_column_null_in_the_first_batch(tmp_path):
    rows = [{**r, "label": None if i < 100 else f"l{i}", "score": None if i < 100 else (i if i % 2 else i / 2)}
            for i, r in enumerate(_rows())]
    _write(tmp_path / "in.jsonl", rows)
    res = _dedup(tmp_path, tmp_path / "in.jsonl", tmp_path / "out.parquet")
    assert res.exit_code == 0, res.output + repr(res.exception)
    t = pq.read_table(tmp_path / "out.parquet")
    assert t.schema.field("label").type == pa.string() and t.schema.field("score").type == pa.float64()
    assert t.column("label").to_pylist() == [None] * 100 + [f"l{i}" for i in range(100, 300)]


def test_parquet_output_of_a_column_of_two_types_is_one_error_line(tmp_path):
    rows = [{**r, "meta": "text" if i < 150 else {"k": i}} for i, r in enumerate(_rows())]
    _write(tmp_path / "in.jsonl", rows)
    p = synth_cli("dedup", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.parquet"), "--batch-rows", "100",
                  "--quiet")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "'meta'" in p.stderr and p.stderr.startswith("error:")
    assert not (tmp_path / "out.parquet").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing half-written


def test_parquet_input_keeps_its_schema(tmp_path):
    table = pa.table({"id": pa.array(range(300), pa.int32()), "text": [r["text"] for r in _rows()],
                      "extra": pa.array([i if i < 150 else None for i in range(300)], pa.int16())})
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=50)
    res = _dedup(tmp_path, tmp_path / "in.parquet", tmp_path / "out.parquet")
    assert res.exit_code == 0, res.output + repr(res.exception)
    got = pq.read_table(tmp_path / "out.parquet")
    assert got.schema.field("id").type == pa.int32() and got.schema.field("extra").type == pa.int16()
    assert got.num_rows == 300


def test_filter_parquet_output_with_changing_columns(tmp_path):
    rows = [{"instruction": f"Question {i}?", "output": f"Answer {i}: index funds track a market at low cost.",
             **({"extra": i} if i < 150 else {})} for i in range(300)]
    _write(tmp_path / "in.jsonl", rows)
    res = CliRunner().invoke(app, ["filter", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.parquet"),
                                   "--filter", "length:min_units=1", "--batch-rows", "100", "--quiet"])
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert pq.read_table(tmp_path / "out.parquet").column("extra").to_pylist() == list(range(150)) + [None] * 150


KILL = textwrap.dedent('''
    import os, sys
    from pathlib import Path
    from synth.dedup import DedupConfig, stream
    kill_after, calls = int(sys.argv[1]), [0]
    real = stream.TableWriter.write_lines

    def dying(self, lines, n):
        real(self, lines, n)
        calls[0] += 1
        if kill_after and calls[0] >= kill_after:
            self._fh.flush()
            os._exit(9)  # killed in pass 2, partial outputs on disk

    stream.TableWriter.write_lines = dying
    stream.dedup_file(Path("in.jsonl"), Path("out.jsonl"), Path("out.dropped.jsonl"), DedupConfig(near=True, workers=1),
                      state_dir=Path("out.state"), batch_rows=100)
''')


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp"))


def test_kills_in_pass_two_leave_no_partial_outputs_after_resume(tmp_path):
    rows = _rows()
    rows += [{"id": 1000 + i, "text": r["text"]} for i, r in enumerate(rows[:40])]  # exact copies: some dropped
    _write(tmp_path / "in.jsonl", rows)
    (tmp_path / "kill.py").write_text(KILL, encoding="utf-8")

    def run(kill_after):
        return subprocess.run([sys.executable, "kill.py", str(kill_after)], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)

    for _ in range(2):
        p = run(2)
        assert p.returncode == 9, p.stderr
        assert not (tmp_path / "out.jsonl").exists()
        assert len([n for n in _leftovers(tmp_path) if n.startswith(".out.jsonl")]) <= 1  # one partial, not one a kill
    (tmp_path / ".out.jsonl.12345.tmp").write_text("left by an earlier version\n")
    p = run(0)
    assert p.returncode == 0, p.stderr
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / "out.state").exists()
    kept = [json.loads(x) for x in open(tmp_path / "out.jsonl", encoding="utf-8")]
    dropped = [json.loads(x) for x in open(tmp_path / "out.dropped.jsonl", encoding="utf-8")]
    assert [r["id"] for r in kept] == list(range(300)) and len(dropped) == 40
