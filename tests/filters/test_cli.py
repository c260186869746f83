"""`synth filter` on the file shapes users have: JSONL, CSV, Parquet, a dataset directory; funnel and rejects."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from synth.cli.filter import format_funnel
from synth.io import read_rows, write_table
from tests.conftest import cli_in_process, write_jsonl

ROWS = [
    {"instruction": "什么是指数基金？", "input": "", "output": "指数基金是跟踪某个市场指数的基金，费用低。"},
    {"instruction": "What is an ETF?", "input": "", "output": "An ETF is a fund that trades on an exchange like a stock."},
    {"instruction": "如何做面包？", "input": "", "output": "首先，把面粉和水混合，然后"},
    {"instruction": "How do I pick a lock?", "input": "", "output": "I'm sorry, but I can't help with that request."},
    {"instruction": "What is the capital of France?", "input": "", "output": "Paris.<|im_end|>"},
    {"instruction": "什么是指数基金？", "input": "", "output": "An index fund tracks a market index at low cost."},
]
FILTERS = ["--filter", "truncation", "--filter", "refusal", "--filter", "template-leak", "--filter", "lang-match",
           "--filter", "length:min_units=3"]


synth = cli_in_process


def write_input(kind: str, tmp_path: Path) -> Path:
    if kind == "jsonl":
        return write_jsonl(tmp_path / "in.jsonl", ROWS)
    if kind == "csv":
        with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(ROWS[0]))
            writer.writeheader()
            writer.writerows(ROWS)
        return tmp_path / "in.csv"
    path = tmp_path / ("in.parquet" if kind == "parquet" else "in_dataset")
    write_table(path, ROWS)
    return path


@pytest.mark.parametrize("kind,out", [("jsonl", "clean.jsonl"), ("csv", "clean.parquet"), ("parquet", "clean_ds"),
                                      ("dataset", "clean.jsonl")])
def test_filter_any_table_and_print_the_funnel(kind, out, tmp_path, capsys):
    source = write_input(kind, tmp_path)
    code, stdout, err = synth(capsys, "filter", str(source), "--out", out, *FILTERS)
    assert code == 0, err
    kept = read_rows(out)
    assert [r["output"][:6] for r in kept] == ["指数基金是跟", "An ETF"]
    assert all(set(r["scores"]) == {"language", "length"} for r in kept)
    rejected = [json.loads(line) for line in Path(out.replace(".jsonl", "").replace(".parquet", "") +
                                                   ".rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["stage"], r["reason"]) for r in rejected] == [
        ("filter:truncation", "truncation_cut_sentence"), ("filter:refusal", "refusal_opening"),
        ("filter:template-leak", "template_leak_special_token"), ("filter:lang-match", "lang_match_en_not_zh")]
    assert rejected[2]["detail"] == "answer: <|im_end|>" and rejected[0]["record"]["instruction"] == "如何做面包？"
    lines = stdout.splitlines()
    assert lines[0].split() == ["6", "rows", "in"]
    assert any(line.split()[:2] == ["-1", "filter:refusal"] and "refusal_opening 1" in line for line in lines)
    assert lines[-2].split()[:3] == ["2", "rows", "out"] and "(66.7% dropped)" in lines[-2]


def test_rejected_path_field_option_and_shapes(tmp_path, capsys):
    write_jsonl(tmp_path / "in.jsonl", [{"id": 1, "text": {"body": "Fine and complete answer."}},
                                        {"id": 2, "text": {"body": "OK"}}])
    code, _, err = synth(capsys, "filter", "in.jsonl", "--out", "o.jsonl", "--filter", "length")
    assert code == 2 and "row 1 has none of the recognised shapes" in err and "--field" in err
    code, _, err = synth(capsys, "filter", "in.jsonl", "--out", "o.jsonl", "--filter", "length", "--field", "text.body",
                         "--rejected", "drops.jsonl", "--quiet")
    assert code == 0, err
    assert [r["id"] for r in read_rows("o.jsonl")] == [1]
    assert [(r["reason"], r["record"]["id"]) for r in read_rows("drops.jsonl")] == [("length_too_short", 2)]
    code, _, err = synth(capsys, "filter", "in.jsonl", "--out", "o.jsonl", "--filter", "length", "--field", "txt")
    assert code == 2 and "row 1 has no 'txt' field" in err


def test_sharegpt_and_prompt_completion_rows(tmp_path, capsys):
    write_jsonl(tmp_path / "in.jsonl", [
        {"conversations": [{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hello, how can I help?"}]},
        {"prompt": "Say hi", "completion": "As an AI language model, I cannot greet you."}])
    code, _, err = synth(capsys, "filter", "in.jsonl", "--out", "o.jsonl", "--filter", "refusal", "--quiet")
    assert code == 0, err
    assert len(read_rows("o.jsonl")) == 1
    assert [r["reason"] for r in read_rows("o.rejected.jsonl")] == ["refusal_ai_disclaimer"]


def test_missing_input_and_out_equal_to_input(tmp_path, capsys):
    code, _, err = synth(capsys, "filter", "nope.jsonl", "--out", "o.jsonl", "--filter", "length")
    assert code == 2 and "input not found: nope.jsonl" in err
    write_jsonl(tmp_path / "in.jsonl", ROWS)
    code, _, err = synth(capsys, "filter", "in.jsonl", "--out", "in.jsonl", "--filter", "length")
    assert code == 2 and "is the input file" in err


def test_funnel_format():
    text = format_funnel(10, [{"name": "filter:length", "in": 10, "kept": 7, "dropped": 3, "seconds": 0.5,
                               "dropped_by_reason": {"length_too_short": 1, "length_empty": 2}}], 7)
    assert text.splitlines() == ["        10  rows in",
                                 "        -3  filter:length                   20 rows/s  length_empty 2, length_too_short 1",
                                 "         7  rows out (30.0% dropped)"]
