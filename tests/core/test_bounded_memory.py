"""Same memory whatever the size: Parquet and JSON seed files are read in batches (never whole), and a
streamed LLM judge leaves its rationales on the records instead of gathering them in the stage."""

from __future__ import annotations

import asyncio
import json
import random
import string
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synth.engines.base import Completion
from synth.errors import InputError
from synth.filter import make_filter
from synth.io import iter_rows
from synth.stages import FilterStage, run_stages_spooled

ROWS = 30_000
TEXT_CHARS = 300  # ~9 MB of text in all: as Python objects, several times that


def texts(n: int) -> list[str]:
    rnd = random.Random(0)
    letters = string.ascii_letters + " "
    return ["".join(rnd.choices(letters, k=TEXT_CHARS)) for _ in range(n)]


def peak_of(fn) -> int:
    """Peak Python allocation (bytes) while `fn` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def read_twice_as_a_run_does(path: Path) -> int:
    """A run reads a seed file twice (synth.seeds.Seeds: check and key every row, then the rows while
    generating), holding one row at a time."""
    assert sum(1 for _ in iter_rows(path)) == ROWS
    return sum(1 for _ in iter_rows(path))


def test_a_large_parquet_seed_file_is_read_in_batches(tmp_path, monkeypatch):
    path = tmp_path / "seeds.parquet"
    pq.write_table(pa.table({"id": list(range(ROWS)), "text": texts(ROWS)}), path, row_group_size=5_000)
    text_bytes = ROWS * TEXT_CHARS

    def whole(*args, **kwargs):
        raise AssertionError("a seed file must not be read whole")

    monkeypatch.setattr(pq, "read_table", whole)
    monkeypatch.setattr(pq.ParquetFile, "read", whole)
    counted = []
    peak = peak_of(lambda: counted.append(read_twice_as_a_run_does(path)))
    assert counted == [ROWS]
    assert peak < text_bytes / 8, f"peak {peak / 1e6:.1f} MB for {text_bytes / 1e6:.1f} MB of text"
    rows = list(iter_rows(path))
    assert rows[0]["id"] == 0 and rows[-1]["id"] == ROWS - 1 and len(rows) == ROWS  # all of them, in order


def test_a_large_json_array_seed_file_is_streamed(tmp_path):
    path = tmp_path / "seeds.json"
    rows = [{"id": i, "score": i / 4, "text": t} for i, t in enumerate(texts(ROWS))]
    path.write_text(json.dumps(rows), encoding="utf-8")
    text_bytes = ROWS * TEXT_CHARS
    del rows
    counted = []
    peak = peak_of(lambda: counted.append(read_twice_as_a_run_does(path)))
    assert counted == [ROWS]
    assert peak < text_bytes / 8, f"peak {peak / 1e6:.1f} MB for {text_bytes / 1e6:.1f} MB of text"


def test_json_seed_files_keep_their_shapes_and_one_line_errors(tmp_path):
    rows = [{"q": "a", "x": 1.5, "n": None, "tags": ["t"], "big": 2**70}, {"q": "二"}]
    plain, wrapped = tmp_path / "plain.json", tmp_path / "wrapped.json"
    plain.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    wrapped.write_text(json.dumps({"version": 2, "data": rows}), encoding="utf-8")
    assert list(iter_rows(plain)) == list(iter_rows(wrapped)) == rows
    assert type(next(iter_rows(plain))["x"]) is float  # not Decimal
    assert list(iter_rows(_write(tmp_path / "empty.json", "[]"))) == []
    assert list(iter_rows(_write(tmp_path / "empty-data.json", '{"data": []}'))) == []
    bad = {"broken.json": ("[{\"q\": 1},", "not valid JSON"),
           "scalars.json": ("[{\"q\": 1}, 2]", "expected a JSON list of objects"),
           "object.json": ("{\"rows\": []}", "expected a JSON list of objects"),
           "number.json": ("5", "expected a JSON list of objects"),
           "latin1.json": (b"[{\"q\": \"caf\xe9\"}]", "not valid UTF-8"),
           "bom.json": (b"\xef\xbb\xbf[]", "byte-order mark")}
    for name, (content, message) in bad.items():
        with pytest.raises(InputError, match=message) as exc:
            list(iter_rows(_write(tmp_path / name, content)))
        assert name in str(exc.value) and "\n" not in str(exc.value)


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


class RationaleLLM:
    """A judge that writes a long rationale for every record (no server: only the stage is measured)."""

    json_schema = True

    async def chat(self, messages, **kwargs):
        item = messages[-1]["content"].split("\n")[1]  # the instruction
        rationale = f"{item} " + "because " * 450  # ~3.6 KB each (the schema allows 4000)
        return [Completion(json.dumps({"rationale": rationale, "score": 7}), finish_reason="stop")]


def test_a_streamed_judge_keeps_rationales_on_the_records_not_in_the_stage(tmp_path):
    n = 2_000
    records = [{"id": f"{i:016x}", "messages": [{"role": "user", "content": f"question {i}"},
                                                {"role": "assistant", "content": f"answer {i}"}]}
               for i in range(n)]
    result = []

    def go(rows, spool):
        stage = FilterStage(make_filter("judge", {}))
        result.append(asyncio.run(run_stages_spooled([stage], iter(rows), spool,
                                                      llm=RationaleLLM(), concurrency=4, chunk_size=100)))

    # a first small run loads the modules and builds the judge's schema, so that the clock measures the
    # run's own memory and the test does not depend on what earlier tests imported
    go(records[:10], tmp_path / "warm")
    result.clear()
    peak = peak_of(lambda: go(records, tmp_path / "spool"))
    kept, rejected, (report,) = result[0]
    assert len(kept) == n and len(rejected) == 0
    first = next(iter(kept))
    assert first["scores"]["judge"] == 7.0 and first["scores"]["judge_rationale"].startswith("question 0 because")
    assert report.scores["judge_rationale"]["n"] == n and report.scores["judge"]["histogram"]["7"] == n
    rationale_bytes = n * 3_600
    assert peak < rationale_bytes / 4, f"peak {peak / 1e6:.1f} MB for {rationale_bytes / 1e6:.1f} MB of rationales"
