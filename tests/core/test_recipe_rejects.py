"""Records a recipe rejects go to rejected.jsonl with their reason; `rejected` means nothing else."""

from __future__ import annotations

import pytest

from synth.schema import RecordSchemaError
from synth.stages import RecipeRejectStage


def test_string_reasons_are_rejected_and_the_key_leaves_kept_records():
    records = [{"id": "a", "rejected": "ungrounded_number"}, {"id": "b", "rejected": None}, {"id": "c"}]
    kept, rejected, report = RecipeRejectStage("doc-qa").run(records)
    assert [r["id"] for r in kept] == ["b", "c"] and all("rejected" not in r for r in kept)
    assert [(r["stage"], r["reason"], r["record"]["id"]) for r in rejected] == [
        ("recipe:doc-qa", "ungrounded_number", "a")]
    assert report.dropped == {"ungrounded_number": 1}


def test_rejected_is_a_reason_only():
    """DPO partners live under rejected_solutions; a list under `rejected` is a recipe bug, said in one line."""
    record = {"id": "r", "correct": True, "rejected_solutions": [{"solution": "wrong"}]}
    kept, rejected, _ = RecipeRejectStage("reasoning").run([record])
    assert kept == [record] and rejected == []
    with pytest.raises(RecordSchemaError, match="put preference partners under 'rejected_solutions'"):
        RecipeRejectStage("mine").run([{"id": "r", "rejected": [{"solution": "wrong"}]}])
