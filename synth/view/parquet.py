"""A run's parquet shards as one table (see synth.view.tables): record batches read with pyarrow,
facet filters and full-text search vectorised over each batch (strings inside structs and lists
included), so no row is turned into Python unless it is shown."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from synth.view import fields
from synth.view.tables import BATCH_ROWS, BUDGET_S, MAX_FACET_VALUES, ROW_FILTERS, SPLIT_ORDER, Page, Query, Table


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
