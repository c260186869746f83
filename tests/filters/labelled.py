"""The labelled table (labelled.jsonl): good and bad rows in English, Chinese and a few other languages.

Each row names the filters that must reject it and the reason (`reject`), or none for a good row;
near-misses that must be kept say so in `note`; `known_miss` lists filters known to let a bad row
through (they count against recall and are marked xfail in test_table.py). `final-answer` is judged
on reasoning rows only (`kind: reasoning`), every other filter on every row.
"""

from __future__ import annotations

import json
from pathlib import Path

from synth.filter import Filter, as_decision, make_filter

TABLE = Path(__file__).with_name("labelled.jsonl")
FILTERS = ("truncation", "finish-reason", "length", "refusal", "template-leak", "lang-match", "repetition",
           "final-answer", "blocklist")
OPTIONS = {"blocklist": {"terms": ["Acme Corp", "竞品X", "青龙计划", r"re:\bpassword\s*[:=]"]}}


def load_table() -> list[dict]:
    return [json.loads(line) for line in TABLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def build(name: str) -> Filter:
    return make_filter(name, OPTIONS.get(name))


def in_scope(name: str, row: dict) -> bool:
    return name != "final-answer" or row["kind"] == "reasoning"


def decide(flt: Filter, row: dict) -> str | None:
    """The reason `flt` rejects the row with, or None when it keeps it."""
    verdict = as_decision(flt.filter(row["record"]), flt.name)
    return None if verdict.keep else verdict.reason


def precision_recall(rows: list[dict]) -> dict[str, dict]:
    """Per filter: rows in scope, true/false positives, false negatives, precision, recall."""
    out = {}
    for name in FILTERS:
        flt = build(name)
        tp = fp = fn = n = 0
        for row in rows:
            if not in_scope(name, row):
                continue
            n += 1
            rejected, should = decide(flt, row) is not None, name in row["reject"]
            tp += rejected and should
            fp += rejected and not should
            fn += should and not rejected
        out[name] = {"rows": n, "bad": tp + fn, "tp": tp, "fp": fp, "fn": fn,
                     "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
                     "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0}
    return out
