"""Near-duplicate questions across chunks, decided once over the whole run.

Within a chunk the recipe drops them before answering (its slots are in a fixed order). Across chunks
the rows run concurrently and a run may be resumed, so "the first one seen" would depend on which row
finished first and on what the current session happens to hold. This stage decides instead over every
record the recipe kept, in one order: seed row key, then record id (both hashes of content). Every
run of a config, resumed or not, keeps the same question of each near-duplicate group. The price: a
duplicate across chunks has been answered by then.
"""

from __future__ import annotations

from synth.stages.base import Stage
from synth.recipes.doc_qa.questions import QuestionIndex


class QuestionDedupStage(Stage):
    """Drops (`question_near_duplicate`, with `duplicate_of` on the record) each question whose
    MinHash Jaccard with one met earlier in (seed_key, id) order reaches `threshold`."""

    def __init__(self, recipe: str, threshold: float) -> None:
        self.name = f"recipe:{recipe}:question-dedup"
        self.threshold = threshold

    def apply(self, records):
        index = QuestionIndex(self.threshold)
        order = sorted(range(len(records)),
                       key=lambda i: (str(records[i].get("seed_key") or ""), str(records[i].get("id") or ""), i))
        duplicates = {}
        for i in order:
            record = records[i]
            if record.get("question"):
                found = index.check_add(record["question"], (record.get("chunk") or {}).get("id"))
                if found is not None:
                    duplicates[i] = found.as_dict()
        kept = [r for i, r in enumerate(records) if i not in duplicates]
        dropped = [({**r, "duplicate_of": duplicates[i]}, "question_near_duplicate", {})
                   for i, r in enumerate(records) if i in duplicates]
        return kept, dropped
