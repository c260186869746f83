"""The state folder of a streamed command: arrays appended batch by batch plus `meta.json`, the
checkpoint, written last and atomically; whatever lies past the checkpoint is cut back on resume."""

from __future__ import annotations

import json
import os
import shutil
from itertools import islice
from pathlib import Path

import numpy as np

from synth.dedup.reading import batches, input_key
from synth.dedup.writers import TableWriter

STATE_VERSION = 2  # 2: the decision spilled to the folder (decide_spilled)
BATCH_ROWS = 20_000


class State:
    """A folder of arrays plus `meta.json`; a folder whose key (input, options, version) differs from
    this run's is cleared."""

    def __init__(self, folder: Path, key: dict):
        self.folder = Path(folder)
        self.meta_path = self.folder / "meta.json"
        meta = None
        if self.meta_path.exists():
            meta = json.loads(self.meta_path.read_text())
            if meta.get("key") != key:
                meta = None  # another input, options or version: start again
        self.meta = meta
        if meta is None:
            self.restart(key)

    def restart(self, key: dict) -> None:
        """An empty folder and checkpoint: the run starts from its first row."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.meta = {"key": key, "rows": 0}

    @property
    def resumed(self) -> bool:
        return self.meta["rows"] > 0

    def path(self, name: str) -> Path:
        return self.folder / name

    def save(self, **changes) -> None:
        self.meta.update(changes)
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.meta))
        os.replace(tmp, self.meta_path)

    def append(self, name: str, arr: np.ndarray, sync: bool = True) -> None:
        with open(self.folder / name, "ab") as fh:
            fh.write(np.ascontiguousarray(arr).tobytes())
            fh.flush()
            if sync:
                os.fsync(fh.fileno())

    def truncate(self, name: str, nbytes: int) -> None:
        p = self.folder / name
        if p.exists():
            with open(p, "r+b") as fh:
                fh.truncate(nbytes)

    def load(self, name: str, dtype, shape=None, start: int = 0, count: int = -1) -> np.ndarray:
        """Items [start, start + count) of an array file (all by default); no memory map is kept."""
        p = self.folder / name
        if not p.exists():
            return np.zeros(0, dtype)
        width = np.dtype(dtype).itemsize * (int(np.prod(shape[1:])) if shape else 1)
        arr = np.fromfile(p, dtype=dtype, offset=start * width,
                          count=count if count < 0 else count * width // np.dtype(dtype).itemsize)
        return arr.reshape((-1, *shape[1:])) if shape else arr

    def save_array(self, name: str, arr: np.ndarray) -> None:
        """Write a whole array file atomically (the checkpoint that names it is saved after)."""
        tmp = self.folder / (name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(np.ascontiguousarray(arr).tobytes())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.folder / name)


def iter_batches_with_state(inp: Path, state_dir: Path, key: dict, files: dict[str, Path], batch_rows: int):
    """For a one-pass command (filter): a `State` whose checkpoint holds rows done and the byte
    length of each partial output file in `files`; those files are cut back to it, opened for append,
    and the input's remaining batches are yielded as (handles, batch)."""
    state = State(state_dir, {"v": STATE_VERSION, "batch_rows": batch_rows, **key, **input_key(inp)})
    if state.resumed and not all((state.folder / (name + ".partial")).exists() for name in files):
        # stopped after moving a finished output into place (finish_jsonl) but before removing this
        # folder: the checkpoint no longer has the rows it counts, so go again from the first row
        state.restart(state.meta["key"])
    sizes = state.meta.get("sizes", {})
    handles = {}
    for name, path in files.items():
        p = state.folder / (name + ".partial")
        if state.resumed:
            with open(p, "r+b") as fh:
                fh.truncate(sizes.get(name, 0))
        handles[name] = open(p, "a" if state.resumed else "w", encoding="utf-8")
    return state, handles, batches(inp, batch_rows, skip=state.meta["rows"])


def checkpoint(state: State, handles: dict, rows_done: int, **extra) -> None:
    sizes = {}
    for name, fh in handles.items():
        fh.flush()
        os.fsync(fh.fileno())
        sizes[name] = fh.tell()
    state.save(rows=rows_done, sizes=sizes, **extra)


def finish_jsonl(state: State, name: str, target: Path) -> int:
    """Move a partial JSON-lines file to `target` (by its suffix: JSONL, Parquet or a dataset dir)."""
    src = state.folder / (name + ".partial")
    if Path(target).suffix == ".jsonl":
        os.replace(src, target)
        return -1
    w = TableWriter(Path(target))
    with open(src, "rb") as fh:
        while lines := list(islice(fh, BATCH_ROWS)):
            if not lines[-1].endswith(b"\n"):
                lines[-1] += b"\n"
            w.write_lines(lines, sum(1 for x in lines if x.strip()))
    w.close()
    return w.n
