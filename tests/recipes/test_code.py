"""`code`: candidate solutions run against given or generated tests in the sandbox, driven by a scripted
server whose right and wrong solutions we know (sample i = seed i), in-process and through `synth run`."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from synth.cli import main
from synth.errors import ConfigError
from synth.execute import TOTALS
from synth.recipes.code.recipe import CodeRecipe
from tests.conftest import write_config, write_jsonl
from tests.recipes.helpers import run_recipe
from tests.servers import ScriptedServer


def fenced(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}\n```\n"


ADD = {"problem": "Write add(a, b) returning the sum of a and b.",
       "tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]}
SUM_IO = {"problem": "Read two integers from one line of stdin and print their sum.",
          "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "10 -4\n", "output": "6\n"}]}
SQUARE = {"problem": "写一个函数 square(x)，返回 x 的平方。"}  # no tests: generated, CodeT agreement; zh prompt

SOLUTIONS = {
    "add(a, b)": [fenced("def add(a, b):\n    return a + b"),
                  fenced("def add(a, b):\n    return a - b"),
                  fenced("def add(a, b):\n    while True:\n        pass"),
                  "Sorry, I cannot solve this."],
    "two integers": [fenced("a, b = map(int, input().split())\nprint(a + b)"),
                     fenced("print(sum(map(int, input().split())) + 1)"),
                     fenced("x = bytearray(1 << 34)"),
                     fenced("import sys\nprint(sum(int(t) for t in sys.stdin.read().split()))")],
    "square(x)": [fenced("def square(x):\n    return x * x"),
                  fenced("def square(x):\n    return x ** 2"),
                  fenced("def square(x):\n    return x + x"),
                  fenced("import sys\nsys.exit(0)\ndef square(x):\n    return x * x")],
}
TEST_SEED = 100
TESTS = ["```python\nassert square(2) == 4\nassert square(3) == 9\nassert square(0) == 0\n```",
         "```python\nassert square(2) == 4\nassert square(3) == 6\n```"]  # the second test of this answer is wrong
OPTIONS = {"k": 4, "seed": 0, "test_seed": TEST_SEED, "limits": {"cpu_s": 1, "wall_s": 30, "memory_mb": 256}}


def scripted(kind, body):
    if body["seed"] is None:
        return "hi"  # the engine's probe
    prompt = body["messages"][-1]["content"]
    if "test cases" in prompt or "测试用例" in prompt:
        return TESTS[body["seed"] - TEST_SEED]
    return next(answers for key, answers in SOLUTIONS.items() if key in prompt)[body["seed"]]


def by_index(records):
    return {r["sample_index"]: r for r in records}


@pytest.fixture(scope="module")
def server():
    with ScriptedServer(scripted) as s:
        yield s


def test_given_asserts_keep_the_passing_solution_and_reject_the_others_with_their_output(server):
    records = by_index(run_recipe(CodeRecipe(OPTIONS), [ADD], server.base_url))
    assert [records[i].get("rejected") for i in (1, 2, 3)] == ["tests_failed", "timeout", "no_code"]
    good = records[0]
    assert good["correct"] and good["selected"] and good["tests_source"] == "given"
    assert good["execution"]["passed"] == 2 and good["execution"]["failed"] == 0
    assert [t["status"] for t in good["execution"]["tests"]] == ["passed", "passed"]
    assert good["messages"][-1] == {"role": "assistant", "content": SOLUTIONS["add(a, b)"][0]}
    # the DPO partner is the first failing candidate with code
    partner = good["rejected_solutions"][0]
    assert partner["solution"] == SOLUTIONS["add(a, b)"][1] and partner["status"] == "tests_failed"
    wrong = records[1]
    assert wrong["failure"]["test"] == "assert add(1, 2) == 3" and wrong["failure"]["status"] == "failed"
    assert "AssertionError" in wrong["failure"]["output"] and wrong["messages"] is None
    assert records[2]["failure"]["status"] == "timeout" and "CPU" in records[2]["failure"]["output"]
    assert records[3]["code"] is None and records[3]["execution"]["tests"] == []


def test_stdin_stdout_tests_compare_output_and_catch_a_memory_hog(server):
    records = by_index(run_recipe(CodeRecipe(OPTIONS), [SUM_IO], server.base_url))
    assert [i for i, r in records.items() if r["correct"]] == [0, 3]
    assert records[1]["rejected"] == "tests_failed" and records[1]["failure"]["status"] == "wrong_output"
    assert "expected:\n3\ngot:\n4" in records[1]["failure"]["output"]
    assert records[2]["rejected"] == "resource_limit" and records[2]["failure"]["status"] == "memory_limit"


def test_generated_tests_keep_the_solutions_of_the_best_consensus_set(server):
    records = by_index(run_recipe(CodeRecipe(OPTIONS), [SQUARE], server.base_url))
    assert [i for i, r in records.items() if r["correct"]] == [0, 1]
    kept = records[0]
    assert kept["tests_source"] == "generated" and kept["execution"]["total"] == 4  # 5 asked, one duplicate
    assert kept["consensus"] == {"tests": 3, "solutions": 2, "score": 6}
    assert kept["execution"]["agreed"] == [0, 1, 2]  # the wrong generated test (square(3) == 6) is out
    assert records[2]["rejected"] == "tests_failed" and records[2]["failure"]["test"] == "assert square(3) == 9"
    assert records[3]["rejected"] == "tests_failed" and records[3]["failure"]["status"] == "exited_early"
    prompts = {b["messages"][-1]["content"].split("\n")[0] for b in server.requests("chat")
               if "square(x)" in b["messages"][-1]["content"]}
    assert prompts == {"用 Python 3 解答下面的编程题。先简要说明思路，然后在一个 ```python 代码块中给出完整的解答。",
                       "为下面这道编程题的正确 Python 解答写 5 个测试用例：放在一个 ```python 代码块里，每行一个 `assert` 语句。"
                       "调用题目给出的函数，写出准确的期望值，覆盖边界情况。不要写解答。"}  # Chinese problem, Chinese prompts


def test_keep_all_returns_every_candidate_as_data(server):
    records = run_recipe(CodeRecipe({**OPTIONS, "keep": "all"}), [ADD], server.base_url)
    assert [(r["correct"], r["rejected_solutions"] if not r["correct"] else "kept") for r in records] == [
        (True, "kept"), (False, []), (False, []), (False, [])]
    assert [r["execution"]["status"] for r in records] == ["passed", "tests_failed", "timeout", "no_code"]


def test_bad_options_and_rows_are_reported():
    with pytest.raises(ConfigError, match=r"options.limits.cpu_s"):
        CodeRecipe({"limits": {"cpu_s": 0}})
    with pytest.raises(ConfigError, match=r"options.limits.nope: unknown key"):
        CodeRecipe({"limits": {"nope": 1}})
    assert CodeRecipe({"tests": "given"}).required_fields() == ["problem", "tests"]


# -- through `synth run` ----------------------------------------------------------------------------
def synth_run(cfg: Path, url: str, out: Path, *extra: str) -> None:
    try:
        main(["run", str(cfg), "--base-url", url, "--out", str(out), "-q", *extra])
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code


def outcome(run_dir: Path) -> tuple[list, list]:
    kept = [r for f in sorted((run_dir / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    rejected = [json.loads(line) for line in (run_dir / "rejected.jsonl").read_text().splitlines()]
    return (sorted((r["problem"][:12], r["sample_index"]) for r in kept),
            sorted((r["record"]["problem"][:12], r["record"]["sample_index"], r["reason"]) for r in rejected))


def test_synth_run_keeps_rejects_pairs_and_resumes_without_running_anything_twice(tmp_path, server):
    write_jsonl(tmp_path / "problems.jsonl", [ADD, SUM_IO, SQUARE])
    cfg = write_config(tmp_path / "code.yaml", name="code", recipe="code", seeds="problems.jsonl", options=OPTIONS,
                       filters=[], export={"formats": ["messages", "dpo"]}, sampling={"max_tokens": 256})
    synth_run(cfg, server.base_url, tmp_path / "whole")
    kept, rejected = outcome(tmp_path / "whole")
    add, io, sq = ADD["problem"][:12], SUM_IO["problem"][:12], SQUARE["problem"][:12]
    assert kept == sorted([(add, 0), (io, 0), (io, 3), (sq, 0), (sq, 1)])
    assert rejected == sorted([(add, 1, "tests_failed"), (add, 2, "timeout"), (add, 3, "no_code"),
                               (io, 1, "tests_failed"), (io, 2, "resource_limit"), (sq, 2, "tests_failed"),
                               (sq, 3, "tests_failed")])
    failing = next(r for r in map(json.loads, (tmp_path / "whole" / "rejected.jsonl").read_text().splitlines())
                   if r["reason"] == "timeout")
    assert failing["stage"] == "recipe:code" and failing["record"]["failure"]["status"] == "timeout"
    dpo = [json.loads(line) for line in (tmp_path / "whole" / "exports" / "dpo.jsonl").read_text().splitlines()]
    assert len(dpo) == 5  # every kept solution has a failing partner with code
    assert {(d["chosen"][0]["content"], d["rejected"][0]["content"]) for d in dpo} >= {
        (SOLUTIONS["add(a, b)"][0], SOLUTIONS["add(a, b)"][1])}

    sent, executed = len(server.log), TOTALS.executed
    synth_run(cfg, server.base_url, tmp_path / "whole")              # the same run again: nothing to do
    synth_run(cfg, server.base_url, tmp_path / "whole", "--fresh")   # new records: answers and results cached
    assert len(server.log) - sent <= 2 and TOTALS.executed == executed  # at most the engine's probes
    assert outcome(tmp_path / "whole") == (kept, rejected)

    synth_run(cfg, server.base_url, tmp_path / "resumed", "--limit", "1")  # stopped after the first row
    synth_run(cfg, server.base_url, tmp_path / "resumed")                  # and resumed
    assert outcome(tmp_path / "resumed") == (kept, rejected)
