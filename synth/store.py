"""The run directory: the unit of work, and the reason a re-run never pays twice.

    runs/<name>/.lock              held (flock) by the one process writing the run; names it
    runs/<name>/config.yaml        resolved config + fingerprint
    runs/<name>/manifest.json      versions, model, stage counts and timings (atomic rewrite)
    runs/<name>/cache.sqlite       request hash -> response (WAL), per-row progress, the record schema
    runs/<name>/records/<fp>/      generated records, append-only JSONL shards, one per session
    runs/<name>/rejected.jsonl     every dropped record with stage + reason
    runs/<name>/failed.jsonl       failed seed rows and what failed (synth.failures; retried next run)
    runs/<name>/data/              the final Hugging Face dataset (parquet)
    runs/<name>/README.md          dataset card

The cache is keyed by request content, so it is shared by every fingerprint of the run: changing a
filter re-uses every answer, changing the recipe re-uses the requests that did not change.

Writes are grouped: answers, records and row marks collect in memory and are committed together
every `COMMIT_EVERY_S` (or `COMMIT_ROWS` rows), in an order that keeps a kill -9 harmless: answers
first (a committed answer is never asked again), then the records are written and fsynced, then the
rows are marked done (a row is done only once its records are durable). Until its group commit, each
answer is also appended to a journal file (`answers-*.journal`: during a run one write per pass of
the event loop, at the start of the next pass; no fsync: the kernel keeps it through a process kill),
which the next session replays into the cache, so an answer that arrived just before a kill -9 is
not paid for again. The SQLite inserts run on the event loop's thread, the fsyncs in a thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fcntl
import json
import os
import re
import shutil
import socket
import sqlite3
import threading
import time
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from synth.errors import InputError
from synth.io import write_text

COMMIT_EVERY_S = 0.2   # longest an answer or a finished row waits in memory
COMMIT_ROWS = 4096     # ... or this many pending answers / rows, whichever comes first


# built once: json.dumps with options builds a new encoder per call, and these run per request
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode
_ANSWER = json.JSONEncoder(ensure_ascii=False).encode
_RECORD = json.JSONEncoder(ensure_ascii=False, default=str).encode
# records are written and read with orjson (~10x json here, bench/RESULTS.md); datetimes and dataclasses
# pass through to default=str as with json
_ORJSON = orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _record_line(record: dict) -> bytes:
    try:
        return orjson.dumps(record, default=str, option=_ORJSON)
    except orjson.JSONEncodeError:  # keys that are not text, ints past 64 bits: json writes those
        return (_RECORD(record) + "\n").encode()


_SEED_KEY = re.compile(r'"seed_key": ?"([0-9a-f]+)"')


def _record_seed_key(line: str) -> str:
    """The seed key of a record line: synth's own comes before the recipe's fields (runner.stamp), so
    the first match is it; a record without one (never written by a run) is parsed.

    >>> _record_seed_key('{"id":"a1","recipe":"x","recipe_version":"1","seed_key":"00ff","q":"\\"seed_key\\":\\"11\\""}')
    '00ff'
    """
    m = _SEED_KEY.search(line)
    return m.group(1) if m else _parse_record(line)["seed_key"]


def _parse_record(line: str) -> dict:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:  # NaN / Infinity, which json wrote for float("nan")
        return json.loads(line)


def dump_json(obj: Any) -> str:
    """Canonical JSON: the same value always gives the same text (sorted keys, no spaces)."""
    return _CANONICAL(obj)


def _record_id(line: str) -> str:
    """The id of a record line; records start with it (runner.stamp), so no JSON parse is needed.

    >>> _record_id('{"id":"00ff00ff00ff00ff","x":1}'), _record_id('{"id": "00ff00ff00ff00ff", "x": 1}')
    ('00ff00ff00ff00ff', '00ff00ff00ff00ff')
    >>> _record_id('{"id":"a1","x":1}')
    'a1'
    """
    if line.startswith('{"id":"') and line[23:24] == '"':  # orjson's compact form
        return line[7:23]
    if line.startswith('{"id": "') and line[24:25] == '"':  # json's, in shards of earlier sessions
        return line[8:24]
    return json.loads(line)["id"]


def _failure(error: str | None) -> dict:
    """A failed row's stored error: a JSON mapping (kind, position, error, where), or plain text of older runs."""
    if error and error.startswith("{"):
        try:
            return json.loads(error)
        except ValueError:
            pass
    return {"error": error}


class RunDirBusy(InputError):
    """Another live process holds the run directory."""


class RunLock:
    """One writer per run directory: an exclusive `flock` on `<run>/.lock`.

    The kernel drops the lock when its process ends, however it ends (kill -9 too), so a stale lock of
    a dead process is simply taken over; the file only says who holds it now.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.path = self.root / ".lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.holder(fd)
            os.close(fd)
            raise RunDirBusy(f"{self.root} is in use by {holder}: wait for that run to finish (or stop it), "
                             "or pass another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}).encode(), 0)
        self._fd = fd

    @staticmethod
    def holder(fd: int) -> str:
        for _ in range(20):  # the holder writes its name just after taking the lock: give it a moment
            try:
                info = json.loads(os.pread(fd, 4096, 0) or b"{}")
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["started"]))
                return f"synth process {info['pid']} on {info['host']} (started {when})"
            except (ValueError, KeyError, TypeError, OSError):
                time.sleep(0.05)
        return "another synth process"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class KeyFilter:
    """A Bloom filter over request keys (hex SHA-256): "certainly absent" or "maybe present", in 4 MiB
    whatever the number of keys (at 1 M keys ~0.02 % of absent keys still go to SQLite; more keys only
    make that share grow, never an answer wrong).

    >>> f = KeyFilter(); f.add("ab" * 32)
    >>> f.might_hold("ab" * 32), f.might_hold("cd" * 32)
    (True, False)
    """

    BITS = 1 << 25

    def __init__(self) -> None:
        self.bits = bytearray(self.BITS // 8)

    @staticmethod
    def _positions(key: str) -> tuple[int, int, int, int]:
        v = int(key[:32], 16)  # the key is already a hash: four slices of it are four hash functions
        mask = KeyFilter.BITS - 1
        return v & mask, (v >> 32) & mask, (v >> 64) & mask, (v >> 96) & mask

    def add(self, key: str) -> None:
        bits = self.bits
        for p in self._positions(key):
            bits[p >> 3] |= 1 << (p & 7)

    def might_hold(self, key: str) -> bool:
        bits = self.bits
        a, b, c, d = self._positions(key)  # unrolled: this runs for every request
        return bool(bits[a >> 3] & (1 << (a & 7)) and bits[b >> 3] & (1 << (b & 7))
                    and bits[c >> 3] & (1 << (c & 7)) and bits[d >> 3] & (1 << (d & 7)))


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
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
        """)
        # group commits write through their own connection (from a thread, see commit_async)
        self._wdb = sqlite3.connect(self.root / "cache.sqlite", isolation_level=None, check_same_thread=False)
        self._wdb.execute("PRAGMA synchronous=NORMAL")
        # its commits run on the event loop's thread, so they never checkpoint (that fsyncs the
        # database); _make_durable does, through a connection of its own, from the commit thread
        self._wdb.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpoint = sqlite3.connect(self.root / "cache.sqlite", isolation_level=None,
                                           check_same_thread=False)
        self._shard = None
        # one thread of its own for the fsyncs: a commit whose task is cancelled can tell whether its
        # write has started (see commit_async)
        self._fsync = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="synth-commit")
        self._answers: dict[str, tuple] = {}  # key -> responses row, not yet committed
        self._records: list[bytes] = []       # JSON lines not yet written
        self._marks: list[tuple] = []         # rows-table rows not yet committed
        self._writing: dict[str, tuple] = {}  # answers a background commit is writing now
        self._write_lock = threading.Lock()
        self._last_commit = time.monotonic()
        self.background = False  # True while a task calls commit_async: no time-based commits inline
        self._replay_journals()
        self._journal_lines: list[str] = []  # journal lines of this pass of the event loop (see cache)
        self._journal_n = 0
        self._journal = self._open_journal()
        self._known: KeyFilter | None = None  # the cache's keys, as a Bloom filter (built on first lookup)

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
        # tab-separated: both JSON texts escape every control character, so no second encoding is needed
        line = f"{key}\t{seed}\t{row[4]}\t{request_json}\t{row[3]}\n"
        if self.background:
            # during a run, the answers of one pass of the event loop go in one write at the start of
            # the next pass (a write per answer cost ~5 us each, bench/RESULTS.md)
            self._journal_lines.append(line)
            if len(self._journal_lines) == 1:
                asyncio.get_running_loop().call_soon(self._flush_journal)
        else:
            self._journal.write(line)
            self._journal.flush()  # in the kernel now: survives a kill of this process
        if self._known is not None:
            self._known.add(key)
        self.maybe_commit()

    def _flush_journal(self) -> None:
        if self._journal_lines:
            self._journal.write("".join(self._journal_lines))
            self._journal.flush()
            self._journal_lines.clear()

    def _load_known(self) -> KeyFilter:
        known = KeyFilter()
        for (key,) in self.db.execute("SELECT key FROM responses"):
            known.add(key)
        return known

    def cache_size(self) -> int:
        self.commit()
        return self.db.execute("SELECT count(*) FROM responses").fetchone()[0]

    # -- row progress ----------------------------------------------------------------------------
    def row_status(self) -> dict[str, str]:
        self.commit()
        cur = self.db.execute("SELECT row_key, status FROM rows WHERE fingerprint = ?", (self.fingerprint,))
        return dict(cur.fetchall())

    def done_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` are done under this fingerprint (asked in batches: no table in memory)."""
        return set(self.done_rows(keys))

    def done_rows(self, keys: Iterable[str]) -> dict[str, int]:
        """The rows among `keys` done under this fingerprint, with the number of records each made."""
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
        self.db.execute("DELETE FROM rows WHERE fingerprint = ?", (self.fingerprint,))
        self.db.execute("DELETE FROM meta WHERE key = ?", (f"schema:{self.fingerprint}",))
        if self._shard is not None:
            self._shard.close()
            self._shard = None
        trash = self.records_dir.with_name(f".{self.fingerprint}.old.{os.getpid()}")
        os.replace(self.records_dir, trash)
        self.records_dir.mkdir()
        shutil.rmtree(trash, ignore_errors=True)

    # -- records ---------------------------------------------------------------------------------
    def append_records(self, records: list[dict]) -> None:
        """Queue one row's records; the next commit writes and fsyncs them before marking the row done."""
        self._records.append(b"".join([_record_line(r) for r in records]))

    def iter_records(self) -> Iterator[dict]:
        """Every record of this fingerprint once (by id); a line cut by a kill is skipped.

        A record is written twice only when a kill fell between writing a row's records and marking it
        done; a first pass reads just the ids (8 bytes each) to find those, so no set of every id is kept.
        """
        self.commit()
        shards = sorted(self.records_dir.glob("part-*.jsonl"))
        ids = array("Q")
        for line in self._lines(shards):
            ids.append(int(_record_id(line), 16))
        values, counts = np.unique(np.frombuffer(ids, dtype=np.uint64), return_counts=True) if ids else ([], [])
        repeated = {f"{v:016x}" for v in np.asarray(values)[np.asarray(counts) > 1].tolist()}
        del ids, values, counts  # 24 bytes per record, not to be held while the caller reads the records
        seen: set[str] = set()
        for line in self._lines(shards):
            rec = _parse_record(line)
            if rec["id"] in repeated:
                if rec["id"] in seen:
                    continue
                seen.add(rec["id"])
            yield rec

    def iter_records_by_seed(self, seed_keys: np.ndarray) -> Iterator[dict]:
        """This fingerprint's records whose seed row is among `seed_keys` (uint64 row keys in seed
        order), in seed order and, within a row, in the order the recipe returned them; each once.

        Shards hold records in the order rows finished, which depends on timing and on where a run was
        resumed: whatever keeps "the first" record (dedup) would keep a different one from run to run.
        A first pass notes each line's seed position and place (24 bytes a record, not the record);
        the second reads the lines in that order.
        """
        self.commit()
        shards = sorted(self.records_dir.glob("part-*.jsonl"))
        seed_keys = np.asarray(seed_keys, dtype=np.uint64)
        sorter = np.argsort(seed_keys, kind="stable")
        sorted_keys = seed_keys[sorter]
        ids, rows, places = array("Q"), array("Q"), array("Q")
        for s, shard in enumerate(shards):
            with open(shard, "rb") as fh:
                offset = 0
                for line in fh:
                    if not line.endswith(b"\n"):
                        break  # the process died mid-write; the row was not marked done
                    text = line.decode("utf-8")
                    ids.append(int(_record_id(text), 16))
                    rows.append(int(_record_seed_key(text), 16))
                    places.append((s << 48) | offset)
                    offset += len(line)
        if not ids:
            return
        rk = np.frombuffer(rows, dtype=np.uint64)
        at = np.searchsorted(sorted_keys, rk).clip(0, max(0, len(sorted_keys) - 1))
        hit = sorted_keys[at] == rk if len(sorted_keys) else np.zeros(len(rk), dtype=bool)
        position = np.where(hit, sorter[at] if len(sorter) else 0, -1)
        # a record written twice (a kill between its row's records and the row's mark) is read once
        _, first = np.unique(np.frombuffer(ids, dtype=np.uint64), return_index=True)
        once = np.zeros(len(rk), dtype=bool)
        once[first] = True
        take = np.flatnonzero(hit & once)
        order = take[np.argsort(position[take], kind="stable")]  # stable: a row's records keep their order
        del ids, rows, rk, at, hit, position, once, take
        where = np.frombuffer(places, dtype=np.uint64)[order]
        handles = [open(shard, "rb") for shard in shards]
        try:
            for place in where.tolist():
                fh = handles[place >> 48]
                fh.seek(place & 0xFFFF_FFFF_FFFF)
                yield _parse_record(fh.readline().decode("utf-8"))
        finally:
            for fh in handles:
                fh.close()

    @staticmethod
    def _lines(shards: list[Path]) -> Iterator[str]:
        for shard in shards:
            with open(shard, encoding="utf-8") as fh:
                for line in fh:
                    if not line.endswith("\n"):
                        break  # the process died mid-write; the row was not marked done
                    yield line

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
        if self.pending >= COMMIT_ROWS or (
                not self.background and time.monotonic() - self._last_commit >= COMMIT_EVERY_S):
            self.commit()

    def _take(self) -> tuple[dict, str, list, Path | None]:
        answers, records, marks = self._answers, b"".join(self._records), self._marks
        self._answers, self._records, self._marks = {}, [], []
        self._last_commit = time.monotonic()
        self._flush_journal()  # these answers' lines go to their journal before it is closed
        journal = None
        if answers:  # the journal of these answers goes once they are committed; new ones start a new file
            self._journal.close()
            journal = Path(self._journal.name)
            self._journal = self._open_journal()
        return answers, records, marks, journal

    def _open_journal(self):
        self._journal_n += 1
        return open(self.root / f"answers-{os.getpid()}-{self._journal_n}.journal", "a", encoding="utf-8")

    def _replay_journals(self) -> None:
        """Answers a killed session received but had not committed yet go into the cache now."""
        for path in sorted(self.root.glob("answers-*.journal")):
            rows = []
            for line in path.read_text(encoding="utf-8", errors="replace").split("\n"):
                parts = line.split("\t")
                try:
                    key, seed, created, request_json, response = parts
                    json.loads(response)  # the last line may be cut by the kill
                except ValueError:
                    continue
                rows.append((key, request_json, None if seed == "None" else int(seed), response, float(created)))
            if rows:
                self._transaction("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", rows)
            path.unlink()

    def commit(self) -> None:
        """Answers, then records (written and fsynced), then row marks: see the module docstring."""
        self._write(*self._take())

    async def commit_async(self) -> None:
        """The same, with the fsyncs in a thread, so requests keep flowing meanwhile.

        The SQLite inserts stay on this thread: executemany lets go of the GIL for every row, and
        handing it back and forth with the event loop cost more CPU than the inserts themselves
        (bench/run_throughput.py); they take a few ms a commit and sync nothing to disk (WAL, NORMAL).
        """
        if self._writing or not (self._answers or self._records or self._marks):
            return  # one background commit at a time; the next tick takes what came in meanwhile
        answers, records, marks, journal = self._take()
        self._writing = answers
        try:
            self._commit_answers(answers, journal)
            write = self._fsync.submit(self._make_durable, records)
            try:
                await asyncio.wrap_future(write)
            except asyncio.CancelledError:
                # the run is ending (or was interrupted) while these records are in flight: they were
                # taken from the queue, so finish their commit here rather than lose them
                if write.cancel():
                    self._make_durable(records)  # the thread had not started it
                else:
                    write.result()  # it is writing them: wait for it
                self._commit_marks(marks)
                raise
            self._commit_marks(marks)
        finally:
            self._writing = {}

    def _write(self, answers: dict, records: bytes, marks: list, journal: Path | None = None) -> None:
        self._commit_answers(answers, journal)
        self._make_durable(records)
        self._commit_marks(marks)

    def _commit_answers(self, answers: dict, journal: Path | None) -> None:
        if answers:
            self._transaction("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)", list(answers.values()))
        if journal is not None:
            journal.unlink(missing_ok=True)

    def _make_durable(self, records: bytes) -> None:
        """Write and fsync records, then checkpoint the WAL (both sync to disk: a thread may run this)."""
        with self._write_lock:
            if records:
                if self._shard is None:
                    n = len(list(self.records_dir.glob("part-*.jsonl")))
                    self._shard = open(self.records_dir / f"part-{n:05d}.jsonl", "ab")
                self._shard.write(records)
                self._shard.flush()
                os.fsync(self._shard.fileno())
            self._checkpoint.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _commit_marks(self, marks: list) -> None:
        if marks:
            self._transaction("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)", marks)

    def _transaction(self, sql: str, rows: list[tuple]) -> None:
        self._wdb.execute("BEGIN")  # one commit for the whole batch (the connection is in autocommit mode)
        try:
            self._wdb.executemany(sql, rows)
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
            Path(self._journal.name).unlink(missing_ok=True)
        finally:
            if self._shard is not None:
                self._shard.close()
                self._shard = None
            self._fsync.shutdown(wait=True)
            self._wdb.close()
            self._checkpoint.close()
            self.db.close()
