"""A run's JSONL files (rejected.jsonl, failed.jsonl, records shards) as one table (see
synth.view.tables): a line's position maps to its byte offset, and a scan tests the raw line for the
query before it parses it."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from synth.view import fields
from synth.view.tables import BUDGET_S, ENTRY_FILTERS, MAX_FACET_VALUES, ROW_FILTERS, Page, Query, Table


class JsonlTable(Table):
    """JSONL files as one table: a line's position maps to a byte offset (8 bytes per line in
    memory); a line cut short by a kill (no newline) is left out, as the runner does."""

    def __init__(self, files: list[Path], kind: str) -> None:
        self.kind = kind
        self.files = list(files)
        self.filters = ROW_FILTERS + ENTRY_FILTERS if kind == "rejected" else ROW_FILTERS if kind != "failed" else ()
        self._offsets: list[np.ndarray] = [_line_offsets(f) for f in self.files]
        self._starts = np.cumsum([0] + [len(o) for o in self._offsets])
        self._facets: dict | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _locate(self, i: int) -> tuple[int, int]:
        fi = int(np.searchsorted(self._starts, i, side="right")) - 1
        return fi, i - int(self._starts[fi])

    def lines(self, start: int = 0) -> Iterator[tuple[int, bytes]]:
        """(position, raw line) from `start` to the end."""
        pos = start
        fi, k = self._locate(start) if start < len(self) else (len(self.files), 0)
        while fi < len(self.files):
            offsets = self._offsets[fi]
            if k < len(offsets):
                with open(self.files[fi], "rb") as fh:
                    fh.seek(int(offsets[k]))
                    for _ in range(len(offsets) - k):
                        line = fh.readline()
                        while line and not line.strip():  # blank lines are not rows
                            line = fh.readline()
                        if not line:
                            return  # the file shrank since it was indexed
                        yield pos, line
                        pos += 1
            fi, k = fi + 1, 0

    def get(self, i: int) -> dict:
        for _, line in self.lines(self._bounds(i)):
            return _parse(line)
        raise IndexError(i)

    def page(self, query: Query, start: int = 0, limit: int = 50, budget_s: float = BUDGET_S) -> Page:
        self.check(query)
        total = len(self)
        start = max(0, min(start, total))
        needles = _needles(query)
        deadline = time.monotonic() + budget_s
        items, scanned = [], start
        for pos, line in self.lines(start):
            scanned = pos + 1
            if needles:
                low = line.decode("utf-8", "replace").lower()
                if not all(n in low for n in needles):
                    if (pos & 1023) == 0 and time.monotonic() > deadline:
                        break
                    continue
            entry = _parse(line)
            if query.empty or self._keep(entry, query):
                items.append(fields.summary(self.kind, entry, pos))
                if len(items) == limit:
                    break
            if (pos & 1023) == 0 and time.monotonic() > deadline:
                break
        return Page(items, start, scanned if scanned < total else None, total, scanned, not query.empty)

    def _keep(self, entry: dict, query: Query) -> bool:
        record_facets = fields.facets(fields.record_of(self.kind, entry))
        for name, value in query.filters.items():
            got = entry.get(name) if name in ENTRY_FILTERS else record_facets.get(name)
            if got is None or str(got) != value:
                return False
        return not query.text or fields.matches(entry, query.text)

    def facet_counts(self, max_bytes: int = 64 << 20) -> dict[str, list[tuple[str, int]]]:
        """Facet values with counts; a file over `max_bytes` is not scanned for them (too slow to
        parse on each start; the manifest's per-stage reasons still group rejected rows)."""
        with self._lock:
            if self._facets is None:
                if sum(os.path.getsize(f) for f in self.files) > max_bytes:
                    self._facets = {}
                    return self._facets
                names = list(self.filters)
                counts = {n: Counter() for n in names}
                for _, line in self.lines(0):
                    entry = _parse(line)
                    record_facets = fields.facets(fields.record_of(self.kind, entry))
                    for n in names:
                        v = entry.get(n) if n in ENTRY_FILTERS else record_facets.get(n)
                        if v is not None:
                            counts[n][str(v)] += 1
                self._facets = {n: c.most_common(MAX_FACET_VALUES) for n, c in counts.items() if c}
            return self._facets


def _parse(line: bytes) -> dict:
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    return entry if isinstance(entry, dict) else {"unreadable_line": line.decode("utf-8", "replace")[:2000]}


def _needles(query: Query) -> list[str]:
    """Lower-case strings a matching line must contain as raw JSON text: a cheap test before parsing.
    A value that JSON would escape (quotes, backslashes, control characters) is left to the parse."""
    values = [query.text, *query.filters.values()] if query.text else list(query.filters.values())
    out = []
    for v in values:
        encoded = json.dumps(v, ensure_ascii=False)[1:-1]
        if encoded == v:
            out.append(v.lower())
    return out


def _line_offsets(path: Path, block: int = 8 << 20) -> np.ndarray:
    """Byte offsets of the complete, non-blank lines of a file."""
    starts, ends = [], []
    with open(path, "rb") as fh:
        pos, line_start = 0, 0
        while chunk := fh.read(block):
            nl = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10) + pos
            if len(nl):
                starts.append(np.concatenate(([line_start], nl[:-1] + 1)))
                ends.append(nl)
                line_start = int(nl[-1]) + 1
            pos += len(chunk)
    if not starts:
        return np.zeros(0, dtype=np.int64)
    s, e = np.concatenate(starts), np.concatenate(ends)
    lengths = e - s
    keep = lengths > 2
    if not keep.all():
        with open(path, "rb") as fh:  # only lines this short can be blank: look at them
            for k in np.flatnonzero(~keep):
                fh.seek(int(s[k]))
                keep[k] = bool(fh.read(int(lengths[k])).strip())
    return s[keep].astype(np.int64)
