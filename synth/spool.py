"""Records on disk that read like a list, so large runs' stages and outputs work in bounded memory.

A `Spool` is appended to once, then read as often as needed (`len()`, `for record in spool`); only
the record being read is in memory. The runner spills to spools when a run has more seed rows than
`SPILL_ROWS`; smaller runs keep their records in lists (faster, and just as small). Exact per-key
bookkeeping over a whole run (how many records each seed row kept, which texts were met already) goes
through `Tally` and `FirstValues`: a dict of up to `MEMORY_KEYS` keys, moved into a SQLite scratch file
whenever it is full.

>>> import tempfile, pathlib
>>> s = Spool(pathlib.Path(tempfile.mkdtemp()) / "kept.jsonl")
>>> s.extend([{"a": 1}, {"a": "二"}])
>>> len(s), [r["a"] for r in s], [r["a"] for r in s]
(2, [1, '二'], [1, '二'])
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

SPILL_ROWS = 50_000  # above this many seed rows, stages and the dataset writer stream through spools
MEMORY_KEYS = 50_000  # keys a Tally or FirstValues holds in its dict (~100 bytes each) before moving them to disk


class Spool:
    """JSON lines in `path`: append, then iterate any number of times."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "w", encoding="utf-8")
        self._n = 0

    def append(self, row: dict) -> None:
        self._fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        self._n += 1

    def extend(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.append(row)

    def sibling(self, name: str) -> Spool:
        """A new spool in the same folder."""
        return Spool(self.path.with_name(name))

    def __len__(self) -> int:
        return self._n

    def __bool__(self) -> bool:
        return self._n > 0

    def __iter__(self) -> Iterator[dict]:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)


def like(rows, name: str, items: Iterable[dict]):
    """`items` collected the way `rows` is held: a list for a list, a spool beside a spool."""
    if isinstance(rows, Spool):
        out = rows.sibling(name)
        out.extend(items)
        return out
    return list(items)


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """Lists of up to `size` items.

    >>> [len(c) for c in chunks(range(5), 2)]
    [2, 2, 1]
    """
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


_first = itemgetter(0)
_NATIVE = (str, int, float, type(None))  # stored as they are; other values as JSON bytes


class _Spilled:
    """A dict of new entries that moves into a SQLite table in a scratch file in `folder` (default: the
    system's temporary folder) whenever it holds `memory_keys` keys; `close()` removes the file. Keys
    are str or int (SQLite's signed 64-bit integers), one kind per table."""

    def __init__(self, folder: Path | None = None, *, memory_keys: int | None = None) -> None:
        self.folder = folder
        self.memory_keys = memory_keys or MEMORY_KEYS
        self._mem: dict[Any, Any] = {}
        self._db: sqlite3.Connection | None = None
        self._path: Path | None = None

    def _spill(self, sql: str, rows: Iterable[tuple]) -> None:
        if self._db is None:
            fd, name = tempfile.mkstemp(prefix=".keys-", suffix=".sqlite", dir=self.folder)
            os.close(fd)
            self._path = Path(name)
            self._db = sqlite3.connect(name, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=OFF")  # scratch: nothing to recover after a crash
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("CREATE TABLE t (k PRIMARY KEY, v) WITHOUT ROWID")
        self._db.execute("BEGIN")
        self._db.executemany(sql, rows)
        self._db.execute("COMMIT")
        self._mem.clear()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
            self._path.unlink(missing_ok=True)
        self._mem.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Tally(_Spilled):
    """Exact counts per key in bounded memory (see `_Spilled`): `add(key)`, `len()` (distinct keys),
    `histogram()` (how many keys have each count).

    >>> with Tally(memory_keys=2) as t:
    ...     for key in "abacab":
    ...         t.add(key)
    ...     len(t), t.histogram()
    (3, {1: 1, 2: 1, 3: 1})
    """

    def add(self, key, n: int = 1) -> None:
        mem = self._mem
        mem[key] = mem.get(key, 0) + n
        if len(mem) >= self.memory_keys:
            self._flush()

    def _flush(self) -> None:
        # in key order, so the inserts walk the B-tree once
        self._spill("INSERT INTO t VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = v + excluded.v",
                    sorted(self._mem.items(), key=_first))

    def __len__(self) -> int:
        if self._db is None:
            return len(self._mem)
        self._flush()
        return self._db.execute("SELECT COUNT(*) FROM t").fetchone()[0]

    def histogram(self) -> dict[int, int]:
        """count -> number of keys with that count, by count."""
        if self._db is None:
            return dict(sorted(Counter(self._mem.values()).items()))
        self._flush()
        return dict(self._db.execute("SELECT v, COUNT(*) FROM t GROUP BY v ORDER BY v").fetchall())


class FirstValues(_Spilled):
    """The first value given for each key, in bounded memory (see `_Spilled`): `known(keys)`, then
    `put(key, value)` for the keys that are new. Values are anything JSON.

    >>> with FirstValues(memory_keys=2) as seen:
    ...     for key, value in [(7, "a"), (8, "b"), (9, "c")]:
    ...         seen.put(key, value)
    ...     seen.known([9, 7, 1])
    {9: 'c', 7: 'a'}
    """

    def known(self, keys: list) -> dict:
        """{key: value} for those of `keys` that were `put` before."""
        mem = self._mem
        found = {k: mem[k] for k in keys if k in mem}
        if self._db is not None:
            rest = sorted({k for k in keys if k not in found})
            for i in range(0, len(rest), 900):  # under SQLite's oldest limit of 999 parameters
                part = rest[i:i + 900]
                rows = self._db.execute(f"SELECT k, v FROM t WHERE k IN ({','.join('?' * len(part))})", part)
                found.update((k, json.loads(v) if type(v) is bytes else v) for k, v in rows)
        return found

    def put(self, key, value) -> None:
        """Remember `value` for a key not put before (`known` says which are new)."""
        self._mem[key] = value
        if len(self._mem) >= self.memory_keys:
            self._spill("INSERT INTO t VALUES (?, ?)", ((k, v if type(v) in _NATIVE else json.dumps(v).encode())
                                                        for k, v in sorted(self._mem.items(), key=_first)))
