"""`code-exec` and `sql-exec` on existing rows, through `synth filter` and the filter stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth.execute import TOTALS
from synth.filter import make_filter
from synth.stages import FilterStage, run_stages
from tests.conftest import cli_in_process, write_jsonl


def chat(question: str, answer: str, **extra) -> dict:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}], **extra}


def fenced(code: str, tag: str = "python") -> str:
    return f"Solution:\n```{tag}\n{code}\n```"


ADD_TESTS = ["assert add(2, 3) == 5", "assert add(0, 0) == 0"]
CODE_ROWS = [
    chat("Write add(a, b).", fenced("def add(a, b):\n    return a + b"), tests=ADD_TESTS),
    chat("Write add(a, b).", fenced("def add(a, b):\n    return a * b"), tests=ADD_TESTS),
    chat("Write add(a, b).", fenced("def add(a, b):\n    while True:\n        pass"), tests=ADD_TESTS),
    chat("Write add(a, b).", "Just add them.", tests=ADD_TESTS),
    chat("Write add(a, b).", fenced("def add(a, b):\n    return a + b"), tests=[]),
    chat("Echo a line twice.", fenced("s = input()\nprint(s)\nprint(s)"), tests=[{"input": "hi\n", "output": "hi\nhi\n"}]),
]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_code_exec_through_synth_filter_keeps_passing_rows_and_caches_results(tmp_path, capsys):
    write_jsonl(tmp_path / "code.jsonl", CODE_ROWS)
    spec = "code-exec:{cache: exec.sqlite, limits: {cpu_s: 1, wall_s: 30}}"
    code, out, err = cli_in_process(capsys, "filter", "code.jsonl", "--out", "kept.jsonl", "--filter", spec)
    assert code == 0, err
    kept = lines(tmp_path / "kept.jsonl")
    assert [r["messages"][0]["content"] for r in kept] == ["Write add(a, b).", "Echo a line twice."]
    assert kept[0]["scores"] == {"code_exec_passed": 2, "code_exec_total": 2}
    rejected = lines(tmp_path / "kept.rejected.jsonl")
    assert [r["reason"] for r in rejected] == ["code_exec_failed", "code_exec_timeout", "code_exec_no_code",
                                               "code_exec_no_tests"]
    assert rejected[0]["detail"].startswith("assert add(2, 3) == 5 -> failed:") and "AssertionError" in rejected[0]["detail"]
    assert "code_exec_failed 1" in out
    executed = TOTALS.executed
    code, _, err = cli_in_process(capsys, "filter", "code.jsonl", "--out", "again.jsonl", "--filter", spec)
    assert code == 0 and TOTALS.executed == executed, err  # every result from exec.sqlite
    assert lines(tmp_path / "again.jsonl") == kept


def test_code_exec_reads_a_code_column_and_can_keep_rows_without_tests():
    flt = make_filter("code-exec", {"code_field": "code", "missing_tests": "keep"})
    rows = [{"code": "def f():\n    return 1", "tests": "assert f() == 1"}, {"code": "x = 1", "tests": None},
            {"code": "def f():\n    return 2", "tests": {"bad": 1}}]
    kept, rejected, report = run_stages([FilterStage(flt)], rows)
    assert [r["code"] for r in kept] == ["def f():\n    return 1", "x = 1"]
    assert [r["reason"] for r in rejected] == ["code_exec_bad_tests"]


SCHEMA = "CREATE TABLE t (id INTEGER, city TEXT, amount REAL);"
DATA = {"t": [[1, "Beijing", 10.0], [2, "Shanghai", 5.5], [3, "Beijing", 1.0]]}


def sql_row(answer: str, reference: str | None = "SELECT city, sum(amount) FROM t GROUP BY city") -> dict:
    return {"question": "Total amount per city?", "answer": answer, "schema": SCHEMA, "data": DATA,
            "reference": reference}


def test_sql_exec_runs_read_only_and_compares_with_the_reference(tmp_path):
    flt = make_filter("sql-exec", {"reference_field": "reference", "timeout_s": 1})
    rows = [sql_row(fenced("SELECT city, SUM(amount) FROM t GROUP BY 1 ORDER BY 2 DESC", "sql")),
            sql_row(fenced("SELECT city, count(*) FROM t GROUP BY city", "sql")),
            sql_row(fenced("DELETE FROM t", "sql")),
            sql_row(fenced("SELECT nope FROM t", "sql")),
            sql_row("I would look at the table."),
            sql_row(fenced("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
                           "sql")),
            sql_row("SELECT city FROM t ORDER BY city", reference="SELECT city FROM t ORDER BY city DESC"),
            {"question": "Any?", "answer": "SELECT 1"}]
    kept, rejected, _ = run_stages([FilterStage(flt)], rows)
    assert len(kept) == 1 and kept[0]["scores"] == {"sql_exec_rows": 2}
    assert [r["reason"] for r in rejected] == ["sql_exec_mismatch", "sql_exec_denied", "sql_exec_error",
                                               "sql_exec_no_sql", "sql_exec_timeout", "sql_exec_mismatch",
                                               "sql_exec_no_database"]
    assert rejected[5]["detail"].endswith("(ordered)")
    # the rows' table is untouched by the DELETE: the next row still sees every row
    again, _, _ = run_stages([FilterStage(make_filter("sql-exec", {}))], [sql_row("SELECT * FROM t", None)])
    assert again[0]["scores"]["sql_exec_rows"] == 3


def test_sql_exec_on_a_sqlite_file_through_synth_filter(tmp_path, capsys):
    import sqlite3

    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO t VALUES (?, ?, ?)", DATA["t"])
    write_jsonl(tmp_path / "sql.jsonl", [{"question": "Cities?", "sql": "SELECT DISTINCT city FROM t"},
                                         {"question": "Drop it", "sql": "DROP TABLE t"},
                                         {"question": "Nothing?", "sql": "SELECT * FROM t WHERE id > 9"}])
    code, _, err = cli_in_process(capsys, "filter", "sql.jsonl", "--out", "kept.jsonl", "--field", "sql",
                                  "--filter", "sql-exec:database=db.sqlite,allow_empty=false")
    assert code == 0, err
    assert [r["question"] for r in lines(tmp_path / "kept.jsonl")] == ["Cities?"]
    assert [r["reason"] for r in lines(tmp_path / "kept.rejected.jsonl")] == ["sql_exec_denied", "sql_exec_empty"]
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        assert db.execute("SELECT count(*) FROM t").fetchone() == (3,)


@pytest.mark.parametrize("name,options,needle", [
    ("code-exec", {"limits": {"cpu_s": 0}}, "limits.cpu_s"),
    ("code-exec", {"isolation": "vm"}, "isolation: Input should be 'auto', 'bwrap' or 'rlimits'"),
    ("sql-exec", {"database": "missing.sqlite"}, "missing.sqlite"),
])
def test_bad_options_are_config_errors(name, options, needle):
    from synth.errors import ConfigError

    with pytest.raises(ConfigError, match=needle.replace(".", r"\.").replace("(", r"\(")):
        make_filter(name, options)
