"""Shingles as 32-bit hashes, computed for many documents at once with numpy.

A document's tokens (see ``normalize.tokens``) are hashed once each (xxh3-64 of the UTF-8 bytes);
a shingle of ``n`` consecutive tokens is the order-sensitive mix
``x = h0; x = x * M + h_k (mod 2**64)``, finished with the murmur3 64-bit finaliser and cut to its
low 32 bits. ``shingle_hash32`` is the same function for one shingle, so a plain
``datasketch.MinHash(hashfunc=shingle_hash32)`` updated shingle by shingle gives exactly the
signatures of ``signatures.py`` (tested).

Documents with fewer tokens than ``n`` become one shingle of all their tokens; empty documents have
no shingles.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import xxhash

_M = np.uint64(0x9E3779B97F4A7C15)  # odd: the mix stays a bijection in the last token
_MASK64 = (1 << 64) - 1


def fmix64(x: np.ndarray) -> np.ndarray:
    """Murmur3 64-bit finaliser on a uint64 array (wrapping arithmetic is intended)."""
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def token_hash(token: str) -> int:
    return xxhash.xxh3_64_intdigest(token.encode("utf-8"))


def shingle_hash32(shingle: Sequence[str]) -> int:
    """The 32-bit hash of one shingle (a tuple of tokens); the scalar twin of ``shingle_hashes``."""
    x = 0
    for k, tok in enumerate(shingle):
        x = token_hash(tok) if k == 0 else (x * int(_M) + token_hash(tok)) & _MASK64
    return int(fmix64(np.array([x], dtype=np.uint64))[0]) & 0xFFFFFFFF


def iter_shingles(toks: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """The shingles of one token list, in order, duplicates kept (MinHash ignores repeats)."""
    if not toks:
        return []
    if len(toks) < n:
        return [tuple(toks)]
    return [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]


class _TokenCache(dict):
    """token -> hash; a miss hashes the token (the only per-token Python call)."""

    def __missing__(self, token: str) -> int:
        if len(self) > 2_000_000:  # bound the memory of long runs
            self.clear()
        value = self[token] = token_hash(token)
        return value


_CACHE = _TokenCache()


def encode_tokens(docs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Token hashes of all documents concatenated (uint64) and each document's length.

    Each distinct token is hashed once per process; otherwise the per-token work is one C-level dict
    lookup (``map(dict.__getitem__)``).
    """
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    flat = chain.from_iterable(docs)
    return np.fromiter(map(_CACHE.__getitem__, flat), dtype=np.uint64, count=int(lengths.sum())), lengths


def shingle_hashes(token_hashes: np.ndarray, lengths: np.ndarray, ngrams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """32-bit shingle hashes of every document, concatenated in document order, and their counts.

    ``ngrams`` gives each document's n (word n-grams and CJK character n-grams can differ).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    eff = np.minimum(np.asarray(ngrams, dtype=np.int64), lengths)  # short docs: one whole-doc shingle
    counts = np.where(lengths > 0, lengths - eff + 1, 0)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(lengths) else lengths
    out_starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(counts) else counts
    out = np.empty(int(counts.sum()), dtype=np.uint32)
    combo = token_hashes.copy()  # combo[i] = mix of tokens i .. i+k-1
    with np.errstate(over="ignore"):
        for k in range(1, int(eff.max(initial=0)) + 1):
            if k > 1:
                combo = combo[:-1] * _M + token_hashes[k - 1:]
            docs = np.flatnonzero((eff == k) & (counts > 0))
            if len(docs) == 0:
                continue
            c = counts[docs]
            local = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
            src = np.repeat(starts[docs], c) + local
            dst = np.repeat(out_starts[docs], c) + local
            out[dst] = (fmix64(combo[src]) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return out, counts
