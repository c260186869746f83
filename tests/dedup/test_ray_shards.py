"""`synth filter / decontam / dedup --ray` over sharded JSONL and Parquet on a real local Ray cluster
(2 CPUs) keep and drop the same rows as the single-machine commands over the concatenated shards,
with the same report."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from synth.cli._app import app
from synth.dedup import ray_io

FILTERS = ["--filter", "refusal", "--filter", "length:min_units=4", "--filter", "repetition"]


def _answers(n):
    rows = []
    for i in range(n):
        answer = [f"Answer {i}: a fund that tracks an index at low cost, bought and sold like a stock.",
                  "I'm sorry, but I can't help with that request.", "ok", f"the cat sat on the mat {i}. " + "the cat sat on the mat. " * 12,
                  f"指数基金是跟踪某个市场指数的基金，费用低，第{i}个。"][i % 5]
        rows.append({"id": i, "instruction": f"Explain topic {i} in detail.", "output": answer})
    return rows


def _shards(tmp_path, rows, fmt, k=3):
    """`rows` as k shards of `fmt` in tmp_path/in/, and all of them as one JSONL file (the local input)."""
    folder = tmp_path / "in"
    folder.mkdir()
    step = -(-len(rows) // k)
    for s in range(k):
        part = rows[s * step:(s + 1) * step]
        if fmt == "jsonl":
            (folder / f"part-{s}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part),
                                                    encoding="utf-8")
        else:
            pq.write_table(pa.Table.from_pylist(part), folder / f"part-{s}.parquet", row_group_size=25)
    whole = tmp_path / "all.jsonl"
    whole.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return folder, whole


def _read(path):
    """Rows of a JSONL file, or of a folder's numbered shards in order."""
    files = sorted(path.glob("part-*")) if path.is_dir() else [path]
    out = []
    for f in files:
        if f.suffix == ".parquet":
            out += pq.read_table(f).to_pylist()
        else:
            out += [json.loads(x) for x in f.read_text(encoding="utf-8").splitlines()]
    return out


def _cli(*args):
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def _fails(capsys, *args) -> str:
    """`synth ARGS` through the real entry point: exit 2 and one `error:` line, which is returned."""
    from synth.cli import main

    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and err[-1].startswith("error: ") and "Traceback" not in "\n".join(err), err
    return err[-1]


@pytest.fixture
def small_units(monkeypatch):
    monkeypatch.setattr(ray_io, "UNIT_BYTES", 3000)  # several units per shard: byte ranges cut mid-file


def _without_seconds(stages):
    return [{k: v for k, v in s.items() if k != "seconds"} for s in stages]


@pytest.mark.ray
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_filter_on_ray_matches_local(ray_local, small_units, tmp_path, fmt):
    rows = _answers(300)
    folder, whole = _shards(tmp_path, rows, fmt)
    _cli("filter", whole, "-o", tmp_path / "local.jsonl", *FILTERS, "--quiet")
    source = folder if fmt == "jsonl" else f"{folder}/*.parquet"  # a directory, and a glob
    _cli("filter", source, "-o", tmp_path / "ray", *FILTERS, "--quiet", "--ray", "local")
    assert {p.suffix for p in (tmp_path / "ray").iterdir()} == {f".{fmt}"}
    by_id = lambda rs: sorted(rs, key=lambda r: r["id"])  # noqa: E731
    assert by_id(_read(tmp_path / "ray")) == by_id(_read(tmp_path / "local.jsonl"))
    rejected = lambda p: sorted(_read(p), key=lambda r: r["record"]["id"])  # noqa: E731
    assert rejected(tmp_path / "ray.rejected") == rejected(tmp_path / "local.rejected.jsonl")
    ray_rep = json.loads((tmp_path / "ray.report.json").read_text())
    local_rep = json.loads((tmp_path / "local.report.json").read_text())
    assert ray_rep["ray"]["units"] > 3 and (ray_rep["rows_in"], ray_rep["rows_out"]) == (300, local_rep["rows_out"])
    assert _without_seconds(ray_rep["stages"]) == _without_seconds(local_rep["stages"])
    assert {s["name"]: s["dropped"] > 0 for s in ray_rep["stages"]} == {
        "filter:refusal": True, "filter:length": True, "filter:repetition": True}


@pytest.mark.ray
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_decontam_on_ray_matches_local(ray_local, small_units, tmp_path, fmt):
    rows = _answers(200)
    folder, whole = _shards(tmp_path, rows, fmt)
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps({"question": r["output"]}) + "\n" for r in rows[::17]), encoding="utf-8")
    common = ["--benchmark", f"{bench}:question", "--ngram", "6", "--field", "output", "--quiet"]
    _cli("decontam", whole, "-o", tmp_path / "local.jsonl", *common)
    _cli("decontam", folder, "-o", tmp_path / "ray", *common, "--ray", "local")
    assert _read(tmp_path / "ray") == _read(tmp_path / "local.jsonl")  # shards in order: the same order too
    assert _read(tmp_path / "ray.contaminated") == _read(tmp_path / "local.contaminated.jsonl")
    ray_rep = json.loads((tmp_path / "ray.report.json").read_text())
    local_rep = json.loads((tmp_path / "local.report.json").read_text())
    assert ray_rep.pop("ray")["units"] > 3 and ray_rep == local_rep and 0 < local_rep["dropped"] < 200


@pytest.mark.ray
@pytest.mark.parametrize("fmt,keep", [("jsonl", "first"), ("parquet", "longest"), ("one-file", "first")])
def test_dedup_on_ray_shards_matches_local(ray_local, small_units, planted, tmp_path, fmt, keep):
    rows, _ = planted
    rows = [dict(r, n=i) for i, r in enumerate(rows * 2)]  # exact copies too (n keeps them apart in the output)
    for r in rows:
        r["text"] = r["text"] if r["n"] < len(rows) // 2 else r["text"] + " "
    folder, whole = _shards(tmp_path, rows, "jsonl" if fmt == "one-file" else fmt)
    common = ["--near", "--field", "text", "--keep", keep, "--quiet"]
    _cli("dedup", whole, "-o", tmp_path / "local.jsonl", *common)
    # shards in; or one file cut into units, since OUT is a directory
    _cli("dedup", whole if fmt == "one-file" else folder, "-o", tmp_path / "ray", *common, "--ray", "local")
    assert _read(tmp_path / "ray") == _read(tmp_path / "local.jsonl")
    assert _read(tmp_path / "ray.dropped") == _read(tmp_path / "local.dropped.jsonl")
    ray_rep = json.loads((tmp_path / "ray.report.json").read_text())
    local_rep = json.loads((tmp_path / "local.report.json").read_text())
    assert ray_rep["dropped_near"] == local_rep["dropped_near"] > 0
    assert ray_rep["dropped_exact"] == local_rep["dropped_exact"] > 0


@pytest.mark.ray
def test_a_broken_shard_is_named_and_nothing_is_left(ray_local, small_units, tmp_path, capsys):
    folder, _ = _shards(tmp_path, _answers(120), "jsonl")
    with open(folder / "part-2.jsonl", "a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    err = _fails(capsys, "filter", folder, "-o", tmp_path / "ray", *FILTERS, "--ray", "local", "--quiet")
    assert "part-2.jsonl" in err and "not valid JSON" in err
    assert not (tmp_path / "ray").exists() and not (tmp_path / "ray.rejected").exists()
    assert not (tmp_path / "ray.state").exists()


def test_filters_that_ask_a_model_and_file_outputs_are_refused_on_ray(tmp_path, capsys):
    folder, _ = _shards(tmp_path, _answers(10), "jsonl")
    err = _fails(capsys, "filter", folder, "-o", tmp_path / "o", "--filter", "judge", "--ray", "local")
    assert "asks a model" in err and "without --ray" in err
    err = _fails(capsys, "filter", folder, "-o", tmp_path / "o.jsonl", "--filter", "length", "--ray", "local")
    assert "give a directory" in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.jsonl").exists()


def test_without_ray_installed_one_line_names_the_extra(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as it does where Ray is not installed
    folder, _ = _shards(tmp_path, _answers(10), "jsonl")
    for args in (["filter", folder, "-o", tmp_path / "o", "--filter", "length"],
                 ["decontam", folder, "-o", tmp_path / "o", "--benchmark", folder / "part-0.jsonl:output"],
                 ["dedup", folder, "-o", tmp_path / "o"]):
        assert "pip install 'synth-datagen[ray]'" in _fails(capsys, *args, "--ray", "local")
    assert not (tmp_path / "o").exists()


@pytest.mark.ray
def test_units_done_before_a_failure_are_not_run_again(ray_local, small_units, tmp_path):
    folder, _ = _shards(tmp_path, _answers(120), "jsonl")
    files, fmt = ray_io.shard_files(folder)
    units = ray_io.work_units(files, fmt)
    log, flag, state = tmp_path / "ran.log", tmp_path / "fail", tmp_path / "state"

    def count(unit):  # unit 2's node is lost while the flag is there
        with open(log, "a") as fh:
            fh.write(f"{unit['i']}\n")
        if unit["i"] == 2 and flag.exists():
            raise RuntimeError("node lost")
        return {"unit": unit["i"], "rows": sum(len(b) for b in ray_io.read_unit(unit))}

    flag.touch()
    with pytest.raises(Exception, match="node lost"):
        ray_io.run_units(ray_local, units, count, {}, state=state)
    done = {int(p.stem.split("-")[1]) for p in state.glob("unit-*.json")}
    flag.unlink()
    log.write_text("")
    results = ray_io.run_units(ray_local, units, count, {}, state=state)
    again = {int(x) for x in log.read_text().split()}
    assert sum(r["rows"] for r in results) == 120 and len(units) > 3
    assert again == set(range(len(units))) - done and 2 in again
