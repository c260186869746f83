"""A dedup index in Redis, shared by several machines: ``--index redis://host:port/name``.

Candidates come from datasketch's ``MinHashLSH`` with Redis storage (the same (b, r) as the local
index, ``basename`` = name as bytes, inserts inside ``insertion_session``); band lookups for a whole
batch go through one pipeline. Each row's one-byte signature, exact hash and id are kept beside it
in Redis hashes, so verification and exact matches are the same as with the disk index. Rows get
ordinals from an atomic counter, so concurrent writers never collide (two runs adding the same new
row at the same moment can both keep it: dedup the shared index's writers by run, not by row).
"""

from __future__ import annotations

import json
import pickle
from urllib.parse import urlparse

import numpy as np

from synth.dedup.index import FORMAT
from synth.errors import ConfigError, InputError


class RedisIndex:
    def __init__(self, client, name: str, config, lsh):
        self.r, self.name, self.config, self.lsh = client, name, config, lsh
        self._k = lambda suffix: f"synth:{name}:{suffix}".encode()

    @classmethod
    def open(cls, url: str, config) -> "RedisIndex":
        try:
            import redis
            from datasketch import MinHashLSH
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
            client.set(f"synth:{name}:tag".encode(), tag.encode())
        elif stored.decode() != tag:
            raise ConfigError(f"Redis index {name!r} was built with {stored.decode()} but this run uses {tag}")
        elif (client.get(f"synth:{name}:format".encode()) or b"1").decode() != str(FORMAT):
            raise ConfigError(f"Redis index {name!r} was built by an earlier synth, whose exact hashes do not match "
                              "this one's: use a new index name")
        lsh = MinHashLSH(num_perm=config.num_perm, params=config.params, storage_config={
            "type": "redis", "basename": f"synth:{name}:lsh".encode(),  # datasketch 2.x: bytes, not str
            "redis": {"host": u.hostname or "127.0.0.1", "port": u.port or 6379}})
        return cls(client, name, config, lsh)

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
        """Pairs (row, index ordinal) sharing a band, from datasketch's Redis buckets (one pipeline)."""
        if self._full is None:
            raise RuntimeError("RedisIndex needs full signatures: call set_signatures first")
        qs, ix = [], []
        lsh = self.lsh
        active = np.asarray(active)
        for c in range(0, len(active), 1000):
            part = active[c:c + 1000]
            pipe = self.r.pipeline(transaction=False)
            for i in part:
                for (a, b), ht in zip(lsh.hashranges, lsh.hashtables):
                    pipe.smembers(ht.redis_key(lsh._H(self._full[i][a:b])))
            res, nb = pipe.execute(), len(lsh.hashtables)
            for j, i in enumerate(part):
                for key in set().union(*res[j * nb:(j + 1) * nb]):
                    qs.append(i)
                    ix.append(pickle.loads(key))
        return np.array(qs, dtype=np.int64), np.array(ix, dtype=np.int64)

    _full = None

    def set_signatures(self, full: np.ndarray) -> None:
        """The batch's full uint32 signatures, which datasketch's band keys are made of."""
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
        """Insert kept rows: ordinals from INCRBY, buckets via datasketch's insertion_session."""
        from synth.dedup.signatures import to_minhash

        n = len(exact)
        if n == 0:
            return
        start = int(self.r.incrby(self._k("count"), n)) - n
        pipe = self.r.pipeline(transaction=False)
        for k in range(n):
            o = start + k
            pipe.hset(self._k("sig8"), o, sig8[k].tobytes())
            pipe.hsetnx(self._k("exact"), int(exact[k]).to_bytes(8, "little"), o)
            pipe.hset(self._k("ids"), o, json.dumps(ids[k], ensure_ascii=False, default=str))
        pipe.execute()
        full = self._full[rows] if rows is not None else None
        with self.lsh.insertion_session(buffer_size=10000) as session:
            for k in range(n):
                if full is not None and not (full[k] == np.uint32(0xFFFFFFFF)).all():
                    session.insert(start + k, to_minhash(full[k], self.config.seed), check_duplication=False)
