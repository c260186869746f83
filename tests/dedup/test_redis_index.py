"""The Redis index's buckets: datasketch's candidates, a fixed number of round trips per batch, ~3 KB of
server memory per row (datasketch's layout: ~14 KB), and no bucket member lost to concurrent writers."""

import random
import threading

import numpy as np
import pytest

from synth.dedup import DedupConfig, dedup_rows
from synth.dedup.signatures import sketch, to_minhash

from .conftest import chinese, english, light_edit

pytestmark = pytest.mark.redis


def _rows(n: int, seed: int) -> list[dict]:
    """n rows; every fifth a light edit of the row before it (near duplicates to find)."""
    rng, rows = random.Random(seed), []
    for i in range(n):
        text = light_edit(rows[-1]["text"], rng) if i % 5 == 4 else (english(rng) if i % 2 else chinese(rng))
        rows.append({"id": f"s{seed}-{i}", "text": text})
    return rows


def _open(port: int, name: str, config: DedupConfig):
    from synth.dedup.redis_index import RedisIndex

    return RedisIndex.open(f"redis://127.0.0.1:{port}/{name}", config)


@pytest.fixture
def requests_sent(monkeypatch):
    """How many requests redis-py writes to its socket (a pipeline is one): its own send path, counted."""
    from redis.connection import AbstractConnection

    sent = [0]
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent[0] += 1
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


def test_candidates_are_datasketchs(redis_port, request):
    """The same (row, stored row) pairs as datasketch's MinHashLSH over the full signatures."""
    from datasketch import MinHashLSH

    config = DedupConfig(near=True, workers=1)
    b, r = config.params
    _, stored = sketch([x["text"] for x in _rows(300, 1)], workers=1)
    _, queries = sketch([x["text"] for x in _rows(200, 1)[100:] + _rows(100, 2)], workers=1)
    lsh = MinHashLSH(num_perm=config.num_perm, params=(b, r))
    for o, sig in enumerate(stored):
        lsh.insert(o, to_minhash(sig, config.seed))
    expected = sorted((q, o) for q, sig in enumerate(queries) for o in lsh.query(to_minhash(sig, config.seed)))

    index = _open(redis_port, request.node.name, config)
    try:
        index.set_signatures(stored)
        index.add(np.zeros((300, 128), np.uint8), np.arange(300, dtype=np.uint64), list(range(300)),
                  rows=np.arange(300))
        index.set_signatures(queries)
        qa, qi = index.near_candidates(None, b, r, np.arange(len(queries)))
    finally:
        index.close()
    assert list(zip(qa.tolist(), qi.tolist())) == expected and len(expected) > 100


def test_round_trips_per_batch_do_not_grow_with_the_batch(redis_port, request, requests_sent):
    url = f"redis://127.0.0.1:{redis_port}/{request.node.name}"
    config = DedupConfig(near=True, index=url, workers=1)
    dedup_rows(_rows(200, 3), config)  # an index to match against
    sent = {}
    for n in (50, 1500):
        requests_sent[0] = 0
        result = dedup_rows(_rows(n, 4 + n), config)
        sent[n] = requests_sent[0]
        assert result.report["dropped_near"] > 0
    # connect (CLIENT SETINFO x 2, PING), tag, format, layout, count x 2, exact hashes, buckets,
    # signatures x 2, ids, INCRBY, writes: 16, however many rows
    assert sent[1500] == sent[50] <= 16


def test_server_memory_per_row_stays_under_4_kb(redis_port, request):
    import redis

    client = redis.Redis(port=redis_port)
    rows = _rows(3000, 5)
    url = f"redis://127.0.0.1:{redis_port}/{request.node.name}"
    before = client.info("memory")["used_memory"]
    kept = len(dedup_rows(rows, DedupConfig(near=True, index=url, workers=1)).kept)
    per_row = (client.info("memory")["used_memory"] - before) / kept
    assert per_row < 4000, per_row  # ~3,000 B; datasketch's layout took ~18,000 B here


def test_concurrent_writers_keep_every_row_of_a_shared_bucket(redis_port, request):
    """Rows written at the same moment by several writers into one bucket all stay in it."""
    config = DedupConfig(near=True, workers=1)
    b, r = config.params
    writers, per_writer = 4, 300
    rng = np.random.default_rng(0)

    def write(k: int):
        full = rng.integers(0, 2**32 - 1, (per_writer, 128), dtype=np.uint32)
        full[:, :r] = 7  # band 0 shared by every row
        index = _open(redis_port, request.node.name, config)
        try:
            for c in range(0, per_writer, 20):  # many small batches, interleaved with the other writers
                index.set_signatures(full[c:c + 20])
                index.add(np.zeros((20, 128), np.uint8), np.arange(c, c + 20, dtype=np.uint64) + k * 10**6,
                          [f"w{k}-{c + i}" for i in range(20)], rows=np.arange(20))
        finally:
            index.close()

    threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    index = _open(redis_port, request.node.name, config)
    try:
        index.set_signatures(np.full((1, 128), 7, dtype=np.uint32))
        _, ordinals = index.near_candidates(None, b, r, np.array([0]))
        assert sorted(ordinals.tolist()) == list(range(writers * per_writer)) == list(range(index.count))
    finally:
        index.close()


def test_an_index_in_datasketchs_layout_is_refused(redis_port, request):
    import redis

    from synth.dedup.index import FORMAT
    from synth.errors import ConfigError

    config = DedupConfig(near=True, workers=1)
    name = request.node.name
    client = redis.Redis(port=redis_port)
    client.set(f"synth:{name}:format", str(FORMAT))
    client.set(f"synth:{name}:tag", config.index_tag())  # what an earlier synth wrote, and no layout
    with pytest.raises(ConfigError, match="datasketch's layout"):
        _open(redis_port, name, config)
