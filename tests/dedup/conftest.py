"""Fixtures: planted near-duplicates (English and Chinese), a private redis-server, a local Ray cluster."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time

import pytest

WORDS = ("apple river mountain quickly purple engine garden silver thunder paper window orange "
         "battery candle forest guitar island jacket kettle lemon marble needle ocean pencil "
         "quartz rabbit saddle tunnel umbrella velvet walnut yellow zebra anchor bridge castle "
         "dragon falcon harbor igloo jungle kitten ladder meadow nectar oyster parrot quiver").split()
ZH = [chr(c) for c in range(0x4E00, 0x4E00 + 2000)]  # common CJK ideographs


def _fresh(rng: random.Random, k: int) -> list[str]:
    return rng.choices(WORDS, k=k)


def english(rng: random.Random, k: int = 40) -> str:
    return " ".join(_fresh(rng, k)).capitalize() + "."


def chinese(rng: random.Random, k: int = 60) -> str:
    return "".join(rng.choices(ZH, k=k)) + "。"


def light_edit(text: str, rng: random.Random, share: float = 0.03) -> str:
    """Replace ~share of the words (English) or characters (Chinese), at least one."""
    if text.isascii():
        words = text.split()
        for _ in range(max(1, round(share * len(words)))):
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        return " ".join(words)
    chars = list(text)
    for _ in range(max(1, round(share * len(chars)))):
        chars[rng.randrange(len(chars) - 1)] = rng.choice(ZH)
    return "".join(chars)


@pytest.fixture
def planted():
    """40 originals (half English, half Chinese), each followed later by a lightly edited, noisy copy;
    plus 40 unrelated texts. Returns (rows, pairs) with pairs = [(original id, copy id)]."""
    rng = random.Random(7)
    rows, pairs = [], []
    originals = [english(rng) if i % 2 else chinese(rng) for i in range(40)]
    for i, t in enumerate(originals):
        rows.append({"id": f"o{i}", "text": t})
    for i, t in enumerate(originals):
        copy = light_edit(t, rng)
        copy = copy.upper() if copy.isascii() else copy.replace("，", ",").replace("。", ".")
        rows.append({"id": f"c{i}", "text": copy})
        pairs.append((f"o{i}", f"c{i}"))
    for i in range(40):
        rows.append({"id": f"u{i}", "text": english(rng) if i % 2 else chinese(rng)})
    return rows, pairs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory):
    """A private redis-server on a free loopback port, no persistence; stopped by PID."""
    exe = shutil.which("redis-server")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server missing: .ci/run must apt-get install -y redis-server")
        pytest.skip("redis-server not installed")
    redis = pytest.importorskip("redis")
    port = _free_port()
    d = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--dir", str(d), "--logfile", str(d / "redis.log")])
    client, deadline = redis.Redis(port=port), time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError((d / "redis.log").read_text())
            time.sleep(0.02)
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def ray_local():
    """One in-process local Ray cluster for the session (reference/ray-redis.md §1.4)."""
    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=512 * 1024**2)
    yield ray
    ray.shutdown()
