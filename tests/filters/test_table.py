"""Every filter against the labelled table: each verdict and reason, and precision / recall per filter."""

from __future__ import annotations

import pytest

from tests.filters.labelled import FILTERS, build, decide, in_scope, load_table, precision_recall

ROWS = load_table()
CASES = [(name, row) for row in ROWS for name in FILTERS if in_scope(name, row)]
_BUILT: dict = {}


def test_the_table_has_both_languages_and_near_misses():
    langs = {r["lang"] for r in ROWS}
    assert {"en", "zh"} <= langs and len(langs) >= 5
    near = [r for r in ROWS if "near-miss" in r["note"]]
    assert sum(r["lang"] == "zh" for r in near) >= 8 and sum(r["lang"] == "en" for r in near) >= 8
    for name in FILTERS:  # every filter has bad rows to catch, in English and in Chinese
        assert {r["lang"] for r in ROWS if name in r["reject"]} >= {"en", "zh"}, name


# a known miss is a strict xfail: a filter that starts catching it fails here until the table is updated
PARAMS = [pytest.param(name, row, id=f"{name}-{row['id']}",
                       marks=[pytest.mark.xfail(strict=True, reason=row["note"])]
                       if name in row.get("known_miss", ()) else [])
          for name, row in CASES]


@pytest.mark.parametrize("name,row", PARAMS)
def test_verdict(name, row):
    flt = _BUILT.setdefault(name, build(name))
    assert decide(flt, row) == row["reject"].get(name)


def test_precision_and_recall():
    scores = precision_recall(ROWS)
    for name, s in scores.items():
        assert s["precision"] == 1.0, (name, s)  # no near-miss and no other filter's bad row is hit
        assert s["recall"] >= 0.8 and s["bad"] >= 4, (name, s)
    assert scores["truncation"]["fn"] == 2 and scores["refusal"]["fn"] == 1  # the known misses, counted
