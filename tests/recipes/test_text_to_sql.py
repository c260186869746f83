"""`text-to-sql`: candidate queries executed read-only on SQLite, kept when their result matches the
reference's or the majority's, driven by a scripted server whose right and wrong SQL we know
(candidate i = seed i), in-process and through `synth run`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from synth.cli import main
from synth.errors import ConfigError
from synth.execute.sql import Database, has_order_by
from synth.recipes.text_to_sql.recipe import TextToSQLRecipe
from tests.conftest import write_config, write_jsonl
from tests.recipes.helpers import run_recipe
from tests.servers import ScriptedServer

SCHEMA = ("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT);\n"
          "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), amount REAL);")
DATA = {"customers": [[1, "Carol", "Beijing"], [2, "Alice", "Shanghai"], [3, "Bob", "Beijing"]],
        "orders": [{"id": 1, "customer_id": 2, "amount": 30.5}, {"id": 2, "customer_id": 2, "amount": 12},
                   {"id": 3, "customer_id": 1, "amount": 99.0}]}
COUNT = {"schema": SCHEMA, "data": DATA, "question": "How many orders did Alice place?",
         "sql": "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.name = 'Alice'"}
ZH = {"schema": SCHEMA, "data": DATA, "lang": "zh"}  # no question: generated, labelled by majority


def sql(text: str) -> str:
    return f"```sql\n{text}\n```"


ANSWERS = {  # question -> candidate i
    "How many orders did Alice place?": [
        sql("SELECT COUNT(*) FROM orders WHERE customer_id = (SELECT id FROM customers WHERE name = 'Alice');"),
        sql("SELECT count(*) FROM orders"),
        sql("DELETE FROM orders"),
        sql("SELEC * FROM orders")],
    "每个城市有多少客户？": [
        sql("SELECT city, count(*) FROM customers GROUP BY city"),
        sql("SELECT city, COUNT(id) FROM customers GROUP BY city ORDER BY city DESC"),
        sql("SELECT city FROM customers"),
        sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")],
    "金额最高的订单是多少？": [
        sql("SELECT max(amount) FROM orders"),
        "最高金额：\n" + sql("SELECT amount FROM orders ORDER BY amount DESC LIMIT 1"),
        sql("SELECT min(amount) FROM orders"),
        "我不知道。"],
    "List the customers' names alphabetically.": [
        sql("SELECT name FROM customers ORDER BY name ASC"),
        sql("SELECT name FROM customers"),  # the right rows in the wrong order
        sql("SELECT name FROM customers ORDER BY name DESC"),
        sql("DROP TABLE customers")],
}
QUESTIONS_ZH = "1. 每个城市有多少客户？\n2. 金额最高的订单是多少？"
OPTIONS = {"k": 4, "seed": 0, "timeout_s": 1.0}


def scripted(kind, body):
    if body["seed"] is None:
        return "hi"  # the engine's probe
    prompt = body["messages"][-1]["content"]
    if "不要写 SQL" in prompt:
        return QUESTIONS_ZH
    return next(answers for q, answers in ANSWERS.items() if q in prompt)[body["seed"]]


@pytest.fixture(scope="module")
def server():
    with ScriptedServer(scripted) as s:
        yield s


def outcomes(records):
    return [(r["question"], r["sample_index"], "kept" if r["correct"] else r["rejected"]) for r in records]


def test_a_reference_query_labels_candidates_by_result_and_writes_are_denied(server):
    records = run_recipe(TextToSQLRecipe(OPTIONS), [COUNT], server.base_url)
    q = COUNT["question"]
    assert outcomes(records) == [(q, 0, "kept"), (q, 1, "result_mismatch"), (q, 2, "denied"), (q, 3, "sql_error")]
    kept = records[0]
    assert kept["label_source"] == "reference" and kept["result"]["rows"] == [["2"]]
    assert kept["reference_result"]["rows"] == [["2"]] and kept["language"] == "en"
    assert kept["rejected_solutions"][0]["sql"] == "SELECT count(*) FROM orders" and kept["messages"][-1]["content"] == \
        ANSWERS[q][0]
    assert "-- customers(id, name, city)\n(1, 'Carol', 'Beijing')" in kept["messages"][0]["content"]  # sample rows
    assert kept["schema"] == SCHEMA
    assert records[1]["result"]["rows"] == [["3"]] and "not authorized" in records[2]["detail"]


def test_generated_chinese_questions_are_labelled_by_the_majority_result(server):
    records = run_recipe(TextToSQLRecipe(OPTIONS), [ZH], server.base_url)
    q1, q2 = "每个城市有多少客户？", "金额最高的订单是多少？"
    assert outcomes(records) == [(q1, 0, "kept"), (q1, 1, "kept"), (q1, 2, "result_mismatch"), (q1, 3, "timeout"),
                                 (q2, 0, "kept"), (q2, 1, "kept"), (q2, 2, "result_mismatch"), (q2, 3, "no_sql")]
    assert records[0]["label_source"] == "majority" and records[0]["language"] == "zh"
    assert records[0]["majority"] == {"votes": 2, "total": 3, "agreement": 0.6667}
    assert sorted(records[0]["result"]["rows"]) == [["Beijing", "2"], ["Shanghai", "1"]]
    assert records[4]["result"]["rows"] == [["99"]]  # 99.0 and 99 are one value
    prompts = [b["messages"][-1]["content"] for b in server.requests("chat") if "每个城市" in b["messages"][-1]["content"]]
    assert prompts and all(p.startswith("下面是一个 SQLite 数据库") for p in prompts)


def test_thresholds_without_a_majority_reject_every_candidate(server):
    records = run_recipe(TextToSQLRecipe({**OPTIONS, "min_votes": 3}), [ZH], server.base_url)
    assert {r["rejected"] for r in records if r["sql"] and r["result"]["status"] == "ok"} == {"no_majority"}
    every = run_recipe(TextToSQLRecipe({**OPTIONS, "min_votes": 3, "keep": "all"}), [ZH], server.base_url)
    assert len(every) == 8 and not any(r["correct"] for r in every) and all(r["rejected_solutions"] == [] for r in every)


def test_an_ordered_reference_on_a_sqlite_file_needs_the_order_and_the_file_is_unchanged(server, tmp_path):
    path = tmp_path / "shop.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO customers VALUES (?, ?, ?)", DATA["customers"])
    before = path.read_bytes()
    q = "List the customers' names alphabetically."
    row = {"db": str(path), "question": q, "sql": "SELECT name FROM customers ORDER BY name"}
    records = run_recipe(TextToSQLRecipe(OPTIONS), [row], server.base_url)
    assert outcomes(records) == [(q, 0, "kept"), (q, 1, "result_mismatch"), (q, 2, "result_mismatch"),
                                 (q, 3, "denied")]
    assert records[0]["result"]["rows"] == [["Alice"], ["Bob"], ["Carol"]] and records[0]["database"] == "shop.sqlite"
    assert path.read_bytes() == before
    # the same rows unordered match when the reference does not sort
    unordered = run_recipe(TextToSQLRecipe(OPTIONS), [{**row, "sql": "SELECT name FROM customers"}], server.base_url)
    assert [r["correct"] for r in unordered] == [True, True, True, False]


def test_order_by_detection_and_bad_inputs():
    assert has_order_by("SELECT a FROM t ORDER BY a") and not has_order_by("SELECT a FROM (SELECT a FROM t ORDER BY a)")
    assert not has_order_by("SELECT 'order by' FROM t")
    with pytest.raises(ValueError, match="do not load"):
        Database.from_schema("CREATE TABLE t (a);", {"nope": [[1]]})
    with pytest.raises(ConfigError, match="options.database"):
        TextToSQLRecipe({"database": "/nonexistent/x.sqlite"})


# -- through `synth run` ----------------------------------------------------------------------------
def synth_run(cfg: Path, url: str, out: Path, *extra: str) -> None:
    try:
        main(["run", str(cfg), "--base-url", url, "--out", str(out), "-q", *extra])
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code


def run_outcome(run_dir: Path) -> tuple[list, list]:
    kept = [r for f in sorted((run_dir / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    rejected = [json.loads(line) for line in (run_dir / "rejected.jsonl").read_text().splitlines()]
    return (sorted((r["question"], r["sample_index"]) for r in kept),
            sorted((r["record"]["question"], r["record"]["sample_index"], r["reason"]) for r in rejected))


def test_synth_run_keeps_rejects_pairs_and_resumes(tmp_path, server):
    write_jsonl(tmp_path / "dbs.jsonl", [COUNT, ZH])
    cfg = write_config(tmp_path / "sql.yaml", name="sql", recipe="text-to-sql", seeds="dbs.jsonl", options=OPTIONS,
                       filters=[], export={"formats": ["messages", "dpo"]}, sampling={"max_tokens": 256})
    synth_run(cfg, server.base_url, tmp_path / "whole")
    kept, rejected = run_outcome(tmp_path / "whole")
    q, q1, q2 = COUNT["question"], "每个城市有多少客户？", "金额最高的订单是多少？"
    assert kept == sorted([(q, 0), (q1, 0), (q1, 1), (q2, 0), (q2, 1)])
    assert rejected == sorted([(q, 1, "result_mismatch"), (q, 2, "denied"), (q, 3, "sql_error"),
                               (q1, 2, "result_mismatch"), (q1, 3, "timeout"), (q2, 2, "result_mismatch"),
                               (q2, 3, "no_sql")])
    dpo = [json.loads(line) for line in (tmp_path / "whole" / "exports" / "dpo.jsonl").read_text().splitlines()]
    assert len(dpo) == 5 and {d["rejected"][0]["content"] for d in dpo} >= {ANSWERS[q][1]}

    sent = len(server.log)
    synth_run(cfg, server.base_url, tmp_path / "whole", "--fresh")  # new records, every answer from the cache
    assert len(server.log) - sent <= 1 and run_outcome(tmp_path / "whole") == (kept, rejected)
    synth_run(cfg, server.base_url, tmp_path / "resumed", "--limit", "1")
    synth_run(cfg, server.base_url, tmp_path / "resumed")
    assert run_outcome(tmp_path / "resumed") == (kept, rejected)


def test_a_database_the_model_asks_nothing_about_is_one_rejected_record(server):
    with ScriptedServer(lambda kind, body: "```sql\nSELECT 1\n```") as only_sql:
        (record,) = run_recipe(TextToSQLRecipe(OPTIONS), [ZH], only_sql.base_url)
    assert record["rejected"] == "no_questions" and record["schema"] == SCHEMA and record["question"] is None
    assert set(record) == set(run_recipe(TextToSQLRecipe(OPTIONS), [COUNT], server.base_url)[0])  # one schema
