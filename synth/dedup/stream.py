"""`synth dedup` / `synth filter` over a file in bounded memory, resumable after a kill.

Dedup takes two passes over the input, as a streamed run does (synth.stages.streaming): pass 1 reads
rows `batch_rows` at a time and keeps only each row's exact hash and one-byte MinHash signature
(8 + num_perm bytes a row, 136 at the defaults; + 4 for `keep: longest`), appended to files in a
state folder with a checkpoint after every batch; `synth.dedup.core.decide` clusters them once (the
same decisions as `dedup_rows`); pass 2 reads the input again and writes the kept rows and the
dropped ones. A killed run started again with the same input, output and options goes on from the
last checkpoint (pass 1 from its last batch, pass 2 from the decision).

Filter takes one pass: each batch goes through the filters and is appended to partial output files,
then a checkpoint records the rows done and the files' byte lengths, so a restart truncates them to
the checkpoint and goes on.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from synth.errors import InputError

BATCH_ROWS = 20_000
STATE_VERSION = 1
Progress = Callable[[str, int, int], None]


def count_rows(path: Path) -> int | None:
    """Rows in `path` when that is cheap (JSONL: its non-blank lines; Parquet: its metadata), else None."""
    p = Path(path)
    if p.suffix in (".jsonl", ".ndjson"):
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


def _is_jsonl(path: Path) -> bool:
    return Path(path).suffix in (".jsonl", ".ndjson") and Path(path).is_file()


def _jsonl_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of each non-blank line, as bytes, each ending in a newline."""
    lineno = 0
    with open(path, "rb") as fh:
        while block := fh.readlines(1 << 22):
            if not block[-1].endswith(b"\n"):
                block[-1] += b"\n"
            for lineno, line in enumerate(block, lineno + 1):
                if len(line) > 3 or line.strip():
                    yield lineno, line


def _parse(path: Path, lineno: int, line: bytes) -> dict:
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


def batches(path: Path, size: int, skip: int = 0, raw: bool = False) -> Iterator:
    """Lists of up to `size` rows after the first `skip`. JSON lines are parsed with orjson (rows
    equal to synth.io's); with `raw`, (rows, lines) where lines are the rows' lines as bytes (JSONL
    only, else None)."""
    from synth.io import iter_rows

    if _is_jsonl(path):
        lines = islice(_jsonl_lines(path), skip, None)
        while part := list(islice(lines, size)):
            if raw:  # parsed when asked for: LazyRows
                yield LazyRows(path, part), [line for _, line in part]
            else:
                yield [_parse(path, n, line) for n, line in part]
        return
    it = islice(iter_rows(path), skip, None)
    while chunk := list(islice(it, size)):
        yield (chunk, None) if raw else chunk


class LazyRows:
    """A batch of JSON lines whose rows are parsed only when read (pass 2 reads few of them)."""

    def __init__(self, path: Path, part: list[tuple[int, bytes]]):
        self.path, self.part = path, part

    def __len__(self) -> int:
        return len(self.part)

    def __getitem__(self, i: int) -> dict:
        return _parse(self.path, *self.part[i])


class _State:
    """A folder of arrays appended batch by batch plus `meta.json`, the checkpoint (written last,
    atomically): arrays longer than the checkpoint says are cut back on resume."""

    def __init__(self, folder: Path, key: dict):
        self.folder = Path(folder)
        self.meta_path = self.folder / "meta.json"
        meta = None
        if self.meta_path.exists():
            meta = json.loads(self.meta_path.read_text())
            if meta.get("key") != key:
                meta = None  # another input, options or version: start again
        if meta is None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            meta = {"key": key, "rows": 0}
        self.meta = meta

    @property
    def resumed(self) -> bool:
        return self.meta["rows"] > 0

    def save(self, **changes) -> None:
        self.meta.update(changes)
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.meta))
        os.replace(tmp, self.meta_path)

    def append(self, name: str, arr: np.ndarray) -> None:
        with open(self.folder / name, "ab") as fh:
            fh.write(np.ascontiguousarray(arr).tobytes())
            fh.flush()
            os.fsync(fh.fileno())

    def truncate(self, name: str, nbytes: int) -> None:
        p = self.folder / name
        if p.exists():
            with open(p, "r+b") as fh:
                fh.truncate(nbytes)

    def load(self, name: str, dtype, shape=None) -> np.ndarray:
        p = self.folder / name
        arr = np.fromfile(p, dtype=dtype) if p.exists() else np.zeros(0, dtype)
        return arr.reshape(shape) if shape else arr


def _input_key(path: Path) -> dict:
    from synth.io import READABLE

    if not Path(path).exists():
        raise InputError(f"input not found: {path} (check the path; expected {READABLE})")
    st = Path(path).stat()
    return {"input": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


class TableWriter:
    """Rows appended batch by batch to OUT by its suffix: JSON lines, Parquet (one row group a batch),
    or a saved HF dataset directory (via a JSONL spool beside it). Written under a temporary name and
    renamed into place on `close()`."""

    def __init__(self, path: Path):
        from synth.io import atomic_path

        self.path = Path(path)
        self._ctx = atomic_path(self.path, is_dir=self.path.suffix not in (".jsonl", ".parquet"))
        self.tmp = Path(self._ctx.__enter__())
        self.n = 0
        self._pq = None
        if self.path.suffix == ".parquet":
            self._fh = None
        else:
            self._spool = self.tmp if self.path.suffix == ".jsonl" else self.tmp.with_name(self.tmp.name + ".jsonl")
            self._fh = open(self._spool, "w", encoding="utf-8")

    @property
    def takes_lines(self) -> bool:
        return self.path.suffix == ".jsonl"

    def write_lines(self, lines: list[bytes], n: int) -> None:
        """JSON lines as read (UTF-8 bytes), for a JSONL output."""
        self.n += n
        self._fh.write(b"".join(lines).decode("utf-8"))

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        self.n += len(rows)
        if self._fh is not None:
            self._fh.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(rows)
        if self._pq is None:
            self._pq = pq.ParquetWriter(self.tmp, table.schema)
        self._pq.write_table(table.cast(self._pq.schema) if table.schema != self._pq.schema else table)

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
        elif self.path.suffix == ".parquet":  # no rows: an empty file
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({}), self.tmp)
        if self._fh is not None:
            self._fh.close()
            if self.path.suffix not in (".jsonl",):
                import datasets

                ds = datasets.Dataset.from_json(str(self._spool)) if self.n else datasets.Dataset.from_list([])
                ds.save_to_disk(str(self.tmp))
                self._spool.unlink()
        self._ctx.__exit__(None, None, None)


def dedup_file(inp: Path, out: Path, dropped_path: Path, config, *, state_dir: Path,
               batch_rows: int = BATCH_ROWS, progress: Progress | None = None, backend=None) -> dict:
    try:
        return _dedup_file(inp, out, dropped_path, config, state_dir=state_dir, batch_rows=batch_rows,
                           progress=progress, backend=backend)
    except InputError:  # a broken input leaves nothing behind (a kill leaves the checkpoint to resume)
        shutil.rmtree(state_dir, ignore_errors=True)
        raise


def _dedup_file(inp: Path, out: Path, dropped_path: Path, config, *, state_dir: Path,
                batch_rows: int, progress: Progress | None, backend) -> dict:
    """Dedup the rows of `inp` into `out` (kept) and `dropped_path` (each dropped row with
    duplicate_of, duplicate_in, reason, similarity: as `dedup_rows`), in two passes; returns the
    report (as `dedup_rows`'s). No persisted index here (`synth dedup --index` holds rows in memory).
    ``backend`` sketches each batch and finds band candidates (default ``LocalBackend()``;
    ``ray_job.RayBackend`` runs both on a Ray cluster, with the same decisions)."""
    from synth.dedup.core import LocalBackend, decide
    from synth.dedup.report import build_report
    from synth.dedup.text import check_fields, default_fields, row_id, row_text
    if config.index is not None:
        raise ValueError("dedup_file does not take an index")
    t0, P = time.perf_counter(), config.num_perm
    key = _input_key(inp)
    total = count_rows(inp) if Path(inp).is_file() else None
    state = _State(state_dir, {"v": STATE_VERSION, "config": config.model_dump(mode="json"),
                               "batch_rows": batch_rows, **key})
    backend = backend or LocalBackend()
    resumed = state.resumed
    n = state.meta["rows"]
    fields = state.meta.get("fields")
    if not state.meta.get("sketched"):
        for name, width in (("ex.u64", 8), ("sig.u8", P), ("len.u32", 4)):  # cut back to the checkpoint
            state.truncate(name, n * width)
        if progress and n:  # resumed (a fresh run shows its bar after the first batch: errors come first)
            progress("sketch", n, total or n)
        for chunk in batches(inp, batch_rows, skip=n):
            if fields is None:
                fields = list(config.fields or default_fields(chunk, config.id_field))
                check_fields(chunk, fields)
            texts = [row_text(r, fields) for r in chunk]
            ex, sig8 = backend.sketch(texts, config, compact=True)
            state.append("ex.u64", ex)
            state.append("sig.u8", sig8)
            if config.keep == "longest":
                state.append("len.u32", np.array([len(t) for t in texts], dtype=np.uint32))
            n += len(chunk)
            state.save(rows=n, fields=fields)
            if progress:
                progress("sketch", n, max(total or 0, n))
        if n == 0:
            raise InputError(f"{inp} has no rows")
        state.save(sketched=True)
    t_sketch = time.perf_counter() - t0

    ex = state.load("ex.u64", np.uint64)
    if not state.meta.get("decided"):
        sig8 = state.load("sig.u8", np.uint8, (n, P))
        rank = None
        if config.keep == "longest":
            lengths = state.load("len.u32", np.uint32).astype(np.int64)
            rank = np.argsort(np.lexsort((np.arange(n), -lengths)))  # position -> rank, longest first
        reason, dup_of, dup_ix, sim, stats, times = decide(ex, sig8, config, rank=rank, backend=backend)
        del sig8
        np.savez(state.folder / "decision.npz", reason=reason, dup_of=dup_of, sim=sim)
        state.save(decided=True, stats=stats, times=times)
    d = np.load(state.folder / "decision.npz")
    reason, dup_of, sim = d["reason"], d["dup_of"], d["sim"]
    stats, times = state.meta["stats"], state.meta["times"]
    times["sketch_s"] = t_sketch

    # pass 2: the survivors' ids name their copies; with keep=first a survivor comes before its copies
    needed = np.unique(dup_of[reason > 0])
    ids: dict[int, object] = {}
    if config.keep == "longest" and len(needed):
        want, pos = set(needed.tolist()), 0
        for chunk in batches(inp, batch_rows):
            for r in chunk:
                if pos in want:
                    ids[pos] = row_id(r, pos, config.id_field)
                pos += 1
    needed_set = set(needed.tolist())
    kept_out = TableWriter(out)
    dropped_rows = _DroppedSpool(dropped_path)
    pos = seen = 0
    try:
        for chunk, lines in batches(inp, batch_rows, raw=True):
            seen += len(chunk)
            keep, keep_lines = [], []
            as_lines = lines is not None and kept_out.takes_lines
            for i, why in enumerate(reason[pos:pos + len(chunk)].tolist()):
                if pos in needed_set and pos not in ids:
                    ids[pos] = row_id(chunk[i], pos, config.id_field)
                if why == 0:
                    if as_lines:
                        keep_lines.append(lines[i])
                    else:
                        keep.append(chunk[i])
                else:
                    r = chunk[i]
                    dropped_rows.add({**r, "duplicate_of": ids[int(dup_of[pos])], "duplicate_in": "input",
                                      "reason": "exact_duplicate" if why == 1 else "near_duplicate",
                                      "similarity": round(float(sim[pos]), 4)})
                pos += 1
            if as_lines:  # JSONL to JSONL: the kept lines as they were, not parsed and dumped again
                kept_out.write_lines(keep_lines, len(keep_lines))
            else:
                kept_out.write(keep)
            if progress:
                progress("write", pos, n)
        if seen != n:
            raise InputError(f"{inp} changed while it was read ({n:,} rows, then {seen:,}); run again")
        kept_out.close()
        dropped_rows.close()
    except BaseException:
        dropped_rows.abort()
        raise
    times["total_s"] = time.perf_counter() - t0
    report = build_report(config, n, reason, dup_of, np.full(n, -1, np.int64), stats, times, fields or [])
    report["streamed"] = {"batch_rows": batch_rows, "bytes_per_row": 8 + P + (4 if config.keep == "longest" else 0),
                          "resumed": resumed}
    shutil.rmtree(state.folder, ignore_errors=True)
    return report


class _DroppedSpool:
    """Dropped rows as JSON lines, written under a temporary name and renamed on close."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.fh = open(self.tmp, "w", encoding="utf-8")

    def add(self, row: dict) -> None:
        self.fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        self.fh.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.fh.close()
        self.tmp.unlink(missing_ok=True)


def iter_batches_with_state(inp: Path, state_dir: Path, key: dict, files: dict[str, Path], batch_rows: int):
    """For a one-pass command (filter): a `_State` whose checkpoint holds rows done and the byte
    length of each partial output file in `files`; those files are cut back to it, opened for append,
    and the input's remaining batches are yielded as (handles, batch)."""
    state = _State(state_dir, {"v": STATE_VERSION, "batch_rows": batch_rows, **key, **_input_key(inp)})
    sizes = state.meta.get("sizes", {})
    handles = {}
    for name, path in files.items():
        p = state.folder / (name + ".partial")
        if state.resumed:
            with open(p, "r+b") as fh:
                fh.truncate(sizes.get(name, 0))
        handles[name] = open(p, "a" if state.resumed else "w", encoding="utf-8")
    return state, handles, batches(inp, batch_rows, skip=state.meta["rows"])


def checkpoint(state: _State, handles: dict, rows_done: int, **extra) -> None:
    sizes = {}
    for name, fh in handles.items():
        fh.flush()
        os.fsync(fh.fileno())
        sizes[name] = fh.tell()
    state.save(rows=rows_done, sizes=sizes, **extra)


def finish_jsonl(state: _State, name: str, target: Path) -> int:
    """Move a partial JSON-lines file to `target` (by its suffix: JSONL, Parquet or a dataset dir)."""
    src = state.folder / (name + ".partial")
    if Path(target).suffix == ".jsonl":
        os.replace(src, target)
        return -1
    w = TableWriter(Path(target))
    with open(src, encoding="utf-8") as fh:
        while lines := list(islice(fh, BATCH_ROWS)):
            w.write([json.loads(x) for x in lines])
    w.close()
    return w.n
