"""Exact duplicates: the one exact-dedup key of synth, xxh64 of a text's normalised token sequence
(case, width, punctuation and spacing folded; see ``normalize``), and the first row of each key.

Every exact decision uses it: ``dedup_rows`` and decontamination (``signatures.sketch_chunk``
computes it beside the signatures, from the same tokens), persisted indexes, and the exact-only
stage in memory and streamed (synth.stages). Tokens are joined with U+001F, which no token holds,
so two texts share a key exactly when their token sequences are equal (or, about once in 2^64
pairs, by collision); nothing is cached between texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import xxhash

from synth.dedup.normalize import tokens


def token_keys(docs: Iterable[Sequence[str]], count: int = -1) -> np.ndarray:
    """The exact-dedup key of each document given as its tokens (``normalize.tokens``)."""
    return np.fromiter((xxhash.xxh64_intdigest("\x1f".join(toks).encode()) for toks in docs), dtype=np.uint64,
                       count=count)


def exact_hashes(texts: Iterable[str]) -> np.ndarray:
    """The exact-dedup key of each text.

    >>> a, b, c = exact_hashes(["Hello, World", "hello world!", "world hello"])
    >>> bool(a == b), bool(a == c)
    (True, False)
    """
    count = len(texts) if isinstance(texts, Sequence) else -1
    return token_keys((tokens(t) for t in texts), count)


EMPTY_TEXT = token_keys([[]])[0]  # a row with no words at all


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
