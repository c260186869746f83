"""Dedup beyond one machine: signatures and band buckets as a Ray Data job (``pip install 'synth-datagen[ray]'``).

``RayBackend`` has the two methods of ``core.LocalBackend``:

1. ``sketch``: ``from_items`` -> ``map_batches(sketch_chunk)`` on the workers -> exact hashes and
   one-byte signatures back to the driver (136 B per row);
2. ``candidates``: ``map_batches`` explodes each row into (band, key, row) -> ``materialize()`` ->
   hash ``repartition`` on the bucket -> ``map_batches(batch_size=None)`` sorts each block and pairs
   every bucket member with the up-to-4 members before it, exactly as ``lsh.batch_candidates`` does
   on one machine (all members of a bucket land in the same block), so the pairs, and therefore the
   decisions, are the same. Verification and union-find then run on the driver.

Per reference notes: never ``groupby().map_groups`` for buckets (one Python call per bucket), and
``materialize()`` before the shuffle so the map stage runs in parallel.
"""

from __future__ import annotations

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


class RayBackend:
    """Run the signature and bucket stages on Ray; ``address`` is 'local' (a new in-process cluster)
    or the address of a running cluster ('auto', 'ray://host:10001', 'host:6379')."""

    def __init__(self, address: str = "local", num_blocks: int | None = None):
        from synth.dedup.ray_io import require_ray

        require_ray()
        self.address = address
        self.num_blocks = num_blocks

    def _init(self):
        from synth.dedup.ray_io import connect

        return connect(self.address)

    def _blocks(self, n):
        import ray

        return self.num_blocks or max(2, min(200, int(ray.cluster_resources().get("CPU", 2)) * 2, n // 1000 + 1))

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
        ds = ray.data.from_items([{"i": int(i), "sig8": sig8[i]} for i in active], override_num_blocks=nb)
        ds = ds.map_batches(_explode_batch, batch_format="numpy", fn_kwargs=dict(bands=bands, rows=rows))
        ds = ds.materialize().repartition(nb, keys=["bucket"])
        ds = ds.map_batches(_pairs_batch, batch_format="numpy", batch_size=None)
        a, b = [], []
        for batch in ds.iter_batches(batch_format="numpy", batch_size=None):
            a.append(batch["a"])
            b.append(batch["b"])
        from synth.dedup.lsh import _unique_pairs

        return _unique_pairs(a, b)
