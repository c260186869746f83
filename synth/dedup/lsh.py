"""Banding, candidate pairs, verification and clustering on compact (one byte per permutation) sketches.

A full MinHash value is 4 bytes; we keep its low byte (b-bit MinHash, Li & König 2010). Two values of
documents with Jaccard J agree with probability ``J + (1 - J) / 256``, so the Jaccard estimate from
``m`` agreeing bytes out of ``P`` is ``(m / P - 1/256) / (1 - 1/256)``. A band is ``r`` consecutive
bytes; with r >= 4 unrelated documents share a band by chance with probability <= 2**-32 per band,
and every candidate pair is verified anyway. The same code runs on a batch and against a persisted
index, so both give the same decisions.
"""

from __future__ import annotations

import numpy as np

_M = np.uint64(0x9E3779B97F4A7C15)
_PAIR_CHUNK = 1 << 16
WINDOW = 4  # a bucket member is paired with up to this many members before it


def compact(signatures: np.ndarray) -> np.ndarray:
    """The low byte of every MinHash value: (n x num_perm) uint8."""
    return (signatures & np.uint32(0xFF)).astype(np.uint8)


KEY_SLICE = 1 << 16  # rows whose band bytes are widened to uint64 at a time (8 x r B a row, this many rows)


def band_keys(sig8: np.ndarray, band: int, rows: int) -> np.ndarray:
    """uint64 key of one band for every row of ``sig8`` (bytes packed exactly when rows <= 8).

    Built `KEY_SLICE` rows at a time into one uint64 array: 8 B a row plus a slice's temporaries,
    not the 8 x r B a row of widening every row's band bytes at once."""
    n = len(sig8)
    key = np.empty(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for s in range(0, n, KEY_SLICE):
            cols = sig8[s:s + KEY_SLICE, band * rows:(band + 1) * rows].astype(np.uint64)
            part = np.zeros(len(cols), dtype=np.uint64)
            for j in range(rows):
                part = (part << np.uint64(8)) | cols[:, j] if rows <= 8 else part * _M + cols[:, j]
            key[s:s + KEY_SLICE] = part
    return key


def jaccard_from_matches(matches: np.ndarray, p: int) -> np.ndarray:
    """Estimated Jaccard from the count of agreeing signature bytes out of ``p``, bias removed."""
    m = np.asarray(matches) / p
    return np.clip((m - 1 / 256) / (1 - 1 / 256), 0.0, 1.0)


def similarity(sig8: np.ndarray, other8: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of pairs (sig8[a[i]], other8[b[i]]), bias of one-byte values removed."""
    out = np.empty(len(a), dtype=np.float64)
    p = sig8.shape[1]
    for s in range(0, len(a), _PAIR_CHUNK):
        matches = (sig8[a[s:s + _PAIR_CHUNK]] == other8[b[s:s + _PAIR_CHUNK]]).sum(axis=1)
        out[s:s + _PAIR_CHUNK] = jaccard_from_matches(matches, p)
    return out


def _unique_pairs(a: list[np.ndarray], b: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if not a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b = np.concatenate(a), np.concatenate(b)
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def sorted_band(sig8: np.ndarray, band: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys in ascending order, row order); rows with equal keys stay in input order.

    With r <= 4 a key fits in 32 bits, so key and row number pack into one uint64 and a plain sort
    gives the stable order about twice as fast as a stable argsort.
    """
    n = len(sig8)
    if rows <= 4 and n < 1 << 32:
        packed = np.zeros((n, 4), dtype=np.uint8)
        packed[:, 4 - rows:] = sig8[:, band * rows:(band + 1) * rows]
        keys = packed.view(">u4").ravel().astype(np.uint64)  # == band_keys(sig8, band, rows)
        both = np.sort((keys << np.uint64(32)) | np.arange(n, dtype=np.uint64))
        return both >> np.uint64(32), (both & np.uint64(0xFFFFFFFF)).astype(np.int64)
    keys = band_keys(sig8, band, rows)
    order = np.argsort(keys, kind="stable")
    keys.sort()  # == keys[order], sorted in place: no second n-long copy
    return keys, order


def batch_candidates(sig8: np.ndarray, bands: int, rows: int, active: np.ndarray | None = None):
    """Pairs (i, j), i < j, of rows that share a band; only rows in ``active`` take part."""
    idx = np.arange(len(sig8)) if active is None else np.asarray(active)
    left, right = [], []
    for band in range(bands):
        # one band's columns of the active rows at a time (r bytes a row, not a copy of every signature)
        cols = sig8[idx, band * rows:(band + 1) * rows]
        k, order = sorted_band(cols, 0, rows)  # bucket members stay in input order
        del cols
        for w in range(1, WINDOW + 1):
            same = np.flatnonzero(k[w:] == k[:-w])
            if len(same) == 0:
                break
            left.append(idx[order[same]])
            right.append(idx[order[same + w]])
    return _unique_pairs(left, right)


def index_candidates(sig8: np.ndarray, index8: np.ndarray, bands: int, rows: int,
                     active: np.ndarray | None = None, chunk: int = 1 << 20):
    """Pairs (query row, index row) sharing a band; the index is scanned in chunks, never sorted,
    so the only memory beyond the index itself is a chunk's keys."""
    idx = np.arange(len(sig8)) if active is None else np.asarray(active)
    if len(idx) == 0 or len(index8) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sub = sig8[idx]
    qs, ix = [], []
    for band in range(bands):
        qkeys = band_keys(sub, band, rows)
        order = np.argsort(qkeys, kind="stable")
        qk = qkeys[order]
        for s in range(0, len(index8), chunk):
            ik = band_keys(index8[s:s + chunk], band, rows)
            lo = np.searchsorted(qk, ik, side="left")
            hi = np.searchsorted(qk, ik, side="right")
            hit = np.flatnonzero(hi > lo)
            if len(hit) == 0:
                continue
            n = (hi - lo)[hit]
            pos = np.repeat(lo[hit], n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
            qs.append(idx[order[pos]])
            ix.append(np.repeat(hit + s, n))
    return _unique_pairs(qs, ix)


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of an undirected graph: each node's label is the smallest node in it."""
    labels = np.arange(n)
    if len(a) == 0:
        return labels
    while True:
        la, lb = labels[a], labels[b]
        m = np.minimum(la, lb)
        before = labels.copy()
        np.minimum.at(labels, a, m)
        np.minimum.at(labels, b, m)
        labels = labels[labels]  # pointer jumping
        while True:
            nxt = labels[labels]
            if np.array_equal(nxt, labels):
                break
            labels = nxt
        if np.array_equal(labels, before):
            return labels
