"""The card's statistics in bounded memory: length histograms whose counts and percentiles are known,
and one pass over the records that counts what a list comprehension over them would."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from synth import spool
from synth.hub.stats import EXACT_BELOW, Lengths, collect, compute


def nearest_rank(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(len(ordered) * q))) - 1]


def test_lengths_count_each_length_below_65536_and_bin_longer_ones_1_percent_wide():
    h = Lengths.of([0, 1, 1, 65_535, 65_536, 70_000])
    at, counts = h.points()
    # 70,000 lies in [65536 * 1.01**6, 65536 * 1.01**7) = [69567.6, 70263.3): drawn at 69,568
    assert list(zip(at.tolist(), counts.tolist())) == [(0, 1), (1, 2), (65_535, 1), (65_536, 1), (69_568, 1)]
    assert h.summary() == {"count": 6, "mean": 33512.2, "min": 0, "p50": 1, "p90": 69_568,
                           "max": 70_000}


def test_values_added_one_by_one_across_batches_count_as_a_list_does():
    values = [random.Random(1).randint(0, 5000) for _ in range(3 * Lengths.FLUSH + 17)]
    h = Lengths()
    for v in values:
        h.add(v)
    assert h.summary() == Lengths.of(values).summary()
    assert h.count == len(values) and int(h.points()[1].sum()) == len(values)


def test_percentiles_are_exact_below_65536_and_at_most_1_percent_low_above():
    rnd = random.Random(7)
    values = [int(rnd.lognormvariate(9.5, 1.5)) for _ in range(20_000)]  # median ~13 k, a third above 65,536
    h = Lengths.of(values)
    checked_wide = 0
    for q in (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0):
        true = nearest_rank(values, q)
        if true < EXACT_BELOW:
            assert h.percentile(q) == true, q
        else:
            checked_wide += 1
            assert 0.99 * true <= h.percentile(q) <= true, q
    assert checked_wide >= 2
    assert (h.min, h.max, h.total) == (min(values), max(values), sum(values))


def records() -> list[dict]:
    """Nine kept records of four seed rows (seed row "b" in two separate places), in three languages."""
    def rec(seed, user, answer, **extra):
        return {"seed_key": seed, "messages": [{"role": "user", "content": user},
                                               {"role": "assistant", "content": answer}], **extra}
    return [
        rec("a", "How many apples?", "Seven.", verification={"status": "correct"}, correct=True,
            steps=[{"label": 1}, {"label": 0}, {"text": "no label"}]),
        rec("a", "How many apples?", "Eight.", verification={"status": "incorrect"}, correct=False),
        rec("b", "小明有几个苹果？", "七个。", steps=[{"label": 0.5}]),
        rec("c", "Сколько яблок?", "Семь."),
        rec("b", "小明有几个苹果？", "八个。", verification={"status": "correct"}),
        rec("b", "小明有几个苹果？", "九个。"),
        rec("d", "12 + 3", "15"),
        rec("a", "How many pears?", "Two."),
        rec("c", "Сколько груш?", "Две."),
    ]


@pytest.mark.parametrize("memory_keys", [2, 1000], ids=["seed counts on disk", "seed counts in memory"])
def test_one_pass_counts_languages_checks_steps_and_seed_rows(monkeypatch, tmp_path, memory_keys):
    monkeypatch.setattr(spool, "MEMORY_KEYS", memory_keys)
    stats, lengths = collect(records(), seed_rows=6, dedup=None, recipe="reasoning", scratch=tmp_path)
    assert stats["kept"] == 9
    assert stats["languages"] == {"en": 3, "zh": 3, "ru": 2}  # "12 + 3" / "15" has no letters
    assert stats["verification"] == {"correct": 2, "incorrect": 1}
    assert stats["correct"] == {"correct": 1, "incorrect": 8}, "once any record says, every record counts"
    assert stats["step_labels"] == {"records": 2, "steps": 4, "positive": 2, "negative": 1, "unlabelled": 1}
    # a: 3 records, b: 3 (not next to each other), c: 2, d: 1; two of six seed rows kept nothing
    assert stats["seed_coverage"] == {"seed_rows": 6, "seed_rows_with_kept_records": 4,
                                      "kept_per_seed_row": {"0": 2, "1": 1, "2": 1, "3": 2}}
    # responses: 2, 3, 3, 3, 4, 4, 5, 6, 6 characters
    assert stats["lengths"]["response"] == {"count": 9, "mean": 4.0, "min": 2, "p50": 4, "p90": 6,
                                            "max": 6}
    assert lengths["prompt"].count == 9 and lengths["prompt"].max == len("How many apples?")
    assert list(tmp_path.iterdir()) == [], "the scratch file is removed"


def test_no_records_and_no_correct_field():
    stats = compute([], seed_rows=3, dedup=None, recipe="instruct")
    assert stats["kept"] == 0 and stats["correct"] is None and stats["step_labels"] is None
    assert stats["lengths"]["prompt"] == {"count": 0, "mean": 0.0, "min": 0, "p50": 0, "p90": 0, "max": 0}
    assert stats["seed_coverage"]["kept_per_seed_row"] == {"0": 3}
    assert compute(records()[3:4], seed_rows=1, dedup=None, recipe="x")["correct"] is None


def test_a_large_spilled_tally_matches_a_counter(tmp_path):
    rnd = random.Random(3)
    keys = [f"{rnd.randrange(30_000):016x}" for _ in range(120_000)]
    with spool.Tally(tmp_path, memory_keys=5_000) as tally:
        for key in keys:
            tally.add(key)
        per_key = Counter(keys)
        assert len(tally) == len(per_key)
        assert tally.histogram() == dict(sorted(Counter(per_key.values()).items()))
        assert len(list(tmp_path.glob(".keys-*.sqlite"))) == 1
    assert list(tmp_path.iterdir()) == []
