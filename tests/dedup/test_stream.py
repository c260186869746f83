"""`synth dedup` streamed (synth.dedup.stream): same kept/dropped rows as `dedup_rows`, only hashes and
signatures held, resumable after a kill at any batch."""

import json
import random

import numpy as np
import pytest
from typer.testing import CliRunner

from synth.cli._app import app
from synth.dedup import DedupConfig, dedup_rows
from synth.dedup import stream
from synth.dedup.stream import dedup_file

from .conftest import chinese, english, light_edit


def _corpus(n=600, seed=3):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        t = english(rng) if i % 3 else chinese(rng)
        rows.append({"id": f"r{i}", "text": t})
        if i % 4 == 0:
            rows.append({"id": f"e{i}", "text": t.upper() if t.isascii() else t})
        if i % 5 == 0:
            rows.append({"id": f"n{i}", "text": light_edit(t, rng)})
    rng.shuffle(rows)
    return rows


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _read(path):
    return [json.loads(x) for x in open(path, encoding="utf-8")]


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_streamed_equals_in_memory(tmp_path, keep):
    rows = _corpus()
    _write(tmp_path / "in.jsonl", rows)
    cfg = DedupConfig(near=True, keep=keep, workers=1)
    want = dedup_rows(rows, cfg)
    rep = dedup_file(tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "d.jsonl", cfg,
                     state_dir=tmp_path / "state", batch_rows=97)
    assert _read(tmp_path / "out.jsonl") == want.kept
    assert _read(tmp_path / "d.jsonl") == want.dropped
    assert rep["dropped_near"] == want.report["dropped_near"] > 0 and rep["dropped_exact"] > 0
    assert rep["streamed"]["bytes_per_row"] == 136 + (4 if keep == "longest" else 0)
    assert not (tmp_path / "state").exists()  # removed once done


class Killed(Exception):
    pass


@pytest.mark.parametrize("kill_at", [("sketch", 300), ("write", 400)])
def test_resumes_after_kill(tmp_path, monkeypatch, kill_at):
    rows = _corpus()
    _write(tmp_path / "in.jsonl", rows)
    cfg = DedupConfig(near=True, workers=1)
    want = dedup_rows(rows, cfg)
    stage_at, rows_at = kill_at

    def die(stage, done, total):
        if stage == stage_at and done >= rows_at:
            raise Killed
    with pytest.raises(Killed):
        dedup_file(tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "d.jsonl", cfg,
                   state_dir=tmp_path / "state", batch_rows=100, progress=die)
    meta = json.loads((tmp_path / "state" / "meta.json").read_text())
    assert meta["rows"] >= 300 and not (tmp_path / "out.jsonl").exists()
    # a half-written batch past the checkpoint is cut back
    with open(tmp_path / "state" / "sig.u8", "ab") as fh:
        fh.write(b"\x01" * 1000)
    sketched = []
    rep = dedup_file(tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "d.jsonl", cfg,
                     state_dir=tmp_path / "state", batch_rows=100,
                     progress=lambda s, d, t: sketched.append(d) if s == "sketch" else None)
    assert rep["streamed"]["resumed"]
    if stage_at == "sketch":
        assert sketched[0] == meta["rows"]  # went on from the checkpoint, not from row 0
    else:
        assert sketched == []  # signatures and the decision were kept
    assert _read(tmp_path / "out.jsonl") == want.kept
    assert _read(tmp_path / "d.jsonl") == want.dropped


def test_changed_options_start_again(tmp_path):
    rows = _corpus(200)
    _write(tmp_path / "in.jsonl", rows)

    def die(stage, done, total):
        if done >= 100:
            raise Killed
    with pytest.raises(Killed):
        dedup_file(tmp_path / "in.jsonl", tmp_path / "o.jsonl", tmp_path / "d.jsonl", DedupConfig(near=True),
                   state_dir=tmp_path / "state", batch_rows=50, progress=die)
    seen = []
    cfg = DedupConfig(near=True, threshold=0.8)
    rep = dedup_file(tmp_path / "in.jsonl", tmp_path / "o.jsonl", tmp_path / "d.jsonl", cfg,
                     state_dir=tmp_path / "state", batch_rows=50, progress=lambda s, d, t: seen.append(d))
    assert seen[0] == 50 and not rep["streamed"]["resumed"]  # from the first batch again
    assert _read(tmp_path / "o.jsonl") == dedup_rows(rows, cfg).kept


def test_cli_streams_to_parquet_with_progress(tmp_path, monkeypatch):
    rows = _corpus(300)
    _write(tmp_path / "in.jsonl", rows)
    calls = []
    real = stream.dedup_file

    def spy(*a, **kw):
        calls.append(kw["batch_rows"])
        return real(*a, **kw)
    monkeypatch.setattr(stream, "dedup_file", spy)
    res = CliRunner().invoke(app, ["dedup", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.parquet"),
                                   "--near", "--batch-rows", "128"])
    assert res.exit_code == 0, res.output
    import pyarrow.parquet as pq

    assert calls == [128]
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == dedup_rows(rows, DedupConfig(near=True)).kept
    assert json.loads((tmp_path / "out.report.json").read_text())["streamed"]["bytes_per_row"] == 136


def test_count_rows(tmp_path):
    _write(tmp_path / "a.jsonl", [{"t": i} for i in range(7)])
    assert stream.count_rows(tmp_path / "a.jsonl") == 7
    (tmp_path / "b.jsonl").write_text('{"t": 1}\n{"t": 2}')
    assert stream.count_rows(tmp_path / "b.jsonl") == 2
    assert np.isscalar(stream.count_rows(tmp_path / "a.jsonl"))


def test_jsonl_reader_matches_synth_io_and_names_bad_lines(tmp_path):
    from synth.errors import InputError
    from synth.io import read_rows

    p = tmp_path / "a.jsonl"
    p.write_text('{"t": "中文", "n": NaN}\n\n{"t": "x", "u": "\\u00e9"}\n{"t": 1.5e3}',
                 encoding="utf-8")
    rows, lines = next(stream.batches(p, 10, raw=True))
    assert [json.dumps(r) for r in rows] == [json.dumps(r) for r in read_rows(p)] and len(lines) == 3
    assert lines[2].endswith(b"\n")  # the last line gets its newline
    assert [r["t"] for r in next(stream.batches(p, 10, skip=1))] == ["x", 1500.0]
    p.write_text('{"t": 1}\n{"t": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"a.jsonl:2: not valid JSON"):
        list(stream.batches(p, 10))


def test_field_only_in_later_batches_is_used(tmp_path):
    """A --field that the first batch lacks is no error when later rows have it (checked over pass 1)."""
    from synth.errors import InputError

    rng = random.Random(7)
    texts = [english(rng) for _ in range(150)]
    rows = [{"id": f"a{i}", "title": f"t{i}"} for i in range(150)]
    rows += [{"id": f"b{i}", "body": t} for i, t in enumerate(texts)]
    rows += [{"id": f"c{i}", "body": t} for i, t in enumerate(texts[:20])]  # exact copies, found by `body`
    _write(tmp_path / "in.jsonl", rows)
    cfg = DedupConfig(fields=["body"], workers=1)
    rep = dedup_file(tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "d.jsonl", cfg,
                     state_dir=tmp_path / "state", batch_rows=100)
    dropped = _read(tmp_path / "d.jsonl")
    assert {d["id"] for d in dropped if d["id"].startswith("c")} == {f"c{i}" for i in range(20)}
    assert rep["dropped_exact"] >= 20
    # a field in no row at all is still one error, at the end of pass 1, with nothing left behind
    with pytest.raises(InputError, match=r"field 'bdoy' is in no row; columns are: id, title"):
        dedup_file(tmp_path / "in.jsonl", tmp_path / "o2.jsonl", tmp_path / "d2.jsonl",
                   DedupConfig(fields=["bdoy"], workers=1), state_dir=tmp_path / "state2", batch_rows=100)
    assert not (tmp_path / "state2").exists() and not (tmp_path / "o2.jsonl").exists()
