"""Nothing lost, nothing miscounted: reserved record keys, failed rows said and counted, duplicate seed
rows counted, and the books of a finished run (synth.run_books) balancing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import synth_cli, write_config, write_jsonl
from tests.servers import ScriptedServer

# a plugin recipe as users write them: the seed row's fields carried into the record
ROW_COPY = """
from synth.recipes.instruct.recipe import InstructRecipe

class RowCopy(InstructRecipe):
    name = "row-copy"

    async def run(self, row, llm):
        (c,) = await llm.chat([{"role": "user", "content": row["instruction"]}])
        return [{**row, "response": c.text}]
"""

FRAGILE = """
from synth.recipes.instruct.recipe import InstructRecipe

class Fragile(InstructRecipe):
    name = "fragile"

    async def run(self, row, llm):
        if "boom" in row["instruction"]:
            return parse(row)
        return await super().run(row, llm)

def parse(row):
    raise ValueError("cannot parse this row\\nsecond line of the message")
"""


def plugin_run(tmp_path: Path, source: str, recipe: str, rows: list[dict], answer=None, **extra):
    """`synth run` of a recipe defined in tmp_path/plugin.py against a scripted server."""
    (tmp_path / "plugin.py").write_text(source, encoding="utf-8")
    write_jsonl(tmp_path / "seeds.jsonl", rows)
    fields = dict(name="t", recipe=f"plugin:{recipe}", seeds="seeds.jsonl", sampling={"max_tokens": 8}, dedup=None)
    cfg = write_config(tmp_path / "run.yaml", **{**fields, **extra})
    with ScriptedServer(answer or (lambda kind, body: f"answer to: {body['messages'][-1]['content']}")) as server:
        return synth_cli("run", str(cfg), "--base-url", server.base_url, "-q", env={"PYTHONPATH": str(tmp_path)})


def data_rows(run_dir: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return [r for f in sorted((run_dir / "data").glob("train-*.parquet")) for r in pq.read_table(f).to_pylist()]


def manifest(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "runs" / "t" / "manifest.json").read_text(encoding="utf-8"))


# -- 1. reserved record keys ------------------------------------------------------------------------
@pytest.mark.parametrize("ids", [["0a", "0a", "0b"], ["q-1", "q-1", "q-2"]], ids=["hex", "not-hex"])
def test_a_recipes_own_id_is_kept_as_source_id_and_no_record_is_lost(tmp_path, ids):
    rows = [{"id": i, "instruction": f"Say {c}."} for i, c in zip(ids, "abc")]
    proc = plugin_run(tmp_path, ROW_COPY, "RowCopy", rows)
    assert proc.returncode == 0, proc.stderr
    data = sorted(data_rows(tmp_path / "runs" / "t"), key=lambda r: r["instruction"])
    assert [(r["source_id"], r["instruction"], r["response"]) for r in data] == [
        (i, f"Say {c}.", f"answer to: Say {c}.") for i, c in zip(ids, "abc")]
    assert len({r["id"] for r in data}) == 3 and all(len(r["id"]) == 16 and int(r["id"], 16) >= 0 for r in data)
    assert {r["recipe"] for r in data} == {"row-copy"}
    assert manifest(tmp_path)["stages"][0]["kept"] == 3


def test_every_reserved_key_of_a_recipe_moves_to_its_source_name(tmp_path):
    rows = [{"instruction": "Say a.", "seed_key": "mine", "recipe": "upstream", "recipe_version": "7"}]
    assert plugin_run(tmp_path, ROW_COPY, "RowCopy", rows).returncode == 0
    (record,) = data_rows(tmp_path / "runs" / "t")
    assert (record["source_seed_key"], record["source_recipe"], record["source_recipe_version"]) == (
        "mine", "upstream", "7")
    assert record["recipe"] == "row-copy" and record["seed_key"] != "mine" and int(record["seed_key"], 16) >= 0


def test_a_reserved_key_whose_source_name_is_taken_too_is_refused_in_one_line(tmp_path):
    rows = [{"id": "x", "source_id": "y", "instruction": "Say a."}]
    proc = plugin_run(tmp_path, ROW_COPY, "RowCopy", rows)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "'id'" in line and "'source_id'" in line and "row-copy" in line


# -- 3. failed rows: said, counted, and a non-zero exit when too many --------------------------------
def test_a_recipe_raising_on_every_row_says_what_failed_and_exits_non_zero(tmp_path):
    rows = [{"instruction": f"boom {i}"} for i in range(3)]
    proc = plugin_run(tmp_path, FRAGILE, "Fragile", rows)
    assert proc.returncode == 1, proc.stderr
    assert "after retries" not in proc.stderr and "Traceback" not in proc.stderr
    assert "3 of 3 rows failed" in proc.stderr and "ValueError: cannot parse this row" in proc.stderr
    assert "second line" not in proc.stderr and "plugin.py" in proc.stderr and "seed row 1" in proc.stderr
    failed = [json.loads(line) for line in (tmp_path / "runs" / "t" / "failed.jsonl").read_text().splitlines()]
    assert sorted((f["position"], f["kind"], f["error"]) for f in failed) == [
        (i, "recipe", "ValueError: cannot parse this row") for i in (1, 2, 3)]
    assert all(f["where"].startswith("plugin.py:") and f["where"].endswith("in parse") for f in failed)
    m = manifest(tmp_path)
    assert m["status"] == "incomplete" and m["rows"]["failed"] == 3
    assert m["failures"] == {"recipe": 3}


def test_more_failed_rows_than_max_failed_share_exit_non_zero(tmp_path):
    rows = [{"instruction": "fine"}, {"instruction": "boom"}, {"instruction": "also fine"}]
    proc = plugin_run(tmp_path, FRAGILE, "Fragile", rows, max_failed_share=0.25)
    assert proc.returncode == 1 and "1 of 3 rows failed" in proc.stderr and "max_failed_share 0.25" in proc.stderr
    assert len(data_rows(tmp_path / "runs" / "t")) == 2  # the dataset of the rows that worked is still written


def test_a_request_failing_after_retries_is_named_as_such(tmp_path):
    def answer(kind, body):
        if "boom" in body["messages"][-1]["content"]:
            raise RuntimeError("the server breaks on this prompt")  # aiohttp answers HTTP 500
        return "fine"

    rows = [{"instruction": "boom"}, {"instruction": "ok 1"}, {"instruction": "ok 2"}]
    proc = plugin_run(tmp_path, FRAGILE.replace('"boom"', '"never"'), "Fragile", rows, answer=answer,
                      engine={"max_retries": 1, "backoff_s": 0.01})
    assert proc.returncode == 0 and "1 of 3 rows failed" in proc.stderr
    assert "request failed after retries" in proc.stderr and "HTTP 500" in proc.stderr
    (failed,) = [json.loads(line) for line in (tmp_path / "runs" / "t" / "failed.jsonl").read_text().splitlines()]
    assert failed["kind"] == "request" and failed["position"] == 1 and "HTTP 500" in failed["error"]
    assert manifest(tmp_path)["failures"] == {"request": 1}


# -- 5. duplicate seed rows, and the books -----------------------------------------------------------
def test_duplicate_seed_rows_are_counted_in_rows_and_the_funnel(tmp_path):
    rows = [{"instruction": "Say a."}, {"instruction": "Say b."}, {"instruction": "Say a."}, {"instruction": "Say a."}]
    assert plugin_run(tmp_path, ROW_COPY, "RowCopy", rows).returncode == 0
    m = manifest(tmp_path)
    assert m["rows"] == {"seed_rows": 4, "selected": 2, "duplicate": 2, "done": 2, "failed": 0}
    generate = m["stages"][0]
    assert (generate["in"], generate["dropped"], generate["dropped_by_reason"]) == (4, 2, {"duplicate_seed_row": 2})
    assert "duplicate_seed_row: 2" in (tmp_path / "runs" / "t" / "README.md").read_text(encoding="utf-8")


def test_limit_counts_only_the_duplicates_it_read(tmp_path):
    rows = [{"instruction": "Say a."}, {"instruction": "Say a."}, {"instruction": "Say b."}, {"instruction": "Say b."},
            {"instruction": "Say c."}]
    (tmp_path / "plugin.py").write_text(ROW_COPY, encoding="utf-8")
    write_jsonl(tmp_path / "seeds.jsonl", rows)
    cfg = write_config(tmp_path / "run.yaml", name="t", recipe="plugin:RowCopy", seeds="seeds.jsonl", dedup=None)
    with ScriptedServer(lambda kind, body: "ok") as server:
        proc = synth_cli("run", str(cfg), "--base-url", server.base_url, "--limit", "2", "-q",
                         env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert manifest(tmp_path)["rows"] == {"seed_rows": 3, "selected": 2, "duplicate": 1, "done": 2, "failed": 0}


def balanced_manifest() -> dict:
    return {
        "status": "complete",
        "rows": {"seed_rows": 5, "selected": 4, "duplicate": 1, "done": 3, "failed": 1, "follow_up": 0},
        "stages": [{"name": "generate", "in": 5, "kept": 6, "dropped": 2, "rows_done": 3, "records_written": 6,
                    "dropped_by_reason": {"duplicate_seed_row": 1, "row_failed": 1}},
                   {"name": "recipe:x", "in": 6, "kept": 5, "dropped": 1, "dropped_by_reason": {"r": 1}},
                   {"name": "dedup", "in": 5, "kept": 5, "dropped": 0, "dropped_by_reason": {}}],
        "outputs": {"records": 6, "kept": 5, "rejected": 1},
    }


@pytest.mark.parametrize("path, value, complaint", [
    (("rows", "done"), 2, "seed rows"),
    (("stages", 1, "kept"), 4, "recipe:x"),
    (("stages", 2, "in"), 6, "dedup"),
    (("stages", 1, "dropped_by_reason"), {"r": 2}, "recipe:x"),
    (("stages", 0, "records_written"), 7, "generate"),
    (("outputs", "rejected"), 0, "outputs"),
])
def test_books_that_do_not_balance_are_named(path, value, complaint):
    from synth.run_books import unbalanced

    m = balanced_manifest()
    assert unbalanced(m) == []
    target = m
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    problems = unbalanced(m)
    assert problems and any(complaint in p for p in problems), problems
