"""`synth filter --ray` with Parquet shards: the `scores` column the filters add gets one type in every
shard (synth.dedup.ray_schema), so the output folder reads back as one table with pyarrow and `datasets`,
however the shards' scores differ (null on every row of one, whole numbers in one and fractions in
another, a shard with no kept row at all). `synth dedup / decontam --ray` too: input files that type a
column apart give shards of one type."""

import pyarrow as pa
import pyarrow.dataset as pds
import pyarrow.parquet as pq
import pytest

from tests.dedup.test_ray_shards import _cli, _fails

ANSWER = "An index fund tracks a market index at low cost."


def _file(folder, name, rows):
    folder.mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / name)  # each file's types inferred from its own rows


def _row(i, output, judge):
    return {"id": i, "instruction": "Explain index funds in detail.", "output": output, "scores": {"judge": judge}}


def _input(tmp_path):
    folder = tmp_path / "in"
    _file(folder, "a.parquet", [_row(0, "ok", None), _row(1, "no", None)])  # both too short: an empty shard
    _file(folder, "b.parquet", [_row(2, "12345 67890 13579", 4), _row(3, "24680 11223 44556", 5)])  # no letters: language null
    _file(folder, "c.parquet", [_row(4, ANSWER, 4.5), _row(5, ANSWER + " Cheap.", None)])
    return folder


FILTERS = ["-F", "length:min_units=3", "-F", "lang-match", "-f", "output"]


@pytest.mark.ray
def test_shards_whose_scores_differ_read_back_as_one_table(ray_local, tmp_path):
    _cli("filter", _input(tmp_path), "-o", tmp_path / "out", *FILTERS, "--quiet", "--ray", "local")
    shards = sorted((tmp_path / "out").glob("part-*.parquet"))
    assert len(shards) == 3 and pq.read_metadata(shards[0]).num_rows == 0
    scores = pa.struct([("judge", pa.float64()), ("length", pa.int64()), ("language", pa.string())])
    assert {pq.read_schema(s).field("scores").type for s in shards} == {scores}
    table = pds.dataset(tmp_path / "out", format="parquet").to_table()  # the first shard's schema: no rows in it
    got = sorted(table.select(["id", "scores"]).to_pylist(), key=lambda r: r["id"])
    assert got == [{"id": 2, "scores": {"judge": 4.0, "length": 3, "language": None}},
                   {"id": 3, "scores": {"judge": 5.0, "length": 3, "language": None}},
                   {"id": 4, "scores": {"judge": 4.5, "length": 10, "language": "en"}},
                   {"id": 5, "scores": {"judge": None, "length": 11, "language": "en"}}]
    import datasets

    ds = datasets.load_dataset("parquet", data_files=[str(s) for s in shards], split="train")
    assert sorted(ds["id"]) == [2, 3, 4, 5] and ds.features["scores"]["judge"].dtype == "float64"
    assert not (tmp_path / "out.state").exists()


@pytest.mark.ray
def test_scores_of_types_no_schema_can_hold_together_are_one_error_line(ray_local, tmp_path, capsys):
    folder = tmp_path / "in"
    _file(folder, "a.parquet", [_row(0, ANSWER, 4)])
    _file(folder, "b.parquet", [_row(1, ANSWER, "four")])
    err = _fails(capsys, "filter", folder, "-o", tmp_path / "out", *FILTERS, "--quiet", "--ray", "local")
    assert "column 'scores' holds values of different types" in err and "give --ray JSON-lines input" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.state").exists()


def _typed_apart(tmp_path):
    """Two input files whose column `w` is int64 in one and double in the other."""
    folder = tmp_path / "in"
    _file(folder, "a.parquet", [{"id": 0, "output": ANSWER, "w": 1}, {"id": 1, "output": ANSWER, "w": 2}])
    _file(folder, "b.parquet", [{"id": 2, "output": "Bonds pay interest until they mature.", "w": 0.5}])
    assert {pq.read_schema(f).field("w").type for f in folder.iterdir()} == {pa.int64(), pa.float64()}
    return folder


@pytest.mark.ray
@pytest.mark.parametrize("command", ["dedup", "decontam"])
def test_dedup_and_decontam_shards_of_inputs_typed_apart_read_back_as_one_table(ray_local, tmp_path, command):
    folder = _typed_apart(tmp_path)
    if command == "decontam":
        bench = tmp_path / "bench.jsonl"
        bench.write_text('{"question": "What is the capital of France and why is it there?"}\n', encoding="utf-8")
        extra = ["--benchmark", f"{bench}:question", "--field", "output"]
    else:
        extra = ["--field", "output"]
    _cli(command, folder, "-o", tmp_path / "out", *extra, "--quiet", "--ray", "local")
    shards = sorted((tmp_path / "out").glob("part-*.parquet"))
    assert len(shards) == 2 and {pq.read_schema(s).field("w").type for s in shards} == {pa.float64()}
    table = pds.dataset(tmp_path / "out", format="parquet").to_table()  # ArrowInvalid when typed apart
    got = sorted(table.select(["id", "w"]).to_pylist(), key=lambda r: r["id"])
    kept = [{"id": 0, "w": 1.0}, {"id": 1, "w": 2.0}, {"id": 2, "w": 0.5}]
    assert got == (kept if command == "decontam" else [kept[0], kept[2]])  # dedup: row 1 copies row 0
    assert not (tmp_path / "out.state").exists()
