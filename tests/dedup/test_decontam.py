"""Decontamination catches copied and lightly edited benchmark questions, ignores unrelated text."""

import json

import pytest

from synth.dedup import DecontamConfig, decontaminate
from synth.errors import InputError

Q1 = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
      "How many clips did Natalia sell altogether in April and May?")
Q2 = "求所有满足方程 x 的平方加上 2x 再减去 3 等于零的实数解，并写出完整的解题过程和最终答案。"


@pytest.fixture
def bench(tmp_path):
    p = tmp_path / "gsm.jsonl"
    p.write_text("".join(json.dumps({"id": i, "question": q, "answer": "72"}, ensure_ascii=False) + "\n"
                         for i, q in enumerate([Q1, Q2])))
    return str(p)


def test_copied_edited_and_unrelated(bench):
    rows = [
        {"id": "copy", "prompt": Q1},
        {"id": "edited", "prompt": "Q: " + Q1.upper().replace("Natalia", "Maria").replace("altogether", "in total")},
        {"id": "zh", "prompt": "请回答：" + Q2.replace("实数解", "全部实数解")},
        {"id": "unrelated", "prompt": "Write a poem about autumn leaves falling on a quiet river in April."},
    ]
    res = decontaminate(rows, DecontamConfig(benchmarks=[bench + ":question"], ngram=8))
    assert [r["id"] for r in res.kept] == ["unrelated"]
    hit = {d["id"]: d for d in res.dropped}
    assert hit["copy"]["benchmark_row"] == 0 and hit["copy"]["reason"] == "benchmark_overlap"
    assert hit["edited"]["benchmark"] == "gsm.jsonl" and hit["zh"]["benchmark_row"] == 1


def test_default_13_grams_need_a_longer_overlap(bench):
    short = {"id": "s", "prompt": "She sold clips to 48 of her friends in April, what else?"}  # 9 shared words
    assert decontaminate([short], DecontamConfig(benchmarks=[bench])).dropped == []
    assert len(decontaminate([short], DecontamConfig(benchmarks=[bench], ngram=8)).dropped) == 1


def test_missing_benchmark_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="benchmark file not found"):
        decontaminate([{"text": "x"}], DecontamConfig(benchmarks=[str(tmp_path / "nope.jsonl:question")]))
