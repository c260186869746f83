"""``dedup_rows``: exact then MinHash near-duplicate removal over a list of rows, optionally against
a persisted index of earlier data.

Every input row ends up in exactly one of ``kept`` or ``dropped``. A dropped row is the original row
plus four keys::

    duplicate_of   id (``id_field`` value, else 0-based input position) of the row it duplicates:
                   the surviving row of its cluster, or a row of the index
    duplicate_in   "input" or "index"
    reason         "exact_duplicate" or "near_duplicate"
    similarity     estimated Jaccard with that row (1.0 for exact duplicates)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from synth.dedup import lsh
from synth.dedup.config import DedupConfig
from synth.dedup.exact import EMPTY_TEXT, first_occurrence
from synth.dedup.report import build_report
from synth.dedup.signatures import sketch
from synth.dedup.text import check_fields, default_fields, row_id, row_text

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class DedupResult:
    kept: list[dict]
    dropped: list[dict]
    report: dict = field(default_factory=dict)


def open_index(config: DedupConfig):
    """The index named by ``config.index``: a directory, or ``redis://host:port/name``."""
    if config.index is None:
        return None
    if config.index.startswith("redis://"):
        from synth.dedup.redis_index import RedisIndex

        return RedisIndex.open(config.index, config)
    from synth.dedup.index import DiskIndex

    return DiskIndex.open(config.index, config.index_tag(), config.num_perm)


class LocalBackend:
    """Signatures in a local process pool, band candidates in numpy (``ray_job.RayBackend`` is the
    same two methods as a Ray Data job)."""

    def sketch(self, texts, config: DedupConfig, progress=None, compact=True):
        return sketch(texts, num_perm=config.num_perm, seed=config.seed, ngram=config.ngram,
                      cjk_ngram=config.cjk_ngram, compact=compact, workers=config.workers, progress=progress)

    def candidates(self, sig8, active, bands: int, rows: int):
        return lsh.batch_candidates(sig8, bands, rows, active)


def dedup_rows(rows: list[dict], config: DedupConfig | None = None, *, progress: Progress | None = None,
               backend=None) -> DedupResult:
    """Drop exact and (with ``config.near``) near duplicates from ``rows`` (and rows already in ``config.index``).

    ``progress(stage, done, total)`` is called as stages advance. ``backend`` computes signatures
    and band candidates (default ``LocalBackend()``; ``synth.dedup.ray_job.RayBackend`` spreads them
    over a Ray cluster); verification and clustering are the same for every backend.
    """
    config = config or DedupConfig()
    backend = backend or LocalBackend()
    index = open_index(config)
    try:
        return _dedup(rows, config, index, progress, backend)
    finally:
        if index is not None:
            index.close()


def _dedup(rows, config, index, progress, backend) -> DedupResult:
    t0, times = time.perf_counter(), {}
    n = len(rows)
    fields = list(config.fields or default_fields(rows, config.id_field))
    if n:
        check_fields(rows, fields)
    texts = [row_text(r, fields) for r in rows]
    ids = [row_id(r, i, config.id_field) for i, r in enumerate(rows)]
    # preference: lower rank survives (input order, or longest text first)
    rank = np.arange(n) if config.keep == "first" else np.lexsort((np.arange(n), -np.array([len(t) for t in texts])))
    if config.keep == "longest":
        rank = np.argsort(rank)  # position -> rank
    index_count = index.count if index is not None else 0

    # 1. sketch every row once: exact hash of the normalised text + one-byte MinHash signature
    done = [0]

    def _advance(k):
        done[0] += k
        progress("sketch", done[0], n)

    full_needed = getattr(index, "set_signatures", None) is not None  # Redis: datasketch's band keys
    ex, sig = backend.sketch(texts, config, progress=_advance if progress else None, compact=not full_needed)
    if full_needed:
        index.set_signatures(sig)
        sig = lsh.compact(sig)
    sig8 = sig
    if progress and n == 0:
        progress("sketch", 0, 0)
    times["sketch_s"] = time.perf_counter() - t0

    reason, dup_of, dup_ix, sim, stats, decided = decide(ex, sig8, config, rank=rank, index=index, backend=backend)
    times.update(decided)

    # 2. split, naming what each dropped row duplicates
    kept_mask = reason == 0
    index_ids = index.ids(dup_ix[dup_ix >= 0]) if index is not None else {}
    kept, dropped = [], []
    for i, row in enumerate(rows):
        if kept_mask[i]:
            kept.append(row)
            continue
        in_index = dup_ix[i] >= 0
        dropped.append({
            **row,
            "duplicate_of": index_ids.get(int(dup_ix[i])) if in_index else ids[dup_of[i]],
            "duplicate_in": "index" if in_index else "input",
            "reason": "exact_duplicate" if reason[i] == 1 else "near_duplicate",
            "similarity": round(float(sim[i]), 4),
        })
    if index is not None:
        keep_idx = np.flatnonzero(kept_mask)
        index.add(sig8[keep_idx], ex[keep_idx], [ids[i] for i in keep_idx], rows=keep_idx)
    times["total_s"] = time.perf_counter() - t0
    report = build_report(config, n, reason, dup_of, dup_ix, stats, times, fields,
                          index_before=index_count, index=index)
    return DedupResult(kept, dropped, report)


def decide(ex: np.ndarray, sig8: np.ndarray, config: DedupConfig, *, rank=None, index=None, backend=None):
    """Which rows are duplicates, from their exact hashes and one-byte signatures alone (no rows, so
    a streamed run can sketch its records chunk by chunk and decide once): arrays `reason` (0 kept,
    1 exact, 2 near), `dup_of` (batch row duplicated, or -1), `dup_ix` (index row, or -1), `sim`,
    plus pair counts and timings. ``rank`` orders preference (lower survives; default: position).
    """
    backend = backend or LocalBackend()
    n = len(ex)
    rank = np.arange(n) if rank is None else rank
    times: dict[str, float] = {}
    dup_of = np.full(n, -1, dtype=np.int64)  # batch row it duplicates
    dup_ix = np.full(n, -1, dtype=np.int64)  # index row it duplicates
    reason = np.zeros(n, dtype=np.int8)  # 1 exact, 2 near
    sim = np.ones(n)
    # exact: within the batch and against the index
    if config.exact:
        first = first_occurrence(ex, rank)
        hit = np.flatnonzero(first != np.arange(n))
        dup_of[hit], reason[hit] = first[hit], 1
        if index is not None:
            ix = index.exact_matches(ex)
            hit = np.flatnonzero(ix >= 0)
            dup_ix[hit], dup_of[hit], reason[hit] = ix[hit], -1, 1

    # near: candidates by band among the survivors with any token, verified on the signature bytes
    stats = {"candidate_pairs": 0, "verified_pairs": 0}
    if config.near and n:
        t1 = time.perf_counter()
        active = np.flatnonzero((reason == 0) & (ex != EMPTY_TEXT))
        b, r = config.params
        a, c = backend.candidates(sig8, active, b, r)
        times["candidates_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        s = lsh.similarity(sig8, sig8, a, c)
        ok = s >= config.threshold
        stats["candidate_pairs"] += len(a)
        stats["verified_pairs"] += int(ok.sum())
        ea, eb = a[ok], c[ok]
        # against the index: nodes n.. are index rows
        ia = ib = np.zeros(0, np.int64)
        if index is not None and index.count:
            qa, qi = index.near_candidates(sig8, b, r, active)
            qs = index.similarity(sig8, qa, qi)
            ok = qs >= config.threshold
            stats["candidate_pairs"] += len(qa)
            stats["verified_pairs"] += int(ok.sum())
            ia, ib = qa[ok], qi[ok]
        _cluster(n, rank, ea, eb, ia, ib, dup_of, dup_ix, reason)
        near = np.flatnonzero(reason == 2)
        to_batch = near[dup_of[near] >= 0]
        sim[to_batch] = lsh.similarity(sig8, sig8, to_batch, dup_of[to_batch])
        to_index = near[dup_ix[near] >= 0]
        if len(to_index):
            sim[to_index] = index.similarity(sig8, to_index, dup_ix[to_index])
        # exact duplicates of a row that was itself a near duplicate point at that row's survivor
        ex_rows = np.flatnonzero((reason == 1) & (dup_of >= 0))
        moved = ex_rows[reason[dup_of[ex_rows]] == 2]
        rep = dup_of[moved]
        dup_of[moved], dup_ix[moved], sim[moved], reason[moved] = dup_of[rep], dup_ix[rep], sim[rep], 2
        times["near_s"] = time.perf_counter() - t2

    return reason, dup_of, dup_ix, sim, stats, times


def _cluster(n, rank, ea, eb, ia, ib, dup_of, dup_ix, reason) -> None:
    """Union-find over verified pairs; the preferred row of a cluster survives, or an index row.

    Nodes are numbered by preference so a component's smallest node is its survivor: index rows
    first (they were published already), then batch rows by ``rank``.
    """
    ix_nodes, ib_local = np.unique(ib, return_inverse=True)
    m = len(ix_nodes)
    node_of_row = m + np.asarray(rank)  # batch row -> node
    a = np.concatenate([node_of_row[ea], node_of_row[ia]])
    b = np.concatenate([node_of_row[eb], ib_local])
    labels = lsh.components(m + n, a, b)
    row_of_node = np.empty(n, dtype=np.int64)
    row_of_node[np.asarray(rank)] = np.arange(n)
    lab = labels[node_of_row]
    dup = np.flatnonzero((lab != node_of_row) & (reason == 0))
    reason[dup] = 2
    to_index = dup[lab[dup] < m]
    dup_ix[to_index] = ix_nodes[lab[to_index]]
    to_batch = dup[lab[dup] >= m]
    dup_of[to_batch] = row_of_node[lab[to_batch] - m]
