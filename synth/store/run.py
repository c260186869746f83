"""`RunStore`: everything persistent about one run directory, and the group commit that keeps it whole.

The request cache (`responses`), per-row progress (`rows`) and the record schema (`meta`) live in
`cache.sqlite`; records in shards (synth.store.records); answers not yet committed also in a journal
(synth.store.answers). The cache is keyed by request content, so it is shared by every fingerprint of
the run: changing a filter re-uses every answer, changing the recipe re-uses the requests that did not
change.

Writes are grouped: answers, records and row marks collect in memory and are committed together
every `COMMIT_EVERY_S` (or `COMMIT_ROWS` rows), in an order that keeps a kill -9 harmless: answers
first (a committed answer is never asked again), then the records are written and fsynced, then the
rows are marked done (a row is done only once its records are durable). The marks' transaction also
records how far each shard was durable (`shards`); a new session cuts every shard back to that length, so
the records of rows a killed session wrote but never marked done are not kept twice when the rows are
made again. The SQLite inserts run on the event loop's thread, the fsyncs in a thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from synth.io import write_text
from synth.store.answers import AnswerJournal, KeyFilter
from synth.store.records import RecordShards, record_line

COMMIT_EVERY_S = 0.2   # longest an answer or a finished row waits in memory
COMMIT_ROWS = 4096     # ... or this many pending answers / rows, whichever comes first


# built once: json.dumps with options builds a new encoder per call, and these run per request
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode
_ANSWER = json.JSONEncoder(ensure_ascii=False).encode


def dump_json(obj: Any) -> str:
    """Canonical JSON: the same value always gives the same text (sorted keys, no spaces)."""
    return _CANONICAL(obj)


def _failure(error: str | None) -> dict:
    """A failed row's stored error: a JSON mapping (kind, position, error, where), or plain text of older runs."""
    if error and error.startswith("{"):
        try:
            return json.loads(error)
        except ValueError:
            pass
    return {"error": error}


class RunStore:
    """Everything persistent about one run directory."""

    def __init__(self, root: str | os.PathLike, fingerprint: str) -> None:
        self.root = Path(root)
        self.fingerprint = fingerprint
        self.root.mkdir(parents=True, exist_ok=True)
        self.shards = RecordShards(self.root / "records" / fingerprint)
        self.db = sqlite3.connect(self.root / "cache.sqlite", isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process kill
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, request TEXT, seed INTEGER, response TEXT,
                                                  created REAL);
            CREATE TABLE IF NOT EXISTS rows (fingerprint TEXT, row_key TEXT, status TEXT, n_records INTEGER,
                                             error TEXT, row TEXT, updated REAL, PRIMARY KEY (fingerprint, row_key));
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
            CREATE TABLE IF NOT EXISTS shards (fingerprint TEXT, name TEXT, committed INTEGER,
                                               PRIMARY KEY (fingerprint, name));
        """)
        self._cut_uncommitted_records()
        # group commits write through their own connection (from a thread, see commit_async)
        self._wdb = sqlite3.connect(self.root / "cache.sqlite", isolation_level=None, check_same_thread=False)
        self._wdb.execute("PRAGMA synchronous=NORMAL")
        # its commits run on the event loop's thread, so they never checkpoint (that fsyncs the
        # database); _make_durable does, through a connection of its own, from the commit thread
        self._wdb.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpoint = sqlite3.connect(self.root / "cache.sqlite", isolation_level=None,
                                           check_same_thread=False)
        # one thread of its own for the fsyncs: a commit whose task is cancelled can tell whether its
        # write has started (see commit_async)
        self._fsync = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="synth-commit")
        self._answers: dict[str, tuple] = {}  # key -> responses row, not yet committed
        self._records: list[bytes] = []       # JSON lines not yet written
        self._marks: list[tuple] = []         # rows-table rows not yet committed
        self._writing: dict[str, tuple] = {}  # answers a background commit is writing now
        self._in_flight = False               # a background commit is between taking its batch and its marks
        self._write_lock = threading.Lock()
        self._last_commit = time.monotonic()
        self.background = False  # True while a task calls commit_async: no time-based commits inline
        for path, rows in AnswerJournal.replay(self.root):  # a killed session's answers go into the cache now
            if rows:
                self._transaction("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", rows)
            path.unlink()
        self._journal = AnswerJournal(self.root)
        self._known: KeyFilter | None = None  # the cache's keys, as a Bloom filter (built on first lookup)

    def _cut_uncommitted_records(self) -> None:
        """Cut the shards back to their committed lengths. A run directory written before the lengths were
        kept has its shards taken as they are (the reader reads a record written twice once)."""
        known = "shard_lengths:" + self.fingerprint
        if self.db.execute("SELECT 1 FROM meta WHERE key = ?", (known,)).fetchone() is None:
            existing = [(self.fingerprint, p.name, p.stat().st_size) for p in self.shards.folder.glob("part-*.jsonl")]
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO shards VALUES (?, ?, ?)", existing)
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (known,))
            self.db.execute("COMMIT")
            return
        committed = dict(self.db.execute("SELECT name, committed FROM shards WHERE fingerprint = ?",
                                         (self.fingerprint,)).fetchall())
        self.shards.cut_to(committed)

    # -- request cache ---------------------------------------------------------------------------
    def cached(self, key: str) -> dict | None:
        pending = self._answers.get(key) or self._writing.get(key)
        if pending is not None:
            return json.loads(pending[3])
        if self._known is None:
            self._known = self._load_known()
        if not self._known.might_hold(key):
            return None  # most requests of a run are new: no SQLite lookup for them
        hit = self.db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(hit[0]) if hit else None

    def cache(self, key: str, request_json: str, seed: int | None, response: dict) -> None:
        """Store one answer; `request_json` is the canonical request (without the sample's seed)."""
        row = (key, request_json, seed, _ANSWER(response), time.time())
        self._answers[key] = row
        self._journal.append(row, batched=self.background)
        if self._known is not None:
            self._known.add(key)
        self.maybe_commit()

    def _load_known(self) -> KeyFilter:
        known = KeyFilter()
        for (key,) in self.db.execute("SELECT key FROM responses"):
            known.add(key)
        return known

    # -- row progress ----------------------------------------------------------------------------
    def done_rows(self, keys: Iterable[str]) -> dict[str, int]:
        """The rows among `keys` done under this fingerprint, with the number of records each made (asked in
        batches: no table in memory)."""
        keys = list(keys)
        done: dict[str, int] = {}
        for i in range(0, len(keys), 900):  # SQLite's default limit on bound parameters is 999
            part = keys[i:i + 900]
            cur = self.db.execute(f"SELECT row_key, n_records FROM rows WHERE fingerprint = ? AND status = 'done' "
                                  f"AND row_key IN ({','.join('?' * len(part))})", (self.fingerprint, *part))
            done.update((k, n or 0) for k, n in cur)
        return done

    def mark_row(self, row_key: str, status: str, *, n_records: int = 0, error: str | dict | None = None,
                 row: dict | None = None) -> None:
        """Mark a row; `done` takes effect at the next commit, after the row's records are on disk.
        `error` of a failed row: its message, or a mapping of what failed (see synth.failures)."""
        if isinstance(error, dict):
            error = dump_json(error)
        self._marks.append((self.fingerprint, row_key, status, n_records, error,
                            dump_json(row) if row is not None else None, time.time()))
        self.maybe_commit()

    def failed_rows(self) -> list[dict]:
        """Failed rows of this fingerprint: row_key, what failed (error, and where marked with a mapping) and row."""
        self.commit()
        cur = self.db.execute("SELECT row_key, error, row FROM rows WHERE fingerprint = ? AND status = 'failed'",
                              (self.fingerprint,))
        return [{"row_key": k, **_failure(e), "row": json.loads(r) if r else None} for k, e, r in cur.fetchall()]

    def forget_records(self) -> None:
        """`--fresh`: drop this fingerprint's records and row marks; the request cache stays."""
        self.commit()
        self.db.execute("BEGIN")  # all or nothing: marks gone but lengths kept would keep every record twice
        self.db.execute("DELETE FROM rows WHERE fingerprint = ?", (self.fingerprint,))
        self.db.execute("DELETE FROM meta WHERE key = ?", (f"schema:{self.fingerprint}",))
        self.db.execute("DELETE FROM shards WHERE fingerprint = ?", (self.fingerprint,))
        self.db.execute("COMMIT")
        self.shards.clear()

    # -- records ---------------------------------------------------------------------------------
    def append_records(self, records: list[dict]) -> None:
        """Queue one row's records; the next commit writes and fsyncs them before marking the row done."""
        self._records.append(b"".join([record_line(r) for r in records]))

    def iter_records_by_seed(self, seed_keys: np.ndarray) -> Iterator[dict]:
        """This fingerprint's records whose seed row is among `seed_keys`, in seed order; see
        RecordShards.read_by_seed."""
        self.commit()
        yield from self.shards.read_by_seed(seed_keys)

    # -- meta ------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> Any:
        hit = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(hit[0]) if hit else None

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, ensure_ascii=False)))

    # -- group commit ----------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        return len(self._answers) + len(self._marks)

    def maybe_commit(self) -> None:
        if self._in_flight:
            return  # a background commit is writing: committing past it would mark rows out of order
        if self.pending >= COMMIT_ROWS or (
                not self.background and time.monotonic() - self._last_commit >= COMMIT_EVERY_S):
            self.commit()

    def _take(self) -> tuple[dict, bytes, list, Path | None]:
        answers, records, marks = self._answers, b"".join(self._records), self._marks
        self._answers, self._records, self._marks = {}, [], []
        self._last_commit = time.monotonic()
        # these answers' lines go to their journal before it is closed; the journal of these answers
        # goes once they are committed, and new ones start a new file
        journal = self._journal.rotate() if answers else None
        if journal is None:
            self._journal.flush()
        return answers, records, marks, journal

    def commit(self) -> None:
        """Answers, then records (written and fsynced), then row marks: see the module docstring."""
        self._write(*self._take())

    async def commit_async(self) -> None:
        """The same, with the fsyncs in a thread, so requests keep flowing meanwhile.

        The SQLite inserts stay on this thread: executemany lets go of the GIL for every row, and
        handing it back and forth with the event loop cost more CPU than the inserts themselves
        (bench/run_throughput.py); they take a few ms a commit and sync nothing to disk (WAL, NORMAL).
        """
        if self._in_flight or not (self._answers or self._records or self._marks):
            return  # one background commit at a time; the next tick takes what came in meanwhile
        answers, records, marks, journal = self._take()
        self._writing, self._in_flight = answers, True
        try:
            self._commit_answers(answers, journal)
            write = self._fsync.submit(self._make_durable, records)
            try:
                end = await asyncio.wrap_future(write)
            except asyncio.CancelledError:
                # the run is ending (or was interrupted) while these records are in flight: they were
                # taken from the queue, so finish their commit here rather than lose them
                end = self._make_durable(records) if write.cancel() else write.result()  # not started / writing
                self._commit_marks(marks, end)
                raise
            self._commit_marks(marks, end)
        finally:
            self._writing, self._in_flight = {}, False

    def _write(self, answers: dict, records: bytes, marks: list, journal: Path | None = None) -> None:
        self._commit_answers(answers, journal)
        self._commit_marks(marks, self._make_durable(records))

    def _commit_answers(self, answers: dict, journal: Path | None) -> None:
        if answers:
            self._transaction("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", list(answers.values()))
        if journal is not None:
            journal.unlink(missing_ok=True)

    def _make_durable(self, records: bytes) -> tuple[str, int] | None:
        """Write and fsync records, then checkpoint the WAL (both sync to disk: a thread may run this); the
        shard's name and durable length, or None when there were no records."""
        with self._write_lock:
            end = self.shards.write(records) if records else None
            self._checkpoint.execute("PRAGMA wal_checkpoint(PASSIVE)")
            return end

    def _commit_marks(self, marks: list, end: tuple[str, int] | None = None) -> None:
        """The row marks, and in the same transaction how far the shard they were written to is durable."""
        if not marks and end is None:
            return
        lengths = [(self.fingerprint, *end)] if end is not None else []
        # a length only grows: a commit that finishes after a later one must not shorten what that one made durable
        self._transaction("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)", marks,
                          ("INSERT INTO shards VALUES (?, ?, ?) ON CONFLICT (fingerprint, name) "
                           "DO UPDATE SET committed = MAX(committed, excluded.committed)", lengths))

    def _transaction(self, sql: str, rows: list[tuple], *more: tuple[str, list[tuple]]) -> None:
        self._wdb.execute("BEGIN")  # one commit for the whole batch (the connection is in autocommit mode)
        try:
            for statement, values in ((sql, rows), *more):
                if values:
                    self._wdb.executemany(statement, values)
        except BaseException:
            self._wdb.execute("ROLLBACK")
            raise
        self._wdb.execute("COMMIT")

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
        try:
            self.commit()
            self._journal.close()
        finally:
            self.shards.close()
            self._fsync.shutdown(wait=True)
            self._wdb.close()
            self._checkpoint.close()
            self.db.close()
