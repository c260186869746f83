"""Paging, search and counts over a run's row sets without loading them: parquet shards are read one
record batch at a time, only the columns a question needs (synth.view.parquet), JSONL files through
a byte-offset index of their lines (synth.view.jsonl). Memory stays bounded by a batch, whatever the
number of rows.

A page is asked for from a *position* (a row number in the set). Without a filter the page is the
rows at ``start .. start + limit``; with one, the scan starts at ``start`` and stops when ``limit``
rows matched, the set ended, or the time budget ran out, and says where to continue (``next``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROW_FILTERS = ("verdict", "cell", "document")
ENTRY_FILTERS = ("stage", "reason")
SPLIT_ORDER = ("train", "validation", "test")
BATCH_ROWS = 2048
BUDGET_S = 2.0
MAX_FACET_VALUES = 500


@dataclass
class Query:
    """A search (`text`, full text, case ignored) and exact facet filters (`verdict`, `cell`,
    `document`; `split` where the dataset has several; `stage`, `reason` for rejected rows)."""

    text: str = ""
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.text and not self.filters


@dataclass
class Page:
    items: list[dict]
    start: int
    next: int | None      # where to continue; None: the set has no more rows
    total: int            # rows in the set
    scanned: int          # the position the scan reached (== next unless the set ended)
    filtered: bool

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "start": self.start, "next": self.next, "total": self.total,
                "scanned": self.scanned, "filtered": self.filtered}


class Table:
    """One row set of a run: ``kept`` (the dataset), ``rejected``, ``failed`` or ``generated``."""

    kind: str
    filters: tuple[str, ...] = ()

    def __len__(self) -> int:
        raise NotImplementedError

    def get(self, i: int) -> dict:
        raise NotImplementedError

    def entries(self, positions: list[int]) -> dict[int, dict]:
        """Whole entries at the given positions."""
        return {i: self.get(i) for i in positions}

    def page(self, query: Query, start: int = 0, limit: int = 50, budget_s: float = BUDGET_S) -> Page:
        raise NotImplementedError

    def facet_counts(self) -> dict[str, list[tuple[str, int]]]:
        return {}

    def check(self, query: Query) -> None:
        unknown = [k for k in query.filters if k not in self.filters]
        if unknown:
            raise ValueError(f"filter {unknown[0]!r} does not apply to {self.kind} rows "
                             f"(use {', '.join(self.filters) or 'search only'})")

    def _bounds(self, i: int) -> int:
        if not 0 <= i < len(self):
            raise IndexError(f"row {i} is not in the {self.kind} rows (0..{len(self) - 1})")
        return i
