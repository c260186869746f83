"""`RecipeRejectStage`: the records a recipe rejected itself (`"rejected": "<reason>"`) leave the flow
here, with that reason, so they land in rejected.jsonl and the stage counts like any other.
"""

from __future__ import annotations

from synth.stages.base import Stage


class RecipeRejectStage(Stage):
    """Records the recipe itself rejected (`"rejected": "<reason>"`, e.g. an unsupported answer)."""

    def __init__(self, recipe: str) -> None:
        self.name = f"recipe:{recipe}"

    def apply(self, records):
        kept, dropped = [], []
        for record in records:
            reason = record.get("rejected")
            if isinstance(reason, str) and reason:
                dropped.append((record, reason, {}))
            elif "rejected" in record and (reason is None or isinstance(reason, str)):
                kept.append({k: v for k, v in record.items() if k != "rejected"})
            else:  # another meaning of the key (reasoning keeps wrong solutions there as DPO partners)
                kept.append(record)
        return kept, dropped

