"""`RecipeRejectStage`: the records a recipe rejected itself (`"rejected": "<reason>"`) leave the flow
here, with that reason, so they land in rejected.jsonl and the stage counts like any other.

`rejected` means that reason and nothing else (None or "" on a kept record, dropped from it here);
what a recipe keeps for preference pairs goes under another key (`rejected_solutions`).
"""

from __future__ import annotations

from synth.schema import RecordSchemaError
from synth.stages.base import Stage


class RecipeRejectStage(Stage):
    """Records the recipe itself rejected (`"rejected": "<reason>"`, e.g. an unsupported answer)."""

    def __init__(self, recipe: str) -> None:
        self.recipe = recipe
        self.name = f"recipe:{recipe}"

    def apply(self, records):
        kept, dropped = [], []
        for record in records:
            reason = record.get("rejected")
            if isinstance(reason, str) and reason:
                dropped.append((record, reason, {}))
            elif reason is None or reason == "":
                kept.append({k: v for k, v in record.items() if k != "rejected"} if "rejected" in record else record)
            else:
                raise RecordSchemaError(
                    f"recipe {self.recipe!r} returned a record whose 'rejected' is a {type(reason).__name__}: "
                    "'rejected' holds the reason a record is rejected; put preference partners under "
                    "'rejected_solutions'")
        return kept, dropped

