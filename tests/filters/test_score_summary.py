"""A streamed filter's score summaries hold the same memory at 8k and 80k rows, stay exact where they
can (counts, mean, min, max; everything up to SAMPLE values), and resume and merge."""

import pickle
import random

from synth.filter import make_filter
from synth.score_summary import SAMPLE, ScoreSummary
from synth.stages import FilterStage
from synth.stages.filter import summarize_scores


def _values(n, seed=0):
    rng = random.Random(seed)
    return [None if rng.random() < 0.05 else round(rng.lognormvariate(3, 1), 3) for _ in range(n)]


def _quartiles(values):
    s = summarize_scores(values)
    return s["p25"], s["p50"], s["p75"]


def test_memory_held_for_the_report_does_not_grow_with_rows():
    sizes, values = {}, _values(80_000)
    acc = ScoreSummary()
    for i, v in enumerate(values, 1):
        acc.add(v)
        if i in (8_000, 80_000):
            sizes[i] = len(pickle.dumps(acc))
    assert sizes[80_000] < 1.05 * sizes[8_000]  # ten times the rows, the same memory
    got, exact = acc.summary(), summarize_scores(values)
    assert {k: got[k] for k in ("n", "missing", "mean", "min", "max")} == {
        k: exact[k] for k in ("n", "missing", "mean", "min", "max")}
    assert got["sample"] == {"size": SAMPLE, "of": 80_000}
    for q, e in zip((got["p25"], got["p50"], got["p75"]), _quartiles(values)):
        assert abs(q - e) / e < 0.05  # a 4,096-value sample's quartiles, within 5 % here


def test_a_streamed_filter_stage_keeps_bounded_summaries():
    rows = [{"instruction": "Explain it in detail.", "output": "word " * (1 + i % 50)} for i in range(3 * SAMPLE)]
    stage = FilterStage(make_filter("length"))
    stage._acc = {}
    sizes = []
    for start in range(0, len(rows), 2048):
        stage.run(rows[start:start + 2048])
        sizes.append(len(pickle.dumps(stage._acc)))
    summary = stage._summaries["length"]
    assert summary["n"] == len(rows) and summary["min"] == 1 and summary["max"] == 50
    assert summary["mean"] == round(sum(1 + i % 50 for i in range(len(rows))) / len(rows), 4)
    assert sizes[-1] < 1.05 * sizes[1]  # from 4,096 rows on, no growth


def test_up_to_the_sample_size_the_summary_is_the_whole_lists():
    for values in (_values(1000), ["en", "zh", "en", None, "fr"], [True, None, True]):
        acc = ScoreSummary()
        acc.extend(values)
        assert acc.summary() == summarize_scores(values)


def test_a_resumed_summary_equals_an_unbroken_one():
    values = _values(3 * SAMPLE, seed=1)
    whole = ScoreSummary()
    whole.extend(values)
    first = ScoreSummary()
    first.extend(values[:5000])
    resumed = ScoreSummary.from_state(pickle.loads(pickle.dumps(first.state())))
    resumed.extend(values[5000:])
    assert resumed.summary() == whole.summary() and resumed.sample() == whole.sample()


def test_merged_partials_keep_exact_counts():
    values = _values(20_000, seed=2)
    labels = [random.Random(i).choice(["en", "zh", "fr"]) for i in range(9000)]
    merged, merged_labels = ScoreSummary(-1), ScoreSummary(-1)
    for k in range(3):
        part, part_labels = ScoreSummary(k + 1), ScoreSummary(k + 1)
        part.extend(values[k::3])
        part_labels.extend(labels[k::3])
        merged.merge(ScoreSummary.from_state(part.state()))
        merged_labels.merge(part_labels)
    exact = summarize_scores(values)
    got = merged.summary()
    assert (got["n"], got["missing"], got["min"], got["max"]) == (exact["n"], exact["missing"], exact["min"], exact["max"])
    assert abs(got["mean"] - exact["mean"]) < 1e-3 and len(merged.sample()) == SAMPLE
    assert merged_labels.summary() == summarize_scores(labels)


def test_merged_sample_is_in_stream_order():
    """Below SAMPLE values a merged summary's sample is every value, self's then other's, in arrival order
    (a filter's own `summarize` may read it in order), also after a round trip through its state."""
    from synth.score_summary import ScoreSummary

    a, b, c = ScoreSummary(1), ScoreSummary(2), ScoreSummary(3)
    a.extend(range(100))
    b.extend(range(100, 300))
    c.extend(range(300, 350))
    a.merge(ScoreSummary.from_state(b.state()))
    a.merge(c)
    assert a.sample() == list(range(350))
    assert ScoreSummary.from_state(a.state()).sample() == list(range(350))
