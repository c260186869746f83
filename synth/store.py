"""The run directory: the unit of work, and the reason a re-run never pays twice.

    runs/<name>/config.yaml        resolved config + fingerprint
    runs/<name>/manifest.json      versions, model, stage counts and timings (atomic rewrite)
    runs/<name>/cache.sqlite       request hash -> response (WAL), and per-row progress
    runs/<name>/records/<fp>/      generated records, append-only JSONL shards, one per session
    runs/<name>/rejected.jsonl     every dropped record with stage + reason
    runs/<name>/failed.jsonl       seed rows whose requests failed after retries (retried next run)
    runs/<name>/data/              the final Hugging Face dataset (parquet)
    runs/<name>/README.md          dataset card

The cache is keyed by request content, so it is shared by every fingerprint of the run: changing a
filter re-uses every answer, changing the recipe re-uses the requests that did not change.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synth.io import write_text


def dump_json(obj: Any) -> str:
    """Canonical JSON: the same value always gives the same text (sorted keys, no spaces)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class RunStore:
    """Everything persistent about one run directory."""

    def __init__(self, root: str | os.PathLike, fingerprint: str) -> None:
        self.root = Path(root)
        self.fingerprint = fingerprint
        self.root.mkdir(parents=True, exist_ok=True)
        self.records_dir = self.root / "records" / fingerprint
        self.records_dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.root / "cache.sqlite", isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process kill
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, request TEXT, seed INTEGER, response TEXT,
                                                  created REAL);
            CREATE TABLE IF NOT EXISTS rows (fingerprint TEXT, row_key TEXT, status TEXT, n_records INTEGER,
                                             error TEXT, row TEXT, updated REAL, PRIMARY KEY (fingerprint, row_key));
        """)
        self._shard = None

    # -- request cache ---------------------------------------------------------------------------
    def cached(self, key: str) -> dict | None:
        hit = self.db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(hit[0]) if hit else None

    def cache(self, key: str, request_json: str, seed: int | None, response: dict) -> None:
        """Store one answer; `request_json` is the canonical request (without the sample's seed)."""
        self.db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)",
                        (key, request_json, seed, json.dumps(response, ensure_ascii=False), time.time()))

    def cache_size(self) -> int:
        return self.db.execute("SELECT count(*) FROM responses").fetchone()[0]

    # -- row progress ----------------------------------------------------------------------------
    def row_status(self) -> dict[str, str]:
        cur = self.db.execute("SELECT row_key, status FROM rows WHERE fingerprint = ?", (self.fingerprint,))
        return dict(cur.fetchall())

    def mark_row(self, row_key: str, status: str, *, n_records: int = 0, error: str | None = None,
                 row: dict | None = None) -> None:
        self.db.execute("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (self.fingerprint, row_key, status, n_records, error,
                         dump_json(row) if row is not None else None, time.time()))

    def failed_rows(self) -> list[dict]:
        cur = self.db.execute("SELECT row_key, error, row FROM rows WHERE fingerprint = ? AND status = 'failed'",
                              (self.fingerprint,))
        return [{"row_key": k, "error": e, "row": json.loads(r) if r else None} for k, e, r in cur.fetchall()]

    # -- records ---------------------------------------------------------------------------------
    def append_records(self, records: list[dict]) -> None:
        """Append one row's records in a single write, flushed before the row is marked done."""
        if self._shard is None:
            n = len(list(self.records_dir.glob("part-*.jsonl")))
            self._shard = open(self.records_dir / f"part-{n:05d}.jsonl", "a", encoding="utf-8")
        self._shard.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records))
        self._shard.flush()
        os.fsync(self._shard.fileno())

    def iter_records(self) -> Iterator[dict]:
        """Every record of this fingerprint once (by id); a line cut by a kill is skipped."""
        seen: set[str] = set()
        for shard in sorted(self.records_dir.glob("part-*.jsonl")):
            with open(shard, encoding="utf-8") as fh:
                for line in fh:
                    if not line.endswith("\n"):
                        break  # the process died mid-write; the row was not marked done
                    rec = json.loads(line)
                    if rec["id"] not in seen:
                        seen.add(rec["id"])
                        yield rec

    # -- manifest --------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def read_manifest(self) -> dict:
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    def write_manifest(self, manifest: dict) -> None:
        write_text(self.manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False, default=str))

    def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None
        self.db.close()
