"""`--ray` inputs and outputs: output folders that hold the input are refused before anything is
deleted, a first shard without rows, names with glob characters, Parquet shards with the input's
schema, saved dataset directories, and the same shard listing as the local commands."""

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synth.dedup import ray_io
from synth.errors import InputError
from tests.dedup.test_ray_shards import _answers, _cli, _fails, _read


def _jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _data(tmp_path):
    data = tmp_path / "data"
    _jsonl(data / "part-00000.jsonl", _answers(6))
    _jsonl(data / "part-00001.jsonl", _answers(6))
    return data


def _intact(data):
    assert sorted(p.name for p in data.iterdir()) == ["part-00000.jsonl", "part-00001.jsonl"]
    assert all(len(p.read_text().splitlines()) == 6 for p in data.iterdir())


@pytest.mark.parametrize("cmd", ["filter", "dedup", "decontam", "rejected", "parent"])
def test_an_output_folder_holding_the_input_is_refused_and_nothing_deleted(tmp_path, capsys, cmd):
    data = _data(tmp_path)
    bench = _jsonl(tmp_path / "bench.jsonl", [{"question": "nothing in common at all here"}])
    args = {"filter": ["filter", f"{data}/part-*.jsonl", "-o", data, "-F", "length", "-f", "output"],
            "dedup": ["dedup", f"{data}/part-*.jsonl", "-o", data],
            "decontam": ["decontam", f"{data}/part-*.jsonl", "-o", data, "-b", f"{bench}:question"],
            "rejected": ["filter", data, "-o", tmp_path / "kept", "--rejected", data, "-F", "length", "-f", "output"],
            "parent": ["dedup", data / "part-00000.jsonl", "-o", tmp_path]}[cmd]
    err = _fails(capsys, *args, "--ray", "local", "--quiet")
    assert "input" in err and "outside" in err
    _intact(data)
    assert not (tmp_path / "kept").exists()


def test_local_rejected_inside_the_input_folder_is_refused(tmp_path, capsys):
    data = _data(tmp_path)
    err = _fails(capsys, "filter", data, "-o", tmp_path / "kept.jsonl", "--rejected", data / "rej.jsonl",
                 "-F", "length", "-f", "output")
    assert "--rejected" in err
    _intact(data)


def test_prepare_outputs_removes_only_its_numbered_shards_and_never_input_files(tmp_path):
    data = _data(tmp_path)
    with pytest.raises(InputError, match="outside the input"):
        ray_io.prepare_outputs(tmp_path / "s", "k", [data], ray_io.shard_files(data)[0])
    _intact(data)
    out = tmp_path / "out"
    _jsonl(out / "part-00003.jsonl", [{"a": 1}])
    _jsonl(out / "part-a.jsonl", [{"a": 1}])
    ray_io.prepare_outputs(tmp_path / "s", "k", [out], [data / "part-00000.jsonl"])
    assert [p.name for p in out.iterdir()] == ["part-a.jsonl"]


def test_names_with_glob_characters_are_names_and_listing_is_the_local_one(tmp_path):
    real = _jsonl(tmp_path / "run[7]" / "t.jsonl", [{"text": "a"}])
    _jsonl(tmp_path / "run7" / "t.jsonl", [{"text": "b"}])
    assert ray_io.shard_files(real) == ([real], "jsonl")
    assert ray_io.shard_files(tmp_path / "run[7]") == ([real], "jsonl")
    assert ray_io.is_sharded(tmp_path / "run[7]") and not ray_io.is_sharded(real)
    mixed = tmp_path / "mixed"
    _jsonl(mixed / "a.jsonl", [{"text": "a"}])
    _jsonl(mixed / ".b.jsonl", [{"text": "hidden"}])
    pq.write_table(pa.Table.from_pylist([{"text": "c"}]), mixed / "c.parquet")
    (mixed / "notes.txt").write_text("x")
    assert ray_io.shard_files(mixed) == ([mixed / "a.jsonl", mixed / "c.parquet"], "mixed")
    with pytest.raises(InputError, match="notes.txt"):
        ray_io.shard_files(f"{mixed}/*")
    units = ray_io.work_units(*ray_io.shard_files(mixed))
    assert [(u["fmt"], u["out"]) for u in units] == [("jsonl", "jsonl"), ("parquet", "jsonl")]
    assert [r for u in units for b in ray_io.read_unit(u) for r in b] == [{"text": "a"}, {"text": "c"}]
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "dataset_info.json").write_text("{}")
    assert not ray_io.is_sharded(ds)


def test_default_fields_come_from_the_first_unit_with_a_row(tmp_path):
    from synth.dedup.config import DedupConfig

    folder = tmp_path / "in"
    (folder).mkdir()
    (folder / "a.jsonl").write_text("\n\n  \n")
    _jsonl(folder / "b.jsonl", [{"id": 1, "text": "x"}])
    units = ray_io.work_units(*ray_io.shard_files(folder))
    assert ray_io.default_fields(folder, units, DedupConfig())[0] == ["text"]
    pfolder = tmp_path / "pin"
    pfolder.mkdir()
    pq.write_table(pa.Table.from_pylist([], schema=pa.schema([("text", pa.string())])), pfolder / "a.parquet")
    pq.write_table(pa.Table.from_pylist([{"text": "y"}]), pfolder / "b.parquet")
    units = ray_io.work_units(*ray_io.shard_files(pfolder))
    assert ray_io.default_fields(pfolder, units, DedupConfig())[0] == ["text"]
    (folder / "c.jsonl").unlink(missing_ok=True)
    only_ids = tmp_path / "ids"
    _jsonl(only_ids / "a.jsonl", [{"id": 1, "n": 2}])
    with pytest.raises(InputError, match="--field"):
        ray_io.default_fields(only_ids, ray_io.work_units(*ray_io.shard_files(only_ids)), DedupConfig())


@pytest.mark.ray
def test_dedup_and_decontam_on_ray_with_an_empty_first_shard(ray_local, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n\n")
    rows = [{"id": i, "text": f"row {i % 4} alpha{i % 4} beta{i % 4} gamma{i % 4} delta{i % 4}"} for i in range(8)]
    _jsonl(folder / "b.jsonl", rows)
    _cli("dedup", folder, "-o", tmp_path / "d", "--exact-only", "--quiet", "--ray", "local")
    assert [r["id"] for r in _read(tmp_path / "d")] == [0, 1, 2, 3]
    assert json.loads((tmp_path / "d.report.json").read_text())["params"]["fields"] == ["text"]
    bench = _jsonl(tmp_path / "bench.jsonl", [{"q": rows[1]["text"]}])
    _cli("decontam", folder, "-o", tmp_path / "c", "-b", f"{bench}:q", "--ngram", "4", "--quiet", "--ray", "local")
    assert [r["id"] for r in _read(tmp_path / "c.contaminated")] == [1, 5]


@pytest.mark.ray
def test_parquet_shards_keep_the_input_schema(ray_local, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    schema = pa.schema([("id", pa.int32()), ("note", pa.string()), ("output", pa.string())])
    pq.write_table(pa.Table.from_pylist([{"id": 1, "note": None, "output": "ok"},
                                         {"id": 2, "note": None, "output": "a long enough answer here"}],
                                        schema=schema), folder / "a.parquet")
    pq.write_table(pa.Table.from_pylist([{"id": 3, "note": "n", "output": "another long enough answer"}],
                                        schema=schema), folder / "b.parquet")
    _cli("filter", folder, "-o", tmp_path / "out", "-F", "length:min_units=3", "-f", "output", "--quiet",
         "--ray", "local")
    import pyarrow.dataset as pds

    table = pds.dataset(tmp_path / "out", format="parquet").to_table()
    assert table.schema.field("id").type == pa.int32() and table.schema.field("note").type == pa.string()
    assert sorted(table.column("id").to_pylist()) == [2, 3]


@pytest.mark.ray
def test_a_saved_dataset_directory_is_deduped_on_ray_streamed(ray_local, tmp_path):
    import datasets

    rows = [{"id": i, "text": f"row {i % 3} with its own words here"} for i in range(6)]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "ds"))
    _cli("dedup", tmp_path / "ds", "-o", tmp_path / "out.jsonl", "--exact-only", "--quiet", "--ray", "local")
    assert [r["id"] for r in _read(tmp_path / "out.jsonl")] == [0, 1, 2]


def test_a_task_writes_no_shard_once_the_run_was_given_up(tmp_path, monkeypatch):
    rows = [{"text": "a"}]
    guard = tmp_path / "state"
    unit = {"i": 0, "fmt": "jsonl", "out": "jsonl", "guard": str(guard)}
    ray_io.write_unit_shards(unit, str(tmp_path / "k"), rows, str(tmp_path / "d"), rows)  # state gone: nothing
    assert not (tmp_path / "k").exists() and not (tmp_path / "d").exists()
    guard.mkdir()
    write = ray_io.write_shard

    def then_given_up(path, rows, *schema_and_added):  # the driver removes the state while the task writes
        write(path, rows, *schema_and_added)
        shutil.rmtree(guard, ignore_errors=True)

    monkeypatch.setattr(ray_io, "write_shard", then_given_up)
    ray_io.write_unit_shards(unit, str(tmp_path / "k"), rows, str(tmp_path / "d"), rows)
    assert not list((tmp_path / "k").glob("part-*")) and not list(tmp_path.glob("d/part-*"))
    monkeypatch.setattr(ray_io, "write_shard", write)
    guard.mkdir()
    ray_io.write_unit_shards(unit, str(tmp_path / "k"), rows, str(tmp_path / "d"), rows)
    assert [p.name for p in (tmp_path / "k").iterdir()] == ["part-00000.jsonl"]


@pytest.mark.parametrize("cmd", ["filter", "dedup"])
def test_a_bad_input_leaves_an_earlier_runs_shards(tmp_path, capsys, cmd):
    out = tmp_path / "out"
    _jsonl(out / "part-00000.jsonl", [{"a": 1}])
    extra = ["-F", "length", "-f", "output"] if cmd == "filter" else []
    err = _fails(capsys, cmd, f"{tmp_path}/nothing-*.jsonl", "-o", out, *extra, "--ray", "local", "--quiet")
    assert "no files match" in err
    assert [p.name for p in out.iterdir()] == ["part-00000.jsonl"]
