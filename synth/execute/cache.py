"""Execution results cached like requests: key = hash of (sandbox, language, code, stdin, files, limits).

Two stores: a run's own (`StoreCache`, the `responses` table of its cache.sqlite through RunStore's
cache API, so results are journaled and group-committed with the run's answers and survive a kill -9
like them) and a SQLite file of its own (`SQLiteCache`, a table `executions`, for `synth filter` and
scripts). Both take `get(key)` / `put(key, request, result)`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

from synth.execute.limits import Limits
from synth.execute.program import Program


def request_json(program: Program, limits: Limits, sandbox_tag: str) -> str:
    """The canonical text of an execution's identity (sorted keys, no spaces)."""
    return json.dumps({"kind": "execute", "sandbox": sandbox_tag, "language": program.language, "code": program.code,
                       "stdin": program.stdin, "files": [list(f) for f in program.files], "limits": str(limits)},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def cache_key(request: str) -> str:
    """A hex digest like a request's (the run store's key filter reads keys as hex); the request text
    starts with {"kind":"execute", so it never equals an LLM request's."""
    return hashlib.sha256(request.encode()).hexdigest()


class StoreCache:
    """Results in a run's cache.sqlite through RunStore.cached / RunStore.cache (call from the event
    loop's thread: the store is not thread-safe)."""

    def __init__(self, store) -> None:
        self.store = store

    def get(self, key: str) -> dict | None:
        return self.store.cached(key)

    def put(self, key: str, request: str, result: dict) -> None:
        self.store.cache(key, request, None, result)


class SQLiteCache:
    """Results in a SQLite file of their own (table `executions`); safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS executions (key TEXT PRIMARY KEY, request TEXT, result TEXT, "
                         "created REAL)")
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            hit = self._db.execute("SELECT result FROM executions WHERE key = ?", (key,)).fetchone()
        return json.loads(hit[0]) if hit else None

    def put(self, key: str, request: str, result: dict) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO executions VALUES (?, ?, ?, ?)",
                             (key, request, json.dumps(result, ensure_ascii=False), time.time()))

    def close(self) -> None:
        with self._lock:
            self._db.close()
