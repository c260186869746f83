"""Near-duplicate items across the run, decided once over all kept records (as doc-qa decides its
questions, recipes/doc_qa/duplicates.py): in seed-key then record-id order, so neither the order rows
finish in nor a resume changes which item is kept. Per format, on the item's question (a cloze's masked
sentence, a true/false's original statement), MinHash on character / word bigrams (doc-qa's
QuestionIndex). A true/false pair goes together: when its statement duplicates an earlier one, its
altered twin is dropped too. Items and their answers come from one call, so a duplicate has been paid
for; what the stage saves is an evaluation set that asks the same thing twice (or trains on what it tests).
"""

from __future__ import annotations

from synth.recipes.doc_qa.questions import QuestionIndex
from synth.stages.base import Stage


class ItemDedupStage(Stage):
    """Drops (`item_near_duplicate`, with `duplicate_of` on the record) each item whose question's
    estimated Jaccard with an earlier item of the same format reaches `threshold`."""

    def __init__(self, recipe: str, threshold: float) -> None:
        self.name = f"recipe:{recipe}:item-dedup"
        self.threshold = threshold

    def apply(self, records):
        indexes: dict[str, QuestionIndex] = {}
        order = sorted(range(len(records)),
                       key=lambda i: (str(records[i].get("seed_key") or ""), str(records[i].get("id") or ""), i))
        duplicates: dict[int, dict] = {}
        dropped_pairs: dict[tuple, dict] = {}
        for i in order:
            r = records[i]
            if not r.get("question") or (r.get("format") == "true_false" and r.get("variant") == "altered"):
                continue
            index = indexes.setdefault(r.get("format") or "", QuestionIndex(self.threshold))
            found = index.check_add(r["question"], (r.get("chunk") or {}).get("id"))
            if found is not None:
                duplicates[i] = found.as_dict()
                if r.get("format") == "true_false":
                    dropped_pairs[(r.get("seed_key"), r.get("slot"))] = duplicates[i]
        for i, r in enumerate(records):
            if r.get("format") == "true_false" and r.get("variant") == "altered":
                twin = dropped_pairs.get((r.get("seed_key"), r.get("slot")))
                if twin is not None:
                    duplicates[i] = twin
        kept = [r for i, r in enumerate(records) if i not in duplicates]
        dropped = [({**r, "duplicate_of": duplicates[i]}, "item_near_duplicate", {})
                   for i, r in enumerate(records) if i in duplicates]
        return kept, dropped


class FormatBalanceStage(Stage):
    """``balance_formats``: as many items of each format as of the scarcest one that has any (a true/false
    pair counts as one item, and goes together); which ones stay is drawn by a hash of the record id, so
    they spread over the corpus rather than filling from its first chunks, the same on every run.
    Dropped: `format_surplus`."""

    def __init__(self, recipe: str) -> None:
        self.name = f"recipe:{recipe}:format-balance"

    def apply(self, records):
        import hashlib

        units: dict[str, dict[tuple, list[int]]] = {}
        for i, r in enumerate(records):
            fmt = r.get("format") or ""
            key = (r.get("seed_key"), r.get("slot")) if fmt == "true_false" else (r.get("id"), i)
            units.setdefault(fmt, {}).setdefault(key, []).append(i)
        if not units:
            return records, []
        target = min(len(u) for u in units.values())

        def draw(members: list[int]) -> str:
            return hashlib.sha256(str(records[members[0]].get("id") or members[0]).encode()).hexdigest()

        surplus = {i for u in units.values() for members in sorted(u.values(), key=draw)[target:] for i in members}
        return ([r for i, r in enumerate(records) if i not in surplus],
                [(r, "format_surplus", {}) for i, r in enumerate(records) if i in surplus])
