"""A dedup index in Redis, shared by several machines: ``--index redis://host:port/name``.

Candidates come from LSH buckets of the full 32-bit signatures with the same (b, r) as the local
index (``redis_bands``: one hash per band, looked up and filled in pipelines, a fixed number of round
trips per batch). Each row's one-byte signature, exact hash and id are kept beside it in Redis hashes,
so verification and exact matches are the same as with the disk index. Rows get ordinals from an
atomic counter and buckets are appended to atomically, so concurrent writers never collide (two runs
adding the same new row at the same moment can both keep it: dedup the shared index's writers by run,
not by row).
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

import numpy as np

from synth.dedup.index import FORMAT
from synth.dedup.redis_bands import BandBuckets
from synth.errors import ConfigError, InputError

# Bucket layout; an index without it was written by datasketch's Redis storage (an earlier synth),
# whose buckets this one cannot read.
LAYOUT = b"band-hashes-1"
ROWS_PER_HSET = 4096  # rows per write command: no command of a million arguments for a big batch

# KEYS[1]: exact hash -> ordinal of its first row; ARGV[1]: the first row's ordinal, ARGV[2]: the
# rows' exact hashes (8 bytes each, ordinals consecutive). HSETNX keeps an earlier writer's row; one
# script instead of a command per row, whose replies cost more to parse than the writes.
FIRST_EXACT = """
local start, hashes = tonumber(ARGV[1]), ARGV[2]
for k = 0, #hashes / 8 - 1 do
  redis.call('HSETNX', KEYS[1], string.sub(hashes, k * 8 + 1, k * 8 + 8), string.format('%d', start + k))
end
return 0
"""


class RedisIndex:
    def __init__(self, client, name: str, config):
        self.r, self.name, self.config = client, name, config
        self._k = lambda suffix: f"synth:{name}:{suffix}".encode()
        self.buckets = BandBuckets(client, self._k("band:"), *config.params)

    @classmethod
    def open(cls, url: str, config) -> "RedisIndex":
        try:
            import redis
        except ImportError:
            raise ConfigError("a Redis index needs redis-py: pip install 'synth-datagen[redis]'") from None
        u = urlparse(url)
        name = u.path.strip("/") or "default"
        client = redis.Redis(host=u.hostname or "127.0.0.1", port=u.port or 6379, db=0)
        try:
            client.ping()
        except redis.exceptions.ConnectionError as exc:
            raise InputError(f"cannot reach Redis at {u.hostname}:{u.port} ({exc}); is redis-server running?") from None
        tag = config.index_tag()
        stored = client.get(f"synth:{name}:tag".encode())
        if stored is None:
            client.set(f"synth:{name}:format".encode(), str(FORMAT).encode())
            client.set(f"synth:{name}:layout".encode(), LAYOUT)
            client.set(f"synth:{name}:tag".encode(), tag.encode())
        elif stored.decode() != tag:
            raise ConfigError(f"Redis index {name!r} was built with {stored.decode()} but this run uses {tag}")
        elif (client.get(f"synth:{name}:format".encode()) or b"1").decode() != str(FORMAT):
            raise ConfigError(f"Redis index {name!r} was built by an earlier synth, whose exact hashes do not match "
                              "this one's: use a new index name")
        elif client.get(f"synth:{name}:layout".encode()) != LAYOUT:
            raise ConfigError(f"Redis index {name!r} keeps its buckets in datasketch's layout (an earlier synth), "
                              "which this one does not read: use a new index name")
        return cls(client, name, config)

    def close(self) -> None:
        self.r.close()

    @property
    def count(self) -> int:
        return int(self.r.get(self._k("count")) or 0)

    def exact_matches(self, hashes: np.ndarray) -> np.ndarray:
        vals = self.r.hmget(self._k("exact"), [int(h).to_bytes(8, "little") for h in hashes]) if len(hashes) else []
        return np.array([-1 if v is None else int(v) for v in vals], dtype=np.int64)

    def _sig8(self, ordinals) -> dict[int, np.ndarray]:
        uniq = sorted(set(int(o) for o in ordinals))
        vals = self.r.hmget(self._k("sig8"), uniq) if uniq else []
        return {o: np.frombuffer(v, dtype=np.uint8) for o, v in zip(uniq, vals)}

    def near_candidates(self, sig8, bands, rows, active):
        """Pairs (row, index ordinal) sharing a band of the full signatures."""
        if self._full is None:
            raise RuntimeError("RedisIndex needs full signatures: call set_signatures first")
        return self.buckets.candidates(self._full, np.asarray(active, dtype=np.int64))

    _full = None

    def set_signatures(self, full: np.ndarray) -> None:
        """The batch's full uint32 signatures, which the band buckets are made of."""
        self._full = full

    def similarity(self, sig8, rows, ordinals) -> np.ndarray:
        from synth.dedup.lsh import similarity

        stored = self._sig8(ordinals)
        keys = sorted(stored)
        table = np.stack([stored[k] for k in keys]) if keys else np.zeros((0, sig8.shape[1]), np.uint8)
        pos = {k: i for i, k in enumerate(keys)}
        return similarity(sig8, table, np.asarray(rows), np.array([pos[int(o)] for o in ordinals], dtype=np.int64))

    def ids(self, ordinals) -> dict[int, object]:
        uniq = sorted(set(int(o) for o in ordinals))
        vals = self.r.hmget(self._k("ids"), uniq) if uniq else []
        return {o: json.loads(v) for o, v in zip(uniq, vals) if v is not None}

    def add(self, sig8, exact, ids, rows=None) -> None:
        """Insert kept rows: ordinals from INCRBY, then one pipeline writing rows before their buckets
        (a reader that finds an ordinal in a bucket can read its signature)."""
        from synth.dedup.signatures import EMPTY

        n = len(exact)
        if n == 0:
            return
        start = int(self.r.incrby(self._k("count"), n)) - n
        ordinals = np.arange(start, start + n, dtype=np.int64)
        pipe = self.r.pipeline(transaction=False)
        for c in range(0, n, ROWS_PER_HSET):  # commands of bounded size, all in the one round trip
            part = range(c, min(c + ROWS_PER_HSET, n))
            pipe.hset(self._k("sig8"), mapping={int(ordinals[k]): sig8[k].tobytes() for k in part})
            pipe.hset(self._k("ids"), mapping={int(ordinals[k]): json.dumps(ids[k], ensure_ascii=False, default=str)
                                               for k in part})
        for c in range(0, n, ROWS_PER_HSET):
            hashes = np.asarray(exact[c:c + ROWS_PER_HSET], dtype="<u8").tobytes()
            pipe.eval(FIRST_EXACT, 1, self._k("exact"), start + c, hashes)
        if rows is not None:  # rows with no shingle (all EMPTY) match nothing: not bucketed
            full = self._full[rows]
            some = ~(full == EMPTY).all(axis=1)
            self.buckets.append(pipe, full[some], ordinals[some])
        pipe.execute()
