"""Write records as a Hugging Face dataset directory: parquet shards loadable with `load_dataset`.

Shard names end in a hash of their bytes, and the card lists them by name. `datasets` caches a local
directory under a key made from the card's `data_files` patterns, not from the files, so with a glob
a re-run that changed the data would load the stale cached copy (and two runs with the same folder
name would share it); a name that changes with the content changes that key.

Splits are drawn by seed row (`seed_key`), never by record: every sample of one problem lands in the
same split, so a test split never holds a paraphrase of a training answer. A seed row's split comes
from a hash of its key alone, so it stays put when rows are added or the run is resumed.
"""

from __future__ import annotations

import hashlib
import json
import os
from itertools import islice
from pathlib import Path

from synth.io import atomic_path

ROWS_PER_SHARD = 100_000
CHUNK_ROWS = 10_000  # rows converted to Arrow at a time


def split_point(seed_key: str) -> float:
    """A fixed number in [0, 1) for one seed row.

    >>> 0 <= split_point("a1b2") < 1 and split_point("a1b2") == split_point("a1b2")
    True
    """
    return int(hashlib.sha256(f"split:{seed_key}".encode()).hexdigest()[:13], 16) / 16 ** 13


def assign_splits(records: list[dict], shares: dict[str, float]) -> dict[str, list[dict]]:
    """Records grouped by split (`train` first), whole seed rows at a time.

    A seed row goes to the split whose share interval holds its `split_point`. On a small run a split
    that drew no seed row takes the train row with the lowest point, so every requested split exists
    as long as train keeps at least one seed row.

    >>> recs = [{"seed_key": k, "i": i} for i, k in enumerate("aabbccdd")]
    >>> parts = assign_splits(recs, {"test": 0.2})
    >>> sorted(parts) == ["test", "train"] and sum(len(p) for p in parts.values()) == 8
    True
    >>> {r["seed_key"] for r in parts["test"]} & {r["seed_key"] for r in parts["train"]}
    set()
    """
    if not shares:
        return {"train": records if not isinstance(records, list) else list(records)}
    if not isinstance(records, list):
        return _spool_splits(records, shares)
    keys = list(dict.fromkeys(str(r.get("seed_key")) for r in records))
    where: dict[str, str] = {}
    for key in keys:
        point, edge = split_point(key), 0.0
        where[key] = "train"
        for name, share in shares.items():
            edge += share
            if point < edge:
                where[key] = name
                break
    for name in shares:
        train = [k for k in keys if where[k] == "train"]
        if name not in where.values() and len(train) >= 2:
            where[min(train, key=split_point)] = name
    out: dict[str, list[dict]] = {"train": [], **{name: [] for name in shares}}
    for record in records:
        out[where[str(record.get("seed_key"))]].append(record)
    return out


def _spool_splits(records, shares: dict[str, float]) -> dict:
    """`assign_splits` for a synth.spool.Spool: the same assignment, without a table of seed rows in
    memory (a split that drew no seed row takes the train seed rows with the lowest points)."""
    def natural(key: str) -> str:
        point, edge = split_point(key), 0.0
        for name, share in shares.items():
            edge += share
            if point < edge:
                return name
        return "train"

    drawn: set[str] = set()
    lowest: dict[str, float] = {}  # the len(shares) + 1 train seed rows with the lowest points
    for record in records:
        key = str(record.get("seed_key"))
        name = natural(key)
        drawn.add(name)
        if name == "train" and key not in lowest:
            lowest[key] = split_point(key)
            if len(lowest) > len(shares) + 1:
                del lowest[max(lowest, key=lowest.get)]
    moved: dict[str, str] = {}
    spare = sorted(lowest, key=lowest.get)
    for name in shares:
        if name not in drawn and len(spare) >= 2:
            moved[spare.pop(0)] = name
    out = {"train": records.sibling("split-train.jsonl"),
           **{name: records.sibling(f"split-{name}.jsonl") for name in shares}}
    for record in records:
        key = str(record.get("seed_key"))
        out[moved.get(key) or natural(key)].append(record)
    return out


def write_dataset(splits: dict[str, list[dict]], data_dir: str | os.PathLike, *,
                  keep_empty: bool = True) -> dict[str, list[str]]:
    """Atomically replace `data_dir` with `<split>-0000i-of-0000n-<hash>.parquet` shards.

    Returns {split: [file names]}. An empty split gets one empty shard when `keep_empty` (so a run that
    kept nothing still loads), and no file otherwise.
    """
    data_dir = Path(data_dir)
    with atomic_path(data_dir, is_dir=True) as tmp:
        return {split: names for split, rows in splits.items()
                if (names := _write_split(rows, Path(tmp), split, keep_empty))}


def write_subsets(subsets: dict[str, dict[str, list[dict]]], root: str | os.PathLike) -> dict[str, dict[str, list[str]]]:
    """Atomically replace `root` with one folder per subset; returns {subset: {split: [paths under root]}}.

    Subsets without rows are left out (there is nothing to load).
    """
    root = Path(root)
    written: dict[str, dict[str, list[str]]] = {}
    with atomic_path(root, is_dir=True) as tmp:
        for name, splits in subsets.items():
            folder = Path(tmp) / name
            files = {split: [f"{name}/{f}" for f in names] for split, rows in splits.items()
                     if (names := _write_split(rows, folder, split, keep_empty=False))}
            if files:
                written[name] = files
    return written


def _write_split(rows, folder: Path, split: str, keep_empty: bool) -> list[str]:
    """`rows`: a list or anything re-iterable with a length (a synth.spool.Spool): read twice, once for
    the schema and once to write, `CHUNK_ROWS` at a time."""
    if not rows and not keep_empty:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    schema = table_schema(rows)
    n_shards = max(1, -(-len(rows) // ROWS_PER_SHARD))
    names = []
    it = iter(rows)
    for i in range(n_shards):
        part = folder / f".{split}-{i:05d}.parquet"
        write_parquet(islice(it, ROWS_PER_SHARD), part, schema)
        name = f"{split}-{i:05d}-of-{n_shards:05d}-{_digest(part)}.parquet"
        part.rename(folder / name)
        names.append(name)
    return names


def table_schema(rows):
    """One pyarrow schema for every row: the union of their fields (synth.schema), so no field that the
    first row lacks is dropped, and a column never changes type between chunks or shards.

    >>> table_schema([{"a": 1, "m": {}}, {"a": 2.5, "m": {"k": "v"}, "b": None}]).types
    [DataType(double), StructType(struct<k: string>), DataType(null)]
    """
    from synth.schema import RecordSchema

    schema = RecordSchema()
    for i, row in enumerate(rows, 1):
        schema.fixed = False  # the rows were checked when they were made; here every field is welcome
        schema.check(row, f"row {i}")
    return schema.arrow()


def write_parquet(rows, path: Path, schema, chunk_rows: int = CHUNK_ROWS) -> None:
    """Write rows (any iterable) to one parquet file in chunks of `chunk_rows`, all with `schema`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synth.spool import chunks

    with pq.ParquetWriter(str(path), schema) as writer:
        wrote = False
        for chunk in chunks(rows, chunk_rows):
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            wrote = True
        if not wrote:
            writer.write_table(pa.Table.from_pylist([], schema=schema))


def rejected_row(entry: dict) -> dict:
    """One `rejected.jsonl` entry in a fixed shape for parquet: where and why it was dropped, what it said.

    >>> rejected_row({"stage": "dedup", "reason": "exact_duplicate", "duplicate_of": 3,
    ...               "record": {"id": "x", "seed_key": "k", "instruction": "hi", "response": "yo"}})["detail"]
    '{"duplicate_of": 3}'
    """
    record = entry.get("record") or {}
    extra = {k: v for k, v in entry.items() if k not in ("stage", "reason", "record")}
    return {"stage": entry.get("stage"), "reason": entry.get("reason"),
            "detail": json.dumps(extra, ensure_ascii=False, default=str) if extra else None,
            "id": record.get("id"), "seed_key": record.get("seed_key"),
            "instruction": _text(record.get("instruction") or record.get("problem") or record.get("question")),
            "response": _text(record.get("response") or record.get("solution") or record.get("answer")),
            "record": json.dumps(record, ensure_ascii=False, default=str)}


def _text(value) -> str | None:
    return None if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]
