"""Reading an input in batches for the streamed commands (`synth dedup`, `synth filter`): one file, or
local shards read as one stream.

INPUT is a file (JSONL, JSON, CSV, Parquet), a saved HF dataset directory, a directory of `*.jsonl` /
`*.ndjson` / `*.parquet` shards, or a glob of such files (quoted, so the shell leaves it alone). Shards
are read in sorted name order; row positions, the resume key and error messages span all of them.
"""

from __future__ import annotations

import glob as globlib
import json
from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path

from synth.errors import InputError

SHARD_SUFFIXES = (".jsonl", ".ndjson", ".parquet")
_JSONL = (".jsonl", ".ndjson")


def _is_glob(path) -> bool:
    return any(c in str(path) for c in "*?[")


def input_files(path) -> list[Path]:
    """The files of INPUT in reading order: itself, or its shards (a directory that is not a saved
    dataset, or a glob). Raises InputError when there are none."""
    from synth.io import READABLE

    p = Path(path)
    if _is_glob(path) and not p.exists():
        files = sorted(Path(f) for f in globlib.glob(str(path)) if Path(f).is_file())
        if not files:
            raise InputError(f"no files match {path} (check the pattern; quote it so the shell does not expand it)")
        bad = [f for f in files if f.suffix not in SHARD_SUFFIXES]
        if bad:
            raise InputError(f"{bad[0]}: shards must be {', '.join(SHARD_SUFFIXES)} (narrow the pattern)")
        return files
    if not p.exists():
        raise InputError(f"input not found: {path} (check the path; expected {READABLE}; or shards: a "
                         f"directory of *.jsonl/*.parquet files or a quoted glob)")
    if p.is_dir() and not _is_dataset_dir(p):
        files = sorted(f for f in p.iterdir()
                       if f.suffix in SHARD_SUFFIXES and f.is_file() and not f.name.startswith("."))
        if not files:
            raise InputError(f"{path} has no *.jsonl or *.parquet shards and is not a saved dataset directory")
        return files
    return [p]


def _is_dataset_dir(p: Path) -> bool:
    return (p / "dataset_info.json").exists() or (p / "state.json").exists() or (p / "dataset_dict.json").exists()


def input_key(path) -> dict:
    """What a checkpoint was taken of: every file's name, size and mtime (a changed shard starts again)."""
    files = input_files(path)
    shards = [[str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    if len(files) == 1 and Path(path).resolve() == files[0].resolve():
        return {"input": shards[0][0], "size": shards[0][1], "mtime_ns": shards[0][2]}
    return {"input": str(Path(path).absolute()), "shards": shards}


def _count_file(p: Path) -> int | None:
    if p.suffix in _JSONL:
        n, last = 0, b"\n"
        with open(p, "rb") as fh:
            while block := fh.read(1 << 24):
                n += block.count(b"\n")
                last = block[-1:]
        return n + (last != b"\n")  # blank lines are few; the bar's total is an estimate
    if p.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(p).metadata.num_rows
    return None


def count_rows(path) -> int | None:
    """Rows of INPUT when that is cheap (JSONL: its non-blank lines; Parquet: its metadata), else None."""
    p = Path(path)
    if p.is_file():
        return _count_file(p)
    try:
        counts = [_count_file(f) for f in input_files(path)]
    except InputError:
        return None
    return None if None in counts or len(counts) == 1 and counts[0] is None else sum(counts)


def _jsonl_lines(path: Path) -> Iterator[tuple[Path, int, bytes]]:
    """(path, line number, line) of each non-blank line, as bytes, each ending in a newline."""
    lineno = 0
    with open(path, "rb") as fh:
        while block := fh.readlines(1 << 22):
            if not block[-1].endswith(b"\n"):
                block[-1] += b"\n"
            for lineno, line in enumerate(block, lineno + 1):
                if len(line) > 3 or line.strip():
                    yield path, lineno, line


def parse_line(path: Path, lineno: int, line: bytes) -> dict:
    import orjson

    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError:  # what orjson refuses and json takes (NaN, integers over 64 bits), or an error
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            msg = getattr(exc, "msg", "not UTF-8")
            raise InputError(f"{path}:{lineno}: not valid JSON ({msg}); fix or remove that line") from None
    if not isinstance(row, dict):
        raise InputError(f"{path}:{lineno}: each line must be a JSON object, got {type(row).__name__}")
    return row


def batches(path, size: int, skip: int = 0, raw: bool = False) -> Iterator:
    """Lists of up to `size` rows after the first `skip`, over all of INPUT's files. JSON lines are
    parsed with orjson (rows equal to synth.io's); with `raw`, (rows, lines) where lines are the rows'
    lines as bytes (JSONL only, else None)."""
    from synth.io import iter_rows

    files = input_files(path)
    if all(f.suffix in _JSONL for f in files):
        lines = islice(chain.from_iterable(_jsonl_lines(f) for f in files), skip, None)
        while part := list(islice(lines, size)):
            if raw:  # parsed when asked for: LazyRows
                yield LazyRows(part), [line for _, _, line in part]
            else:
                yield [parse_line(*x) for x in part]
        return
    it = islice(chain.from_iterable(iter_rows(f) for f in files), skip, None)
    while chunk := list(islice(it, size)):
        yield (chunk, None) if raw else chunk


class LazyRows:
    """A batch of JSON lines whose rows are parsed only when read (pass 2 reads few of them)."""

    def __init__(self, part: list[tuple[Path, int, bytes]]):
        self.part = part

    def __len__(self) -> int:
        return len(self.part)

    def __getitem__(self, i: int) -> dict:
        return parse_line(*self.part[i])
