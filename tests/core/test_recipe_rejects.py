"""Records a recipe rejects go to rejected.jsonl with their reason; other uses of the key are left alone."""

from __future__ import annotations

from synth.stages import RecipeRejectStage


def test_string_reasons_are_rejected_and_the_key_leaves_kept_records():
    records = [{"id": "a", "rejected": "ungrounded_number"}, {"id": "b", "rejected": None}, {"id": "c"}]
    kept, rejected, report = RecipeRejectStage("doc-qa").run(records)
    assert [r["id"] for r in kept] == ["b", "c"] and all("rejected" not in r for r in kept)
    assert [(r["stage"], r["reason"], r["record"]["id"]) for r in rejected] == [
        ("recipe:doc-qa", "ungrounded_number", "a")]
    assert report.dropped == {"ungrounded_number": 1}


def test_a_list_of_dpo_partners_is_not_a_rejection():
    record = {"id": "r", "correct": True, "rejected": [{"solution": "wrong"}]}
    kept, rejected, _ = RecipeRejectStage("reasoning").run([record])
    assert kept == [record] and rejected == []
