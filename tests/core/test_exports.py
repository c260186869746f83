"""Export views: the shapes LLaMA-Factory, ms-swift and TRL load, with reasoning kept apart or inlined."""

from __future__ import annotations

import json

import pytest

from synth.exports import FORMATS, to_alpaca, to_messages, to_sharegpt, write_dataset_info
from tests.conftest import synth_cli, write_config, write_jsonl

TWO_TURNS = {"messages": [{"role": "system", "content": "你是理财顾问。"},
                          {"role": "user", "content": "什么是定投？"}, {"role": "assistant", "content": "定期定额投资。"},
                          {"role": "user", "content": "适合谁？"}, {"role": "assistant", "content": "收入稳定的人。"}],
             "reasoning": "先解释概念。"}


def test_alpaca_puts_earlier_turns_in_history_and_the_system_apart():
    row = to_alpaca(TWO_TURNS, "drop")
    assert row == {"instruction": "适合谁？", "input": "", "output": "收入稳定的人。", "system": "你是理财顾问。",
                   "history": [["什么是定投？", "定期定额投资。"]]}


def test_sharegpt_alternates_human_and_gpt_as_llamafactory_requires():
    row = to_sharegpt(TWO_TURNS, "field")
    roles = [t["from"] for t in row["conversations"]]
    assert roles == ["human", "gpt", "human", "gpt"] and row["system"] == "你是理财顾问。"
    assert row["reasoning"] == "先解释概念。"


@pytest.mark.parametrize("mode, answer, has_field", [
    ("think", "<think>\n先解释概念。\n</think>\n\n收入稳定的人。", False),
    ("field", "收入稳定的人。", True),
    ("drop", "收入稳定的人。", False)])
def test_reasoning_modes(mode, answer, has_field):
    row = to_messages(TWO_TURNS, mode)
    assert row["messages"][-1]["content"] == answer and row["messages"][0]["role"] == "system"
    assert ("reasoning" in row) is has_field
    assert TWO_TURNS["messages"][-1]["content"] == "收入稳定的人。", "the record itself is never changed"


@pytest.mark.parametrize("record", [{"problem": "x"}, {"messages": [{"role": "user", "content": "q"}]},
                                    {"messages": [{"role": "assistant", "content": "a"},
                                                  {"role": "user", "content": "q"}]}])
def test_records_that_are_not_a_finished_chat_are_skipped(record):
    assert all(fn(record, "field") is None for fn in FORMATS.values())


def test_dataset_info_names_files_and_columns_that_exist(tmp_path):
    for fmt in ("llamafactory", "alpaca"):
        write_jsonl(tmp_path / f"{fmt}.jsonl", [FORMATS[fmt](TWO_TURNS, "think")])
    info = json.loads(write_dataset_info(tmp_path, "fin", ["llamafactory", "alpaca"]).read_text())
    assert set(info) == {"fin", "fin_alpaca"}
    for entry in info.values():
        row = json.loads((tmp_path / entry["file_name"]).read_text().splitlines()[0])
        for column in entry["columns"].values():
            assert column in row, (entry, column)
    tags = info["fin"]["tags"]
    convo = json.loads((tmp_path / "llamafactory.jsonl").read_text())["conversations"]
    assert {t[tags["role_tag"]] for t in convo} == {tags["user_tag"], tags["assistant_tag"]}


def test_a_run_writes_every_format_and_dataset_info(tmp_path, llm_server):
    write_jsonl(tmp_path / "s.jsonl", [{"instruction": "Name a fruit."}, {"instruction": "说一种颜色。"}])
    cfg = write_config(tmp_path / "r.yaml", name="exp", recipe="instruct", seeds="s.jsonl", dedup=None,
                       sampling={"max_tokens": 8},
                       export={"formats": ["alpaca", "sharegpt", "llamafactory", "ms_swift"], "reasoning": "think"})
    proc = synth_cli("run", str(cfg), "--base-url", llm_server, "-q")
    assert proc.returncode == 0, proc.stderr
    exports = tmp_path / "runs" / "exp" / "exports"
    rejected = (tmp_path / "runs" / "exp" / "rejected.jsonl").read_text().splitlines()
    n_kept = 2 - len(rejected)
    for fmt in ("alpaca", "sharegpt", "llamafactory", "ms_swift"):
        assert len((exports / f"{fmt}.jsonl").read_text().splitlines()) == n_kept
    info = json.loads((exports / "dataset_info.json").read_text())
    assert info["exp"]["file_name"] == "llamafactory.jsonl" and info["exp_alpaca"]["file_name"] == "alpaca.jsonl"
    from datasets import load_dataset

    ds = load_dataset("json", data_files=str(exports / "alpaca.jsonl"), split="train")
    assert set(ds.column_names) >= {"instruction", "input", "output", "system", "history"}


def test_an_unknown_export_format_is_one_line(tmp_path):
    write_jsonl(tmp_path / "s.jsonl", [{"instruction": "x"}])
    cfg = write_config(tmp_path / "r.yaml", name="e", recipe="instruct", seeds="s.jsonl",
                       export={"formats": ["alpacca"]})
    proc = synth_cli("run", str(cfg), "-q")
    assert proc.returncode == 2 and "alpacca" in proc.stderr and "alpaca" in proc.stderr
    assert not (tmp_path / "runs").exists()
