"""Known-answer dedup: identical, near and far pairs in English and Chinese; index persistence."""

import random

import pytest

from synth.dedup import DedupConfig, choose_params, dedup_rows, probability
from synth.errors import ConfigError, InputError

from .conftest import chinese, english, light_edit


def _ids(rows):
    return [r["id"] for r in rows]


def test_default_curve_catches_light_edits():
    cfg = DedupConfig(near=True)
    assert cfg.params == (32, 4) == choose_params(0.6, 128)
    assert probability(0.6, *cfg.params) > 0.98 and probability(0.2, *cfg.params) < 0.05
    assert str(cfg) == "3ng_128p_32b_4r_s1_t0.6"


@pytest.mark.parametrize("make", [english, chinese])
def test_identical_near_far(make):
    rng = random.Random(1)
    a = make(rng)
    rows = [{"id": "a", "text": a}, {"id": "exact", "text": a.upper() + " !"},
            {"id": "near", "text": light_edit(a, rng)}, {"id": "far", "text": make(rng)}]
    res = dedup_rows(rows, DedupConfig(near=True, workers=1))
    assert _ids(res.kept) == ["a", "far"]
    by_id = {d["id"]: d for d in res.dropped}
    assert by_id["exact"]["reason"] == "exact_duplicate" and by_id["exact"]["duplicate_of"] == "a"
    assert by_id["near"]["reason"] == "near_duplicate" and by_id["near"]["duplicate_of"] == "a"
    assert 0.6 <= by_id["near"]["similarity"] < 1.0


def test_planted_pairs_recall_precision_and_partition(planted):
    rows, pairs = planted
    res = dedup_rows(rows, DedupConfig(near=True, workers=1))
    dropped = {d["id"]: d for d in res.dropped}
    assert all(dropped[c]["duplicate_of"] == o for o, c in pairs)  # every copy caught, pointing home
    assert set(dropped) == {c for _, c in pairs}  # nothing unrelated dropped
    # every input row is in exactly one of kept/dropped
    assert sorted(_ids(res.kept) + list(dropped)) == sorted(_ids(rows))
    assert res.report["rows_kept"] == len(res.kept) and res.report["dropped_near"] == len(pairs)


def test_exact_and_near_stages_never_lose_or_duplicate_rows():
    rng = random.Random(3)
    base = [english(rng, 12) for _ in range(30)]
    rows = [{"id": i, "text": rng.choice(base) if rng.random() < 0.5 else light_edit(rng.choice(base), rng, 0.1)}
            for i in range(400)] + [{"id": 400 + i, "text": ""} for i in range(3)]
    res = dedup_rows(rows, DedupConfig(near=True, workers=1))
    ids = _ids(res.kept) + _ids(res.dropped)
    assert sorted(ids) == list(range(403))
    kept = set(_ids(res.kept))
    assert all(d["duplicate_of"] in kept for d in res.dropped)  # always points at a survivor
    assert {d["reason"] for d in res.dropped} == {"exact_duplicate", "near_duplicate"}


def test_keep_longest_and_positions_as_ids():
    rows = [{"text": "one two three four five six seven eight nine ten"},
            {"text": "one two three four five six seven eight nine ten eleven"}]
    res = dedup_rows(rows, DedupConfig(near=True, keep="longest", workers=1))
    assert res.kept == [rows[1]] and res.dropped[0]["duplicate_of"] == 1


def test_messages_are_compared_by_content():
    msgs = lambda q: {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "Sure."}]}
    rows = [msgs("Explain photosynthesis to a child in three short sentences please"),
            msgs("explain PHOTOSYNTHESIS to a child, in three short sentences please!"),
            msgs("Write a haiku about the sea at night and the moon above it")]
    res = dedup_rows(rows, DedupConfig(near=True, workers=1))
    assert len(res.kept) == 2 and res.report["params"]["fields"] == ["messages"]


def test_index_persisted_then_reloaded_gives_same_decisions(planted, tmp_path):
    rows, _ = planted
    whole = dedup_rows(rows, DedupConfig(near=True, workers=1))
    ix = str(tmp_path / "ix")
    first = dedup_rows(rows[:60], DedupConfig(near=True, index=ix, workers=1))
    second = dedup_rows(rows[60:], DedupConfig(near=True, index=ix, workers=1))
    assert _ids(first.kept) + _ids(second.kept) == _ids(whole.kept)
    assert second.report["dropped_vs_index"] > 0
    assert all(d["duplicate_in"] == "index" for d in second.dropped if d["duplicate_of"].startswith("o"))
    assert second.report["index"]["rows_after"] == len(whole.kept)
    assert second.report["index"]["bytes_per_row"] <= 200
    # re-running the same rows against the index drops all of them
    again = dedup_rows(rows, DedupConfig(near=True, index=ix, workers=1))
    assert again.kept == [] and len(again.dropped) == len(rows)


def test_index_built_with_other_params_is_refused(tmp_path):
    dedup_rows([{"text": "a b c d"}], DedupConfig(near=True, index=str(tmp_path / "ix"), workers=1))
    with pytest.raises(ConfigError, match="built with 3ng_128p"):
        dedup_rows([{"text": "a b c d"}], DedupConfig(near=True, index=str(tmp_path / "ix"), num_perm=64))


def test_bad_config_and_field():
    with pytest.raises(ValueError, match="exceeds num_perm"):
        DedupConfig(near=True, bands=40, rows=4)
    with pytest.raises(InputError, match="field 'nope' is in no row"):
        dedup_rows([{"text": "x"}], DedupConfig(near=True, fields=["nope"]))
