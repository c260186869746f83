"""MinHash signatures in bulk, bit-identical to datasketch 2.x (``scheme="affine32"``).

datasketch's affine32 scheme maps each 32-bit shingle hash ``h`` to ``a * fmix32(h) + b (mod 2**32)``
for ``num_perm`` pairs ``(a, b)`` drawn from ``RandomState(seed)``, and keeps the minimum per
permutation. We take ``(a, b)`` from ``datasketch.MinHash(num_perm, seed).permutations`` and do the
same arithmetic on a (shingles x permutations) uint32 matrix in cache-sized blocks, then
``np.minimum.reduceat`` at document boundaries: no Python call per shingle. ``to_minhash`` wraps a
row as a ``datasketch.LeanMinHash`` for datasketch's LSH classes (the Redis index uses it).

Large inputs are split into chunks and spread over a process pool (``workers``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache

import numpy as np

from synth.dedup.normalize import _separators as separators
from synth.dedup.exact import token_keys
from synth.dedup.normalize import is_cjk, tokens
from synth.dedup.shingles import encode_tokens, shingle_hashes

EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's value for "no shingle seen"
SCHEME = "affine32"
_BLOCK = 8192  # shingles per block: 128 x 8192 x 4 B = 4 MiB
CHUNK = 8192  # documents per worker task


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's own (a, b) for this num_perm and seed: its affine32 draw (odd a, any b from
    ``RandomState(seed)``), repeated here so a command need not import datasketch (~0.4 s, scipy);
    tests/dedup/test_signatures.py compares it with ``MinHash(num_perm, seed).permutations``."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.ascontiguousarray(a), np.ascontiguousarray(b)


def fmix32(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x85EBCA6B)
    x = x ^ (x >> np.uint32(13))
    x = x * np.uint32(0xC2B2AE35)
    return x ^ (x >> np.uint32(16))


def minhash(shingles: np.ndarray, counts: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """(documents x num_perm) uint32 signatures from concatenated 32-bit shingle hashes."""
    a, b = permutations(num_perm, seed)
    a, b = a[:, None], b[:, None]
    sig = np.full((len(counts), num_perm), EMPTY, dtype=np.uint32)
    nonempty = np.flatnonzero(counts > 0)
    if len(nonempty) == 0:
        return sig
    c = counts[nonempty]
    ends = np.cumsum(c)
    hv = fmix32(shingles)
    # (permutations x shingles): reduceat along the contiguous axis is ~10x faster than along rows
    buf = np.empty((num_perm, _BLOCK), dtype=np.uint32)
    d0 = 0  # first document of the block (index into nonempty)
    while d0 < len(nonempty):
        s0 = ends[d0] - c[d0]
        # as many whole documents as fit in a block (at least one, however long)
        d1 = max(d0 + 1, int(np.searchsorted(ends, s0 + _BLOCK, side="right")))
        s1 = ends[d1 - 1]
        m = s1 - s0
        block = buf[:, :m] if m <= _BLOCK else np.empty((num_perm, m), dtype=np.uint32)
        np.multiply(a, hv[None, s0:s1], out=block)
        np.add(block, b, out=block)
        sig[nonempty[d0:d1]] = np.minimum.reduceat(block, ends[d0:d1] - c[d0:d1] - s0, axis=1).T
        d0 = d1
    return sig


def doc_ngrams(toks_list: Sequence[Sequence[str]], ngram: int, cjk_ngram: int) -> np.ndarray:
    """Each document's n: ``cjk_ngram`` when most of its tokens are CJK characters, else ``ngram``."""
    if ngram == cjk_ngram:
        return np.full(len(toks_list), ngram, dtype=np.int64)
    out = np.full(len(toks_list), ngram, dtype=np.int64)
    for i, toks in enumerate(toks_list):
        if toks and not all(t.isascii() for t in toks):
            if 2 * sum(1 for t in toks if is_cjk(t)) > len(toks):
                out[i] = cjk_ngram
    return out


def sketch_chunk(texts: Sequence[str], num_perm: int, seed: int, ngram: int, cjk_ngram: int,
                 compact: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(exact hashes, signatures) of some texts; texts are tokenised once for both.

    The exact hash is synth's one exact-dedup key (``exact.token_keys`` of the same tokens).
    With ``compact`` the signatures come back as their low bytes (what the LSH uses): 4x less to
    send back from a worker process.
    """
    toks_list = [tokens(t) for t in texts]
    th, lengths = encode_tokens(toks_list)
    exact = token_keys(toks_list, len(toks_list))
    sh, counts = shingle_hashes(th, lengths, doc_ngrams(toks_list, ngram, cjk_ngram))
    sig = minhash(sh, counts, num_perm, seed)
    return exact, ((sig & np.uint32(0xFF)).astype(np.uint8) if compact else sig)


def _star(args):
    return sketch_chunk(*args)


_INHERITED: Sequence[str] = ()  # the texts, as forked workers see them (no pickling of the input)


def _inherited_chunk(args):
    start, stop, *params = args
    return sketch_chunk(_INHERITED[start:stop], *params)


def sketch(
    texts: Sequence[str],
    *,
    num_perm: int = 128,
    seed: int = 1,
    ngram: int = 3,
    cjk_ngram: int = 3,
    compact: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact hashes (n,) and MinHash signatures (n x num_perm; uint32, or uint8 with ``compact``).

    ``workers`` processes (default: all cores) share the work when there are more than two chunks;
    the result does not depend on the number of workers.
    """
    n = len(texts)
    workers = (os.cpu_count() or 1) if workers is None else workers
    global _INHERITED
    params = (num_perm, seed, ngram, cjk_ngram, compact)
    bounds = [(i, min(n, i + CHUNK)) for i in range(0, n, CHUNK)]
    exact = np.empty(n, dtype=np.uint64)
    out = np.empty((n, num_perm), dtype=np.uint8 if compact else np.uint32)
    pool = None
    if workers <= 1 or len(bounds) <= 2:
        results = (sketch_chunk(texts[a:b], *params) for a, b in bounds)
    else:
        import multiprocessing as mp

        # warm up here what every forked worker would otherwise build on its own: the tokenizer's
        # table and datasketch's permutations (importing datasketch alone takes ~0.35 s)
        separators()
        permutations(num_perm, seed)
        # fork: workers run one pure function, need no __main__ guard in the caller's script, and
        # inherit the texts instead of receiving them pickled
        fork = "fork" in mp.get_all_start_methods()
        pool = ProcessPoolExecutor(min(workers, len(bounds)), mp_context=mp.get_context("fork" if fork else "spawn"))
        if fork:
            _INHERITED = texts
            results = pool.map(_inherited_chunk, [(a, b, *params) for a, b in bounds])
        else:
            results = pool.map(_star, [(texts[a:b], *params) for a, b in bounds])
    try:
        for i, (ex, part) in enumerate(results):
            exact[i * CHUNK:i * CHUNK + len(ex)] = ex
            out[i * CHUNK:i * CHUNK + len(ex)] = part
            if progress:
                progress(len(ex))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        _INHERITED = ()
    return exact, out


def signatures(texts: Sequence[str], **kw) -> np.ndarray:
    """MinHash signatures of ``texts``: a (len(texts) x num_perm) uint32 array, equal to datasketch's
    ``MinHash(num_perm, seed, hashfunc=shingle_hash32)`` updated with every shingle."""
    return sketch(texts, **kw)[1]


def to_minhash(signature: np.ndarray, seed: int = 1):
    """One signature row as a ``datasketch.LeanMinHash`` (for datasketch's LSH classes)."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=signature, scheme=SCHEME)
