"""Dedup beyond one machine: signatures and band buckets as a Ray Data job (``pip install 'synth-datagen[ray]'``).

``RayBackend`` has the two methods of ``core.LocalBackend``:

1. ``sketch``: ``from_items`` -> ``map_batches(sketch_chunk)`` on the workers -> exact hashes and
   one-byte signatures back to the driver (136 B per row);
2. ``candidates``: a map-reduce of Ray tasks. Each map task takes a block of active rows' signatures
   (``ray.put`` once), explodes them into (band, key, row) and splits them by a hash of the bucket
   into one part per reduce task (``num_returns``); each reduce task gets its part of every map
   task, sorts it and pairs every bucket member with the up-to-4 members before it, exactly as
   ``lsh.batch_candidates`` does on one machine (all members of a bucket land in the same part), so
   the pairs, and therefore the decisions, are the same. Verification and union-find then run on
   the driver.

Why tasks and not Ray Data's ``repartition(keys=...)``: that hash shuffle starts aggregator actors,
which cost 17-29 s per call on 2 CPUs even for 240 rows; the tasks do the same partitioning without
them. Never ``groupby().map_groups`` for buckets (one Python call per bucket).
"""

from __future__ import annotations

import operator

import numpy as np

from synth.errors import ConfigError

_M = np.uint64(0x9E3779B97F4A7C15)


def _sketch_batch(batch, num_perm, seed, ngram, cjk_ngram):
    from synth.dedup.signatures import sketch_chunk

    exact, sig8 = sketch_chunk(list(batch["text"]), num_perm, seed, ngram, cjk_ngram, compact=True)
    return {"i": batch["i"], "exact": exact, "sig8": sig8}


def _explode_batch(batch, bands, rows):
    from synth.dedup.lsh import band_keys

    sig8 = np.stack(batch["sig8"]) if batch["sig8"].dtype == object else batch["sig8"]
    doc = batch["i"].astype(np.int64)
    keys = np.stack([band_keys(sig8, j, rows) for j in range(bands)])  # (bands, n)
    band = np.repeat(np.arange(bands, dtype=np.int64), len(doc))
    key = keys.reshape(-1)
    with np.errstate(over="ignore"):
        bucket = key * _M + band.astype(np.uint64)
    return {"bucket": bucket, "band": band, "key": key, "doc": np.tile(doc, bands)}


def _pairs_batch(batch):
    from synth.dedup.lsh import WINDOW

    order = np.lexsort((batch["doc"], batch["key"], batch["band"]))
    band, key, doc = batch["band"][order], batch["key"][order], batch["doc"][order]
    left, right = [], []
    for w in range(1, WINDOW + 1):
        same = np.flatnonzero((key[w:] == key[:-w]) & (band[w:] == band[:-w]))
        left.append(doc[same])
        right.append(doc[same + w])
    return {"a": np.concatenate(left), "b": np.concatenate(right)}


def _block_count(value) -> int:
    """A whole number >= 1 as an int: any integral (``np.int64(4)``, ``operator.index``), never a bool."""
    try:
        n = None if isinstance(value, (bool, np.bool_)) else operator.index(value)
    except TypeError:
        n = None
    if n is None or n < 1:
        raise ConfigError(f"RayBackend: num_blocks must be a whole number >= 1 (got {value!r}); "
                          "leave it None to size the blocks from the cluster's CPUs")
    return n


class RayBackend:
    """Run the signature and bucket stages on Ray; ``address`` is 'local' (a new in-process cluster)
    or the address of a running cluster ('auto', 'ray://host:10001', 'host:6379')."""

    def __init__(self, address: str = "local", num_blocks: int | None = None):
        from synth.dedup.ray_io import require_ray

        require_ray()
        if num_blocks is not None:
            num_blocks = _block_count(num_blocks)
        self.address = address
        self.num_blocks = num_blocks

    def _init(self):
        from synth.dedup.ray_io import connect

        return connect(self.address)

    def _blocks(self, n):
        """Blocks (and map / reduce tasks) for n rows: never more than the rows, so no task is empty."""
        import ray

        wanted = self.num_blocks or max(2, min(200, int(ray.cluster_resources().get("CPU", 2)) * 2, n // 1000 + 1))
        return max(1, min(wanted, n))

    def sketch(self, texts, config, progress=None, compact=True):
        if not compact:
            raise ConfigError("the Ray backend cannot be combined with a Redis index; use a directory index")
        ray = self._init()
        n = len(texts)
        ds = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)],
                                 override_num_blocks=self._blocks(n))
        ds = ds.map_batches(_sketch_batch, batch_format="numpy", batch_size=4096,
                            fn_kwargs=dict(num_perm=config.num_perm, seed=config.seed, ngram=config.ngram,
                                           cjk_ngram=config.cjk_ngram))
        exact = np.empty(n, np.uint64)
        sig8 = np.empty((n, config.num_perm), np.uint8)
        for batch in ds.iter_batches(batch_format="numpy", batch_size=None):
            idx = batch["i"].astype(np.int64)
            exact[idx] = batch["exact"]
            sig8[idx] = np.stack(batch["sig8"]) if batch["sig8"].dtype == object else batch["sig8"]
            if progress:
                progress(len(idx))
        return exact, sig8

    def candidates(self, sig8, active, bands, rows):
        ray = self._init()
        active = np.asarray(active, dtype=np.int64)
        if len(active) < 2:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        nb = self._blocks(len(active))
        explode = ray.remote(_explode_parts).options(num_returns=nb)
        pairs = ray.remote(_pairs_of_parts)
        sig_ref = ray.put(sig8)
        maps = [explode.remote(sig_ref, block, bands, rows, nb) for block in np.array_split(active, nb)]
        if nb == 1:  # num_returns=1 gives the one ref itself, not a list of one
            maps = [[m] for m in maps]
        reduces = [pairs.remote(*[m[j] for m in maps]) for j in range(nb)]
        a, b = zip(*ray.get(reduces))
        from synth.dedup.lsh import _unique_pairs

        return _unique_pairs(list(a), list(b))


def _explode_parts(sig8, doc, bands, rows, parts):
    """Map: (band, key, row) of the rows `doc`, split by bucket into `parts` parts."""
    out = _explode_batch({"i": doc, "sig8": sig8[doc]}, bands, rows)
    part = (out["bucket"] % np.uint64(parts)).astype(np.int64)
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(parts + 1))
    pieces = [{k: out[k][order[bounds[j]:bounds[j + 1]]] for k in ("band", "key", "doc")} for j in range(parts)]
    return pieces if parts > 1 else pieces[0]


def _pairs_of_parts(*pieces):
    """Reduce: one part of every map task, paired within buckets."""
    pairs = _pairs_batch({k: np.concatenate([p[k] for p in pieces]) for k in ("band", "key", "doc")})
    return pairs["a"], pairs["b"]
