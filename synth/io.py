"""Reading and writing row tables: JSONL, JSON, CSV, Parquet and Hugging Face dataset directories.

Every writer is atomic: it writes a temporary sibling and renames it into place, so a crash never
leaves a half-written file where a finished one is expected.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

from synth.errors import InputError

READABLE = ".jsonl, .json, .csv, .parquet, or a saved Hugging Face dataset directory"
PARQUET_BATCH_ROWS = 1024  # rows turned into dicts at a time (a batch of document chunks stays a few MB)


def read_rows(path: str | os.PathLike) -> list[dict]:
    """Read every row of a table file or dataset directory into dicts."""
    return list(iter_rows(path))


def iter_rows(path: str | os.PathLike) -> Iterator[dict]:
    """Yield rows one by one; raises InputError naming the file and the problem."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"input not found: {p} (check the path; expected {READABLE})")
    if p.is_dir():
        yield from _iter_dataset_dir(p)
        return
    suffix = "".join(p.suffixes[-2:]) if p.suffix == ".gz" else p.suffix
    readers = {".jsonl": _iter_jsonl, ".ndjson": _iter_jsonl, ".json": _iter_json,
               ".csv": _iter_csv, ".parquet": _iter_parquet}
    reader = readers.get(suffix.lower())
    if reader is None:
        raise InputError(f"cannot read {p}: unknown file type {suffix or '(none)'}; use {READABLE}")
    try:
        yield from reader(p)
    except UnicodeDecodeError as exc:
        raise InputError(f"{p} is not valid UTF-8 (byte {exc.start}): re-save it as UTF-8") from None
    except OSError as exc:  # no read permission, a device, a file gone mid-read
        raise InputError(f"cannot read {p} ({exc.strerror or type(exc).__name__}): check the file and its "
                         "permissions") from None


def parse_jsonl(lines: Iterable[str], name: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank JSON line; InputError names `name:line` otherwise."""
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}:{lineno}: not valid JSON ({exc.msg}); fix or remove that line") from None
        if not isinstance(row, dict):
            raise InputError(f"{name}:{lineno}: each line must be a JSON object, got {type(row).__name__}")
        yield lineno, row


def _iter_jsonl(p: Path) -> Iterator[dict]:
    with open(p, encoding="utf-8") as fh:
        for _, row in parse_jsonl(fh, str(p)):
            yield row


def _iter_json(p: Path) -> Iterator[dict]:
    """A JSON list of objects, or `{"data": [...]}`, parsed as a stream (ijson): a large seed file is
    never held whole, only the row being read."""
    import ijson

    rows_at = _json_rows_at(p)
    n = 0
    try:
        for row in _json_items(ijson, p, rows_at):
            n += 1
            yield row
    except _IntegerOverflow:
        # yajl (ijson's C parser) reads 64-bit integers only; its pure-Python parser (slower) reads any,
        # as json.load does: go on with that one after the rows already given
        for row in islice(_json_items(ijson.get_backend("python"), p, rows_at), n, None):
            n += 1
            yield row
    if n == 0 and rows_at == "data.item" and not _has_data_list(p):
        raise InputError(_json_shape(p))


class _IntegerOverflow(Exception):
    pass


def _json_shape(p: Path) -> str:
    return f"{p}: expected a JSON list of objects (or {{\"data\": [...]}})"


def _json_rows_at(p: Path) -> str:
    """Where the rows are: "item" in a list, "data.item" in an object (its first character tells)."""
    with open(p, "rb") as fh:
        if fh.read(3) == b"\xef\xbb\xbf":
            raise InputError(f"{p} starts with a byte-order mark (BOM): re-save it as UTF-8 without one")
        fh.seek(0)
        while chunk := fh.read(65_536):
            head = chunk.lstrip()[:1]
            if head in (b"[", b"{"):
                return "item" if head == b"[" else "data.item"
            if head:
                raise InputError(_json_shape(p))
    raise InputError(f"{p}: not valid JSON (nothing but whitespace)")


def _json_items(backend, p: Path, rows_at: str) -> Iterator[dict]:
    from ijson import JSONError

    with open(p, "rb") as fh:
        try:
            for i, row in enumerate(backend.items(fh, rows_at, use_float=True), 1):
                if not isinstance(row, dict):
                    raise InputError(f"{_json_shape(p)}; item {i} is {type(row).__name__}")
                yield row
        except (JSONError, UnicodeDecodeError) as exc:
            message = (str(exc).strip() or type(exc).__name__).splitlines()[0]  # yajl's run over several lines
            if "integer overflow" in message:
                raise _IntegerOverflow from None
            if "UTF8" in message or isinstance(exc, UnicodeDecodeError):
                raise InputError(f"{p} is not valid UTF-8: re-save it as UTF-8") from None
            raise InputError(f"{p}: not valid JSON ({message})") from None


def _has_data_list(p: Path) -> bool:
    """Whether a JSON object holds a "data" list (asked only when no row came out of it)."""
    import ijson

    python = ijson.get_backend("python")  # any integer, as json.load
    with open(p, "rb") as fh:
        try:
            return any(prefix == "data" and event == "start_array" for prefix, event, _ in python.parse(fh))
        except (ijson.JSONError, UnicodeDecodeError):
            return False


def _iter_csv(p: Path) -> Iterator[dict]:
    with open(p, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            if None in row:  # DictReader keeps a row's surplus fields under the key None
                raise InputError(f"{p}:{reader.line_num}: {len(reader.fieldnames) + len(row[None])} fields, the "
                                 f"header has {len(reader.fieldnames)}: quote values that hold commas, or fix the row")
            yield row


def _iter_parquet(p: Path) -> Iterator[dict]:
    """Rows a batch at a time (pyarrow decodes one row group at a time): never the whole table."""
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(p) as pf:
            # one thread: seeds are read at model speed, and no reader thread outlives a run stopped early
            for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, use_threads=False):
                yield from batch.to_pylist()
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"{p}: not a readable Parquet file ({exc})") from None


def _iter_dataset_dir(p: Path) -> Iterator[dict]:
    """A `save_to_disk` directory, or a directory of parquet/jsonl shards (e.g. a run's data/)."""
    if (p / "dataset_info.json").exists() or (p / "dataset_dict.json").exists():
        import datasets

        ds = datasets.load_from_disk(str(p))
        if isinstance(ds, datasets.DatasetDict):
            ds = ds["train"] if "train" in ds else ds[next(iter(ds))]
        yield from ds
        return
    shards = sorted(p.rglob("*.parquet")) or sorted(p.rglob("*.jsonl"))
    if not shards:
        raise InputError(f"{p} is a directory without a saved dataset or .parquet/.jsonl shards")
    for shard in shards:
        yield from iter_rows(shard)


@contextmanager
def atomic_path(target: str | os.PathLike, *, is_dir: bool = False):
    """Yield a temporary path next to `target`; on success rename it over `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent)) if is_dir else \
        target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        if is_dir:
            os.chmod(tmp, 0o755)  # mkdtemp makes it private
        if is_dir and target.exists():
            trash = target.with_name(f".{target.name}.old.{os.getpid()}")
            os.replace(target, trash)
            os.replace(tmp, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically replace a UTF-8 text file."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    """Atomically write rows as JSON lines (UTF-8, not ASCII-escaped); returns the row count."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            n += 1
    return n


def write_table(path: str | os.PathLike, rows: list[dict]) -> None:
    """Write rows to `path` by its suffix: .jsonl, .parquet, or else a `save_to_disk` directory."""
    p = Path(path)
    if p.suffix == ".jsonl":
        write_jsonl(p, rows)
    elif p.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        with atomic_path(p) as tmp:
            pq.write_table(pa.Table.from_pylist(rows), tmp)
    else:
        import datasets

        with atomic_path(p, is_dir=True) as tmp:
            datasets.Dataset.from_list(rows).save_to_disk(str(tmp))


def is_glob(path: str | os.PathLike) -> bool:
    """True when `path` is a pattern (`docs/**/*.pdf`) rather than a name.

    >>> is_glob("docs/**/*.pdf"), is_glob("docs/a.pdf")
    (True, False)
    """
    return bool(set("*?[") & set(str(path)))
