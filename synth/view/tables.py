"""Paging, search and counts over a run's row sets without loading them: parquet shards are read one
record batch at a time (only the columns a question needs), JSONL files through a byte-offset index
of their lines. Memory stays bounded by a batch, whatever the number of rows.

A page is asked for from a *position* (a row number in the set). Without a filter the page is the
rows at ``start .. start + limit``; with one, the scan starts at ``start`` and stops when ``limit``
rows matched, the set ended, or the time budget ran out, and says where to continue (``next``).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.view import fields

ROW_FILTERS = ("verdict", "cell", "document")
ENTRY_FILTERS = ("stage", "reason")
SPLIT_ORDER = ("train", "validation", "test")
BATCH_ROWS = 2048
BUDGET_S = 2.0
MAX_FACET_VALUES = 500


@dataclass
class Query:
    """A search (`text`, full text, case ignored) and exact facet filters (`verdict`, `cell`,
    `document`; `stage`, `reason` for rejected rows)."""

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


# -- parquet ---------------------------------------------------------------------------------------
class ParquetTable(Table):
    """Parquet shards as one table of rows: split by split (train first), each in name order. A
    shard named like the runner's ``<split>-00000-of-00002-<hash>.parquet`` gives its rows that split."""

    def __init__(self, files: list[Path], kind: str = "kept") -> None:
        import pyarrow.parquet as pq

        self.kind = kind
        self.files = sorted(files, key=lambda f: (_rank(split_of(f)), f.name))
        self.splits = [split_of(f) for f in self.files]
        self.filters = ROW_FILTERS + (("split",) if len(set(self.splits)) > 1 else ())
        self._meta = [pq.read_metadata(f) for f in self.files]
        self.groups: list[tuple[int, int, int, int]] = []  # (file, row group, first position, rows)
        pos = 0
        for fi, meta in enumerate(self._meta):
            for rg in range(meta.num_row_groups):
                n = meta.row_group(rg).num_rows
                if n:
                    self.groups.append((fi, rg, pos, n))
                    pos += n
        self._len = pos
        self.schema = pq.read_schema(self.files[0]) if self.files else None
        self.facet_paths = {name: _schema_path(self.schema, paths) for name, paths in fields.FACET_PATHS.items()}
        self._facets: dict | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._len

    def has(self, path: tuple[str, ...]) -> bool:
        return _schema_path(self.schema, (path,)) is not None

    def _file(self, fi: int):
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.files[fi], metadata=self._meta[fi])

    def split_at(self, pos: int) -> str | None:
        for fi, _, first, n in self.groups:
            if first <= pos < first + n:
                return self.splits[fi]
        return None

    def batches(self, start: int = 0, columns: list[str] | None = None, batch_rows: int = BATCH_ROWS,
                split: str | None = None) -> Iterator[tuple[int, Any]]:
        """(position of the batch's first row, RecordBatch) from row `start` to the end (of the
        shards of `split` only, if given)."""
        for fi, rg, first, n in self.groups:
            if first + n <= start or (split is not None and self.splits[fi] != split):
                continue
            pos = first
            for batch in self._file(fi).iter_batches(batch_size=batch_rows, row_groups=[rg], columns=columns,
                                                     use_threads=False):
                end = pos + batch.num_rows
                if end > start:
                    skip = max(0, start - pos)
                    yield pos + skip, (batch.slice(skip) if skip else batch)
                pos = end

    def rows_at(self, positions: list[int]) -> dict[int, dict]:
        """Whole records at the given positions."""
        want = sorted(set(positions))
        out: dict[int, dict] = {}
        k = 0
        for fi, rg, first, n in self.groups:
            if k == len(want):
                break
            if want[k] >= first + n:
                continue
            pos = first
            for batch in self._file(fi).iter_batches(batch_size=512, row_groups=[rg], use_threads=False):
                end = pos + batch.num_rows
                while k < len(want) and want[k] < end:
                    out[want[k]] = batch.slice(want[k] - pos, 1).to_pylist()[0]
                    k += 1
                if k == len(want) or want[k] >= first + n:
                    break
                pos = end
        return out

    def get(self, i: int) -> dict:
        return self.rows_at([self._bounds(i)])[i]

    def entries(self, positions: list[int]) -> dict[int, dict]:
        return self.rows_at(positions)

    def page(self, query: Query, start: int = 0, limit: int = 50, budget_s: float = BUDGET_S) -> Page:
        self.check(query)
        start = max(0, min(start, self._len))
        if query.empty:
            end = min(start + limit, self._len)
            rows = self.rows_at(list(range(start, end)))
            items = [self._summary(rows[i], i) for i in range(start, end)]
            return Page(items, start, end if end < self._len else None, self._len, end, False)
        split = query.filters.get("split")
        filters = {k: v for k, v in query.filters.items() if k != "split"}
        for name in filters:
            if self.facet_paths.get(name) is None:  # the rows have no such field: nothing matches
                return Page([], start, None, self._len, self._len, True)
        # a text search needs every column; filters alone read their own columns, then the rows found
        columns = None if query.text else sorted({self.facet_paths[n][0] for n in filters})
        if columns == []:  # the split alone: any one column gives the batches their length
            columns = [self.schema.names[0]] if self.schema and self.schema.names else None
        query = Query(query.text, filters)
        deadline = time.monotonic() + budget_s
        found: list[int] = []
        rows: dict[int, dict] = {}
        scanned = start
        for pos, batch in self.batches(start, columns, split=split):
            mask = self._mask(batch, query)
            for k in np.flatnonzero(mask):
                found.append(pos + int(k))
                if columns is None:
                    rows[pos + int(k)] = batch.slice(int(k), 1).to_pylist()[0]
                if len(found) == limit:
                    break
            scanned = pos + batch.num_rows
            if len(found) == limit:
                scanned = found[-1] + 1
                break
            if time.monotonic() > deadline:
                break
        else:
            scanned = self._len  # nothing left to scan (of the split, too)
        if columns is not None:
            rows = self.rows_at(found)
        items = [self._summary(rows[i], i) for i in found]
        return Page(items, start, scanned if scanned < self._len else None, self._len, scanned, True)

    def _summary(self, record: dict, i: int) -> dict:
        out = fields.summary(self.kind, record, i)
        if "split" in self.filters:
            out["split"] = self.split_at(i)
        return out

    def _mask(self, batch, query: Query) -> np.ndarray:
        import pyarrow.compute as pc

        mask = np.ones(batch.num_rows, dtype=bool)
        for name, value in query.filters.items():
            path = self.facet_paths[name]
            arr = column_at(batch, path)
            if arr is None:
                return np.zeros(batch.num_rows, dtype=bool)
            mask &= _equals(arr, path, value)
        if query.text and mask.any():
            hits = np.zeros(batch.num_rows, dtype=bool)
            for col in batch.columns:
                for leaf, rows in string_leaves(col, None):
                    m = pc.match_substring(leaf, query.text, ignore_case=True).fill_null(False)
                    m = m.to_numpy(zero_copy_only=False)
                    hits[m if rows is None else rows[m]] = True
            mask &= hits
        return mask

    def facet_counts(self) -> dict[str, list[tuple[str, int]]]:
        """Distinct values of each facet with their row counts, most rows first (read once)."""
        with self._lock:
            if self._facets is None:
                counts = {n: Counter() for n, p in self.facet_paths.items() if p is not None}
                columns = sorted({self.facet_paths[n][0] for n in counts})
                if columns:
                    for _, batch in self.batches(0, columns, batch_rows=65536):
                        for name in counts:
                            arr = column_at(batch, self.facet_paths[name])
                            for item in arr.value_counts().to_pylist():
                                word = fields.facet_word(self.facet_paths[name], item["values"])
                                if word is not None:
                                    counts[name][word] += item["counts"]
                if "split" in self.filters:
                    split_rows: Counter = Counter()
                    for fi, _, _, n in self.groups:
                        split_rows[self.splits[fi]] += n
                    counts["split"] = split_rows
                self._facets = {n: c.most_common(MAX_FACET_VALUES) for n, c in counts.items()}
            return self._facets

    def crosstab(self, rows_path: tuple[str, ...], cols_path: tuple[str, ...] | None) -> Counter:
        """Row counts per (value at rows_path, value at cols_path); a list value is joined with " / "."""
        import pyarrow as pa

        columns = sorted({rows_path[0], *(cols_path[:1] if cols_path else ())})
        out: Counter = Counter()
        for _, batch in self.batches(0, columns, batch_rows=65536):
            r = _as_text(column_at(batch, rows_path))
            c = _as_text(column_at(batch, cols_path)) if cols_path else pa.nulls(len(r), pa.string())
            table = pa.table({"r": r, "c": c}).group_by(["r", "c"], use_threads=False).aggregate([([], "count_all")])
            for rv, cv, n in zip(*(table.column(k).to_pylist() for k in ("r", "c", "count_all"))):
                out[(rv, cv)] += n
        return out


def split_of(path: Path) -> str | None:
    """The split of a shard named ``<split>-00000-of-00001[-hash].parquet``, else None.

    >>> split_of(Path("data/test-00000-of-00001-0a1b2c3d4e5f.parquet")), split_of(Path("x.parquet"))
    ('test', None)
    """
    m = re.match(r"(\w+?)-\d{5}-of-\d{5}", path.name)
    return m.group(1) if m else None


def _rank(split: str | None) -> int:
    return SPLIT_ORDER.index(split) if split in SPLIT_ORDER else len(SPLIT_ORDER)


def _schema_path(schema, paths) -> tuple[str, ...] | None:
    """The first of `paths` that the arrow schema has (structs followed by field name)."""
    import pyarrow as pa

    if schema is None:
        return None
    for path in paths:
        t, ok = schema, True
        for key in path:
            if isinstance(t, pa.Schema):
                idx = t.get_field_index(key)
                t = t.field(idx).type if idx >= 0 else None
            elif t is not None and pa.types.is_struct(t):
                idx = t.get_field_index(key)
                t = t.field(idx).type if idx >= 0 else None
            else:
                t = None
            if t is None:
                ok = False
                break
        if ok:
            return path
    return None


def column_at(batch, path: tuple[str, ...] | None):
    """The array at a field path of a record batch (struct fields followed), or None."""
    import pyarrow.compute as pc

    if path is None or batch.schema.get_field_index(path[0]) < 0:
        return None
    arr = batch.column(path[0])
    for key in path[1:]:
        arr = pc.struct_field(arr, key)
    return arr


def _as_text(arr):
    import pyarrow as pa
    import pyarrow.compute as pc

    if arr is None:
        return None
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        return pc.binary_join(pc.cast(arr, pa.list_(pa.string())), " / ")
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


def _equals(arr, path: tuple[str, ...], value: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(arr.type):
        yes, no = fields.BOOL_WORDS.get(path, ("true", "false"))
        if value not in (yes, no):
            return np.zeros(len(arr), dtype=bool)
        eq = pc.equal(arr, value == yes)
    else:
        eq = pc.equal(_as_text(arr), value)
    return eq.fill_null(False).to_numpy(zero_copy_only=False)


def string_leaves(arr, rows: np.ndarray | None) -> Iterator[tuple[Any, np.ndarray | None]]:
    """(string array, the batch row of each of its values) for every string inside `arr`: struct
    fields and list items followed (`rows` None means value k belongs to row k)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        yield arr, rows
    elif pa.types.is_dictionary(t) and pa.types.is_string(t.value_type):
        yield arr.dictionary_decode(), rows
    elif pa.types.is_struct(t):
        for child in arr.flatten():
            yield from string_leaves(child, rows)
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        parents = pc.list_parent_indices(arr).to_numpy()
        yield from string_leaves(arr.flatten(), parents if rows is None else rows[parents])


# -- JSONL -----------------------------------------------------------------------------------------
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
                names = [n for n in self.filters]
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
