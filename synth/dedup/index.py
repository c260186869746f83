"""A persisted dedup index on disk: what earlier runs kept, so new rows are checked against it.

Layout of the directory::

    index.json              format, the config tag it was built with, row count, shard list
    shard-000001.npz        sig8 (n x num_perm uint8, one byte per MinHash value) + exact (n uint64)
    shard-000001.ids.jsonl  the id of each row, one JSON value per line (read only for matches)

Each run appends one shard, so nothing earlier is rewritten. In memory an index costs
``num_perm + 8`` bytes per row (136 B at 128 permutations); band keys are recomputed from the bytes
while scanning, never stored. A lock file keeps two runs from appending at once.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import numpy as np

from synth.errors import ConfigError, InputError
from synth.io import atomic_path

FORMAT = 2  # 2: exact hashes are synth.dedup.exact's key (1: a sum of token hashes)


class DiskIndex:
    """Open with ``DiskIndex.open(path, tag, num_perm)``; use as a context manager to hold the lock."""

    def __init__(self, path: Path, meta: dict, sig8: np.ndarray, exact: np.ndarray):
        self.path, self.meta, self.sig8, self.exact = path, meta, sig8, exact
        self._lock = None

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, tag: str, num_perm: int) -> "DiskIndex":
        p = Path(path)
        if p.exists() and not p.is_dir():
            raise InputError(f"index {p} is a file; --index takes a directory (created if missing)")
        p.mkdir(parents=True, exist_ok=True)
        lock = open(p / ".lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise InputError(f"index {p} is in use by another dedup run; wait for it to finish") from None
        meta_path = p / "index.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            if meta.get("format") != FORMAT:
                lock.close()
                raise InputError(f"index {p} has format {meta.get('format')}, this synth reads {FORMAT}: build a "
                                 "new index (its rows' exact hashes would not match this synth's)")
            if meta["tag"] != tag:
                lock.close()
                raise ConfigError(
                    f"index {p} was built with {meta['tag']} but this run uses {tag}: use the same "
                    "--num-perm/--ngram/bands/rows/seed, or a new index"
                )
            parts = [np.load(p / s["file"]) for s in meta["shards"]]
            sig8 = np.concatenate([z["sig8"] for z in parts]) if parts else np.zeros((0, num_perm), np.uint8)
            exact = np.concatenate([z["exact"] for z in parts]) if parts else np.zeros(0, np.uint64)
        else:
            meta = {"format": FORMAT, "tag": tag, "scheme": "datasketch affine32, low byte", "count": 0, "shards": []}
            sig8, exact = np.zeros((0, num_perm), np.uint8), np.zeros(0, np.uint64)
        index = cls(p, meta, sig8, exact)
        index._lock = lock
        return index

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- reading ---------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self.exact)

    @property
    def nbytes(self) -> int:
        return self.sig8.nbytes + self.exact.nbytes

    def exact_matches(self, hashes: np.ndarray) -> np.ndarray:
        """For each hash, the index row with the same exact hash, or -1."""
        out = np.full(len(hashes), -1, dtype=np.int64)
        if self.count == 0 or len(hashes) == 0:
            return out
        order = np.argsort(hashes, kind="stable")
        hs = hashes[order]
        pos = np.searchsorted(hs, self.exact)  # scan the index once; it is not sorted
        ok = np.flatnonzero((pos < len(hs)) & (hs[np.minimum(pos, len(hs) - 1)] == self.exact))
        # a query hash equal to several index rows keeps the first index row
        for ordinal in ok[::-1]:
            lo, hi = pos[ordinal], np.searchsorted(hs, self.exact[ordinal], side="right")
            out[order[lo:hi]] = ordinal
        return out

    def ids(self, ordinals) -> dict[int, object]:
        """The stored ids of the given index rows, read from the shard id files."""
        wanted = sorted(set(int(o) for o in ordinals))
        out, base, w = {}, 0, 0
        for shard in self.meta["shards"]:
            n = shard["count"]
            if w < len(wanted) and wanted[w] < base + n:
                with open(self.path / shard["ids"], encoding="utf-8") as fh:
                    for k, line in enumerate(fh):
                        while w < len(wanted) and wanted[w] == base + k:
                            out[wanted[w]] = json.loads(line)
                            w += 1
            base += n
        return out

    # -- writing ---------------------------------------------------------------------------------
    def add(self, sig8: np.ndarray, exact: np.ndarray, ids: list, rows=None) -> None:
        """Append rows as a new shard and record it in index.json (both written atomically)."""
        if len(exact) == 0:
            return
        k = len(self.meta["shards"]) + 1
        name = f"shard-{k:06d}"
        with atomic_path(self.path / f"{name}.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, sig8=sig8, exact=exact)
        with atomic_path(self.path / f"{name}.ids.jsonl") as tmp:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.writelines(json.dumps(i, ensure_ascii=False, default=str) + "\n" for i in ids)
        self.meta["shards"].append({"file": f"{name}.npz", "ids": f"{name}.ids.jsonl", "count": len(exact)})
        self.meta["count"] = self.count + len(exact)
        with atomic_path(self.path / "index.json") as tmp:
            tmp.write_text(json.dumps(self.meta, indent=1))
        self.sig8 = np.concatenate([self.sig8, sig8])
        self.exact = np.concatenate([self.exact, exact])

    # -- near-duplicate lookups (same code as within a batch, see lsh.py) ---------------------------
    def near_candidates(self, sig8: np.ndarray, bands: int, rows: int, active: np.ndarray):
        from synth.dedup.lsh import index_candidates

        return index_candidates(sig8, self.sig8, bands, rows, active)

    def similarity(self, sig8: np.ndarray, rows: np.ndarray, ordinals: np.ndarray) -> np.ndarray:
        from synth.dedup.lsh import similarity

        return similarity(sig8, self.sig8, rows, ordinals)
