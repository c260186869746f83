"""Exact duplicates: a 64-bit hash of the normalised token sequence (case, width, punctuation and
spacing folded; see ``normalize``), computed with the signatures (``signatures.sketch``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synth.dedup.normalize import tokens
from synth.dedup.shingles import encode_tokens, text_hashes

EMPTY_TEXT = text_hashes(np.zeros(0, np.uint64), np.zeros(1, np.int64))[0]  # a row with no words at all


def exact_hashes(texts: Sequence[str]) -> np.ndarray:
    """The exact-dedup key of each text (what ``sketch`` computes alongside the signatures)."""
    return text_hashes(*encode_tokens([tokens(t) for t in texts]))


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
