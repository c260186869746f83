"""The dedup decision out of core: `core.decide`'s decisions from the state folder of a streamed run,
holding a few bytes a row instead of the signatures.

Pass 1 left `ex.u64` (exact hash per row) and `sig.u8` (n x num_perm one-byte signatures, row-major)
in the state folder. Here:

1. exact: rows split into hash partitions of about a million rows, `first_occurrence` in each
   (a hash's rows all fall in one partition, so each group's survivor is the same as over all rows);
2. spill: `sig.u8` read once in row chunks and written band-major, one file of r bytes a row per band;
3. per band (a checkpoint after each): that band's columns of the active rows, sorted by key packed
   with the row number (one uint64 a row), pairs of bucket neighbours as `lsh.batch_candidates` makes
   them, the pairs not seen in an earlier band verified on the signature bytes read from `sig.u8`
   (rows gathered by one sequential read per chunk of pairs, no memory map: a mapped file's pages
   would count as resident), candidates and verified pairs appended to files;
4. union-find over the verified pairs' rows only (ids compressed to those rows).

RAM per row: 8 B while the exact step holds the hashes (+ 4 for the rows grouped by partition), then 1 (reason) + 4 (dup_of) + 2 (matching
bytes) + 4 (active rows) + ~16 transient for one band's sorted keys (r <= 4: key and row packed in one
uint64; r > 4: a uint64 key built in row slices plus its int64 order); plus 8 B per candidate pair,
held once (each band's new pairs stay a sorted run of their own, never merged into a copy).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from synth.dedup import lsh
from synth.dedup.exact import EMPTY_TEXT, first_occurrence

PARTITION_ROWS = 1 << 20  # rows per exact-hash partition (16 MB of hashes + the sort's arrays)
SPILL_ROWS = 1 << 16  # rows of sig.u8 read at a time when writing band files
GATHER_ROWS = 1 << 19  # distinct rows of one verification chunk (64 MB at 128 permutations)
DENSE = 64  # a stretch with a needed row per DENSE rows or more is read whole (cheaper than a read a row)
_COMPARE = 1 << 14  # pairs compared at a time (temporaries of 2 x 16k rows)
_LOW = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)


def rank_from_lengths(lengths: np.ndarray) -> np.ndarray:
    """keep=longest: position -> rank (longest first, ties by position), as int32."""
    order = np.argsort(-lengths.astype(np.int64), kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank


def _partition_order(ex: np.ndarray, parts: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows grouped by hash partition, ascending within each; each partition's start in it), int32:
    a counting sort in row slices (4 B a row and a slice's temporaries), not a scan of every row
    per partition."""
    n = len(ex)
    counts = np.zeros(parts, dtype=np.int64)
    for s in range(0, n, PARTITION_ROWS):
        counts += np.bincount((ex[s:s + PARTITION_ROWS] % np.uint64(parts)).astype(np.intp), minlength=parts)
    starts = np.concatenate(([0], np.cumsum(counts)))
    order = np.empty(n, dtype=np.int32)
    fill = starts[:-1].copy()
    for s in range(0, n, PARTITION_ROWS):
        ps = (ex[s:s + PARTITION_ROWS] % np.uint64(parts)).astype(np.intp)
        o = np.argsort(ps, kind="stable")  # this slice's rows by partition, ascending within one
        c = np.bincount(ps, minlength=parts)
        sp = ps[o]
        order[fill[sp] + np.arange(len(o)) - (np.cumsum(c) - c)[sp]] = o + s
        fill += c
    return order, starts


def _exact(ex: np.ndarray, rank, reason: np.ndarray, dup_of: np.ndarray) -> None:
    n = len(ex)
    parts = max(1, -(-n // PARTITION_ROWS))
    if parts == 1:
        first = first_occurrence(ex, rank)
        hit = np.flatnonzero(first != np.arange(n))
        dup_of[hit], reason[hit] = first[hit], 1
        return
    order, starts = _partition_order(ex, parts)
    for p in range(parts):
        rows = order[starts[p]:starts[p + 1]].astype(np.int64)
        first = rows[first_occurrence(ex[rows], None if rank is None else rank[rows])]
        hit = first != rows
        dup_of[rows[hit]], reason[rows[hit]] = first[hit], 1


def matching_bytes(sig_path, n: int, p: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signature bytes that agree between rows a[i] and b[i] of the (n, p) uint8 file `sig_path`."""
    out = np.empty(len(a), dtype=np.int64)
    step = GATHER_ROWS // 2
    fd = os.open(sig_path, os.O_RDONLY)
    try:
        for s in range(0, len(a), step):
            ca, cb = a[s:s + step], b[s:s + step]
            need = np.unique(np.concatenate([ca, cb]))
            got = _gather(fd, need, p)
            ia, ib = np.searchsorted(need, ca), np.searchsorted(need, cb)
            for t in range(0, len(ia), _COMPARE):
                u = min(len(ia), t + _COMPARE)
                out[s + t:s + u] = (got[ia[t:u]] == got[ib[t:u]]).sum(axis=1)
    finally:
        os.close(fd)
    return out


def _gather(fd: int, rows: np.ndarray, p: int) -> np.ndarray:
    """Rows (sorted, distinct) of the signature file: a sparse stretch row by row, a dense one in one read."""
    got = np.empty((len(rows), p), dtype=np.uint8)
    i = 0
    while i < len(rows):
        lo = int(rows[i])
        j = int(np.searchsorted(rows, lo + SPILL_ROWS, side="left"))  # rows of this stretch
        span = int(rows[j - 1]) - lo + 1
        if (j - i) * DENSE >= span:  # dense: read the stretch and pick
            block = np.frombuffer(os.pread(fd, span * p, lo * p), dtype=np.uint8).reshape(span, p)
            got[i:j] = block[rows[i:j] - lo]
        else:
            for k in range(i, j):
                got[k] = np.frombuffer(os.pread(fd, p, int(rows[k]) * p), dtype=np.uint8)
        i = j
    return got


def _spill_bands(state, n: int, p: int, bands: int, r: int) -> None:
    """sig.u8 -> band{k}.u8 (n x r each), read once in row chunks."""
    handles = [open(state.path(f"band{k}.u8.tmp"), "wb") for k in range(bands)]
    with open(state.path("sig.u8"), "rb") as fh:
        for s in range(0, n, SPILL_ROWS):
            chunk = np.frombuffer(fh.read(min(SPILL_ROWS, n - s) * p), dtype=np.uint8).reshape(-1, p)
            for k, out in enumerate(handles):
                out.write(np.ascontiguousarray(chunk[:, k * r:(k + 1) * r]).tobytes())
    for k, out in enumerate(handles):
        out.flush()
        os.fsync(out.fileno())
        out.close()
        os.replace(state.path(f"band{k}.u8.tmp"), state.path(f"band{k}.u8"))


def _sorted_band(cols: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys ascending, positions in `cols`), ties in position order, as `lsh.sorted_band`; with
    r <= 4, key and position packed in one uint64 sorted in place (8 B a row)."""
    m = len(cols)
    if r > 4 or m >= 1 << 32:
        return lsh.sorted_band(cols, 0, r)
    packed = np.zeros((m, 4), dtype=np.uint8)
    packed[:, 4 - r:] = cols
    both = packed.view(">u4").ravel().astype(np.uint64)
    del packed
    both <<= _32
    for s in range(0, m, 1 << 20):
        both[s:s + (1 << 20)] |= np.arange(s, min(m, s + (1 << 20)), dtype=np.uint64)
    both.sort()
    if sys.byteorder == "little":  # the key is the high half of each uint64, the position the low one
        halves = both.view(np.uint32)
        return halves[1::2], halves[0::2]
    return both >> _32, both & _LOW


def _band_pairs(cols: np.ndarray, r: int, active: np.ndarray) -> np.ndarray:
    """Sorted distinct candidate pairs of one band, packed (left << 32 | right), left < right."""
    k, order = _sorted_band(cols, r)
    out = []
    for w in range(1, lsh.WINDOW + 1):
        same = np.flatnonzero(k[w:] == k[:-w])
        if len(same) == 0:
            break
        left = active[order[same]].astype(np.uint64)
        out.append((left << _32) | active[order[same + w]].astype(np.uint64))
    return np.unique(np.concatenate(out)) if out else np.zeros(0, np.uint64)


def _unseen(pairs: np.ndarray, runs: list[np.ndarray]) -> np.ndarray:
    """`pairs` not in any earlier band's run (each run sorted; runs are disjoint, so never merged:
    a merge would hold every candidate pair twice)."""
    keep = np.ones(len(pairs), dtype=bool)
    for run in runs:
        if len(run) and len(pairs):
            pos = np.minimum(np.searchsorted(run, pairs), len(run) - 1)
            keep &= run[pos] != pairs
    return pairs[keep]


def _components(rows_a: np.ndarray, rows_b: np.ndarray, rank) -> tuple[np.ndarray, np.ndarray]:
    """(dropped rows, the survivor each duplicates) from verified pairs: a component's survivor is its
    lowest-ranked row. Only rows in some pair get a node (memory per pair, not per row)."""
    rows = np.unique(np.concatenate([rows_a, rows_b]))
    if len(rows) == 0:
        return rows, rows
    by_rank = rows if rank is None else rows[np.argsort(rank[rows], kind="stable")]
    node = np.empty(len(rows), dtype=np.int64)  # index in `rows` -> node number (by rank)
    node[np.searchsorted(rows, by_rank)] = np.arange(len(rows))
    labels = lsh.components(len(rows), node[np.searchsorted(rows, rows_a)], node[np.searchsorted(rows, rows_b)])
    dup = np.flatnonzero(labels != np.arange(len(rows)))
    return by_rank[dup], by_rank[labels[dup]]


def decide_spilled(state, n: int, config, progress=None) -> dict:
    """Decide from the state folder; writes reason.i8, dup_of.i32 and match.i16 (bytes agreeing with the
    survivor) there and returns {"stats", "times"}. A checkpoint after the exact step, the spill and
    every band lets a killed run go on from there."""
    p, (bands, r) = config.num_perm, config.params
    if n >= 1 << 31:
        raise ValueError(f"{n:,} rows: the spilled decision numbers rows in 32 bits; split the input")
    d = state.meta.setdefault("decision", {})
    if progress and config.near:  # the bar shows from the start (the exact step and the spill come first)
        progress("decide", d.get("bands_done", 0), bands)
    t0, times = time.perf_counter(), d.setdefault("times", {})
    rank = None
    if config.keep == "longest":
        rank = rank_from_lengths(state.load("len.u32", np.uint32))
    if not d.get("exact"):
        reason = np.zeros(n, dtype=np.int8)
        dup_of = np.full(n, -1, dtype=np.int32)
        if config.exact:
            _exact(state.load("ex.u64", np.uint64), rank, reason, dup_of)
        state.save_array("exact_reason.i8", reason)
        state.save_array("exact_dup_of.i32", dup_of)
        d["exact"] = True
        times["exact_s"] = time.perf_counter() - t0
        state.save(decision=d)
    reason, dup_of = state.load("exact_reason.i8", np.int8), state.load("exact_dup_of.i32", np.int32)
    stats = {"candidate_pairs": 0, "verified_pairs": 0}
    if config.near:
        t1 = time.perf_counter()
        if not d.get("spilled"):
            _spill_bands(state, n, p, bands, r)
            d["spilled"] = True
            times["spill_s"] = time.perf_counter() - t1
            state.save(decision=d)
        ex = state.load("ex.u64", np.uint64)
        active = np.flatnonzero((reason == 0) & (ex != EMPTY_TEXT)).astype(np.int32)
        del ex
        done = d.get("bands_done", 0)
        for name, key in (("cand.u64", "cand_n"), ("edges.u64", "edges_n")):
            state.truncate(name, 8 * d.get(key, 0))
        runs, start = [], 0  # each band's new candidate pairs, sorted, as appended to cand.u64
        for length in d.get("runs", []):
            runs.append(state.load("cand.u64", np.uint64, start=start, count=length))
            start += length
        for band in range(done, bands):
            cols = state.load(f"band{band}.u8", np.uint8, (n, r))[active]
            new = _unseen(_band_pairs(cols, r, active), runs)
            del cols
            a, b = (new >> _32).astype(np.int64), (new & _LOW).astype(np.int64)
            ok = lsh.jaccard_from_matches(matching_bytes(state.path("sig.u8"), n, p, a, b), p) >= config.threshold
            state.append("cand.u64", new)
            state.append("edges.u64", new[ok])
            runs.append(new)
            d.update(bands_done=band + 1, runs=[len(x) for x in runs], cand_n=sum(len(x) for x in runs),
                     edges_n=d.get("edges_n", 0) + int(ok.sum()))
            state.save(decision=d)
            state.path(f"band{band}.u8").unlink(missing_ok=True)
            if progress:
                progress("decide", band + 1, bands)
        stats = {"candidate_pairs": d.get("cand_n", 0), "verified_pairs": d.get("edges_n", 0)}
        times["candidates_s"] = time.perf_counter() - t1
        del runs, active
        t2 = time.perf_counter()
        edges = state.load("edges.u64", np.uint64)
        rows, to = _components((edges >> _32).astype(np.int64), (edges & _LOW).astype(np.int64), rank)
        del edges
        reason[rows], dup_of[rows] = 2, to
    match = np.full(n, p, dtype=np.int16 if p < 1 << 15 else np.int32)  # p agreeing bytes: similarity 1.0
    if config.near:
        near = np.flatnonzero(reason == 2)
        match[near] = matching_bytes(state.path("sig.u8"), n, p, near, dup_of[near].astype(np.int64))
        # exact duplicates of a row that was itself a near duplicate point at that row's survivor
        ex_rows = np.flatnonzero((reason == 1) & (dup_of >= 0))
        moved = ex_rows[reason[dup_of[ex_rows]] == 2]
        rep = dup_of[moved]
        dup_of[moved], match[moved], reason[moved] = dup_of[rep], match[rep], 2
        times["near_s"] = time.perf_counter() - t2
    state.save_array("reason.i8", reason)
    state.save_array("dup_of.i32", dup_of)
    state.save_array("match.i16", match)
    return {"stats": stats, "times": times}
