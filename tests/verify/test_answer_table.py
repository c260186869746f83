"""The answer table: benchmark-style gold/pred pairs with the verdict a careful grader gives.

``answer_table.jsonl`` rows: ``category``, ``gold``, ``pred``, ``expected`` (a status) and, where
the call is a decision rather than obvious, a ``note``. Every row must pass.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from synth.verify import check, check_many

TABLE = [json.loads(line) for line in (Path(__file__).parent / "answer_table.jsonl").open(encoding="utf-8")]
# Categories whose pairs are all plain numbers, letters or words: never worth a sympy call.
FAST_CATEGORIES = {
    "integer_separators", "decimals", "fractions", "units", "currency", "percentages",
    "multiple_choice", "chinese", "scientific", "text", "no_answer",
}


def test_table_is_big_and_balanced():
    assert len(TABLE) >= 150
    by_category = Counter(row["category"] for row in TABLE)
    assert len(by_category) >= 14
    for category in by_category:
        expected = {row["expected"] for row in TABLE if row["category"] == category}
        if category != "no_answer":
            assert {"correct", "incorrect"} <= expected, category


@pytest.mark.parametrize("row", TABLE, ids=[f"{r['category']}-{i}" for i, r in enumerate(TABLE)])
def test_row(row):
    verdict = check(row["gold"], row["pred"])
    assert verdict.status == row["expected"], (row, verdict)


def test_check_many_agrees_with_the_table():
    verdicts = check_many([(row["gold"], row["pred"]) for row in TABLE])
    wrong = [(row, v) for row, v in zip(TABLE, verdicts) if v.status != row["expected"]]
    assert wrong == []


def test_fast_categories_never_need_math_verify():
    for row in TABLE:
        if row["category"] in FAST_CATEGORIES:
            verdict = check(row["gold"], row["pred"], use_math_verify=False)  # else "unverifiable"
            assert verdict.status == row["expected"], (row, verdict)
