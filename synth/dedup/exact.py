"""Exact duplicates: a 64-bit hash of the normalised text (see ``normalize``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xxhash

from synth.dedup.normalize import normalize


def exact_hashes(texts: Sequence[str]) -> np.ndarray:
    """xxh3-64 of each normalised text (case, width, punctuation and spacing folded)."""
    return np.fromiter((xxhash.xxh3_64_intdigest(normalize(t).encode("utf-8")) for t in texts),
                       dtype=np.uint64, count=len(texts))


def first_occurrence(hashes: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """For each row, the position of the row that survives among its equal hashes.

    ``order`` ranks rows by preference (lower survives); default: input position.
    """
    n = len(hashes)
    rank = np.arange(n) if order is None else np.asarray(order)
    idx = np.lexsort((rank, hashes))  # by hash, then preference
    h = hashes[idx]
    starts = np.concatenate(([True], h[1:] != h[:-1])) if n else np.zeros(0, bool)
    group_first = idx[np.maximum.accumulate(np.where(starts, np.arange(n), 0))]
    out = np.empty(n, dtype=np.int64)
    out[idx] = group_first
    return out
