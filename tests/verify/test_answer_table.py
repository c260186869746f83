"""The answer table: benchmark-style gold/pred pairs with the verdict a careful grader gives.

``answer_table.jsonl`` rows: ``category``, ``gold``, ``pred``, ``expected`` (a status), where the
call is a decision rather than obvious a ``note``, and where it is not the default an ``order``
policy. Every row must pass; near misses (a rejected option named last, ``1,234`` vs ``1.234``, a
gold number mentioned while thinking) are labelled ``incorrect`` and must stay so.
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
    "multiple_choice", "choice_prose", "money", "chinese", "scientific", "text", "no_answer",
}


def _order(row: dict) -> str:
    return row.get("order", "tuples")


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
    verdict = check(row["gold"], row["pred"], order=_order(row))
    assert verdict.status == row["expected"], (row, verdict)


def test_check_many_agrees_with_the_table():
    for order in {_order(row) for row in TABLE}:
        rows = [row for row in TABLE if _order(row) == order]
        verdicts = check_many([(row["gold"], row["pred"]) for row in rows], order=order)
        wrong = [(row, v) for row, v in zip(rows, verdicts) if v.status != row["expected"]]
        assert wrong == []


def test_no_false_equal_on_the_table():
    """The count the benchmark reports: pairs labelled different that the checker calls equivalent."""
    different = [row for row in TABLE if row["expected"] != "correct"]
    assert len(different) >= 100
    verdicts = [check(row["gold"], row["pred"], order=_order(row)) for row in different]
    assert [row for row, v in zip(different, verdicts) if v.correct] == []


def test_the_new_kinds_are_covered_in_three_languages():
    categories = {row["category"] for row in TABLE}
    prose = " ".join(str(row["pred"]) for row in TABLE if row["category"] in ("solutions", "choice_prose"))
    assert {"solutions", "choice_prose", "decimal_comma", "money", "ordered"} <= categories
    assert "答案" in prose and "réponse" in prose and "the answer is" in prose.lower()
    assert any(len(str(row["pred"])) > 2000 and "</think>" in row["pred"] for row in TABLE)


def test_fast_categories_never_need_math_verify():
    for row in TABLE:
        if row["category"] in FAST_CATEGORIES:
            verdict = check(row["gold"], row["pred"], use_math_verify=False, order=_order(row))  # else "unverifiable"
            assert verdict.status == row["expected"], (row, verdict)
