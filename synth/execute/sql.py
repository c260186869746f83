"""SQL run read-only on SQLite with a time limit, and result sets compared; for `text-to-sql` and `sql-exec`.

A `Database` is a SQLite file opened with `?mode=ro`, or one built in memory from DDL and a few rows.
Every query runs with `PRAGMA query_only` and an authorizer that allows reading only (SELECT, reads,
functions, recursive CTEs; no writes, ATTACH, PRAGMA or schema changes), under a progress handler
that interrupts it at `timeout_s`; at most `max_fetch` rows are fetched. SQL runs in synth's process
(sqlite3), not in the program sandbox: it cannot write or leave the database, but a query's memory is
not capped (only its time).

Two results match when their rows are equal as multisets (as lists when the query that sets the
standard has a top-level ORDER BY); numbers compare as numbers (2 = 2.0, floats to 6 decimals).

    >>> db = Database.from_schema("CREATE TABLE t (a INT, b TEXT);", {"t": [[1, "x"], [2, "y"]]})
    >>> r = db.execute("SELECT b FROM t WHERE a > 1")
    >>> r.status, r.columns, r.rows
    ('ok', ['b'], [['y']])
    >>> db.execute("DELETE FROM t").status
    'denied'
    >>> same_result(db.execute("SELECT a FROM t"), db.execute("SELECT a FROM t ORDER BY a DESC"), ordered=False)
    True
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
            getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
_STRINGS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/", re.S)
_FENCE = re.compile(r"```[ \t]*(\w*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)
_SQL_START = re.compile(r"(?is)\b(with|select)\b.*")
_STATEMENT = re.compile(r"(?i)\s*(select|with|insert|update|delete|replace|drop|create|alter|attach|detach|pragma|"
                        r"vacuum|reindex|begin|commit)\b")


@dataclass
class SQLResult:
    """How a query ended: `ok`, `error` (SQLite refused it), `denied` (it tried to write or attach),
    `timeout`, or `empty_sql`; `rows` are the first `max_rows`, `row_count` all fetched (`as_dict` gives
    the cells as text, for records)."""

    status: str
    columns: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    row_count: int = 0
    truncated: bool = False
    detail: str | None = None
    all_rows: list[tuple] = field(default_factory=list, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self, max_rows: int | None = None) -> dict:
        rows = self.rows if max_rows is None else self.rows[:max_rows]
        return {"status": self.status, "columns": self.columns, "rows": [[_cell(v) for v in r] for r in rows],
                "row_count": self.row_count, "truncated": self.truncated or len(rows) < self.row_count,
                "detail": self.detail}

    def signature(self, ordered: bool = False) -> str:
        """A hash of the normalised rows (sorted unless `ordered`): equal results, equal signatures."""
        rows = [list(r) for r in self.all_rows] if ordered else sorted(([*r] for r in self.all_rows), key=_sort_key)
        return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()[:16]


def _cell(value: Any) -> str | None:
    """A value as a record stores it: text (a column of a dataset holds one type; SQL rows mix them)."""
    if value is None:
        return None
    return value.hex() if isinstance(value, bytes) else str(value)


def _norm(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**63 else round(value, 6)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _sort_key(row: list) -> str:
    return json.dumps(row, default=str)


def same_result(a: SQLResult, b: SQLResult, *, ordered: bool) -> bool:
    return a.ok and b.ok and a.signature(ordered) == b.signature(ordered)


def has_order_by(sql: str) -> bool:
    """Whether the statement's outermost query sorts (an ORDER BY outside parentheses and strings)."""
    text = _STRINGS.sub(" ", sql)
    depth, top = 0, []
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        top.append(ch if depth == 0 and ch not in "()" else " ")
    return re.search(r"(?i)\border\s+by\b", "".join(top)) is not None


def extract_sql(text: str | None) -> str | None:
    """The query in a model's answer: its ```sql block (else its first fenced block, else the whole text
    when it starts with a SQL keyword, else the text from the first SELECT / WITH), cut at the first `;`
    outside strings; None when there is none."""
    if not text:
        return None
    blocks = _FENCE.findall(text)
    body = next((b for t, b in blocks if t.lower() in ("sql", "sqlite")), None) or (blocks[0][1] if blocks else None)
    if body is None and _STATEMENT.match(text):
        body = text  # a bare statement (a SQL column), whatever it does
    if body is None:
        m = _SQL_START.search(text)
        body = m.group(0) if m else None
    if not body:
        return None
    return first_statement(body) or None


def first_statement(sql: str) -> str:
    masked = _STRINGS.sub(lambda m: "x" * len(m.group(0)), sql)
    cut = masked.find(";")
    return (sql if cut < 0 else sql[:cut]).strip()


class Database:
    """A SQLite database queried read-only; safe to share between threads (one query at a time)."""

    def __init__(self, connection: sqlite3.Connection, name: str) -> None:
        self._db = connection
        self.name = name
        self._lock = threading.Lock()
        self._db.execute("PRAGMA query_only = ON")
        self._db.set_authorizer(_authorize)

    @classmethod
    def open(cls, path: str | Path) -> "Database":
        """A SQLite file, opened read-only (`?mode=ro`)."""
        path = Path(path).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no SQLite database at {path}")
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, check_same_thread=False)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            db.close()
            raise ValueError(f"{path} is not a SQLite database ({exc})") from None
        return cls(db, path.name)

    @classmethod
    def from_schema(cls, ddl: str, data: dict[str, list] | str | None = None, name: str = "inline") -> "Database":
        """An in-memory database from DDL and rows (`{table: [row, ...]}`, a row a list or a mapping by
        column, or a string of INSERT statements). Raises ValueError naming what SQLite refused."""
        db = sqlite3.connect(":memory:", check_same_thread=False)
        try:
            db.executescript(ddl)
            if isinstance(data, str):
                db.executescript(data)
            elif data:
                for table, rows in data.items():
                    for row in rows:
                        if isinstance(row, dict):
                            cols = ", ".join(_ident(c) for c in row)
                            db.execute(f"INSERT INTO {_ident(table)} ({cols}) VALUES "
                                       f"({', '.join('?' * len(row))})", list(row.values()))
                        else:
                            db.execute(f"INSERT INTO {_ident(table)} VALUES ({', '.join('?' * len(row))})", list(row))
            db.commit()
        except (sqlite3.Error, TypeError, AttributeError) as exc:
            db.close()
            raise ValueError(f"the schema or rows do not load into SQLite: {exc}") from None
        return cls(db, name)

    def ddl(self) -> str:
        with self._lock:
            self._db.set_authorizer(None)
            try:
                rows = self._db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE "
                                        "'sqlite_%' ORDER BY rowid").fetchall()
            finally:
                self._db.set_authorizer(_authorize)
        return ";\n".join(r[0].strip() for r in rows) + (";" if rows else "")

    def sample_rows(self, per_table: int) -> dict[str, tuple[list[str], list[tuple]]]:
        """The first `per_table` rows of each table, with its column names."""
        out = {}
        with self._lock:
            self._db.set_authorizer(None)
            try:
                tables = [r[0] for r in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
                for table in tables:
                    cur = self._db.execute(f"SELECT * FROM {_ident(table)} LIMIT ?", (per_table,))
                    out[table] = ([d[0] for d in cur.description], cur.fetchall())
            finally:
                self._db.set_authorizer(_authorize)
        return out

    def execute(self, sql: str, *, timeout_s: float = 5.0, max_rows: int = 20, max_fetch: int = 10_000) -> SQLResult:
        """Run one statement read-only; never raises for the query's own faults."""
        sql = first_statement(sql or "")
        if not sql:
            return SQLResult("empty_sql", detail="no SQL statement")
        deadline = time.monotonic() + timeout_s
        timed_out = [False]

        def progress() -> int:
            if time.monotonic() > deadline:
                timed_out[0] = True
                return 1
            return 0

        with self._lock:
            self._db.set_progress_handler(progress, 1000)
            try:
                cur = self._db.execute(sql)
                columns = [d[0] for d in cur.description or ()]
                fetched = cur.fetchmany(max_fetch + 1)
            except sqlite3.Error as exc:
                message = str(exc)
                if timed_out[0]:
                    return SQLResult("timeout", detail=f"over {timeout_s:g} s")
                if "not authorized" in message or "readonly" in message.lower() or "query_only" in message:
                    return SQLResult("denied", detail=message[:300])
                return SQLResult("error", detail=f"{type(exc).__name__}: {message}"[:300])
            except (OverflowError, ValueError, MemoryError) as exc:
                return SQLResult("error", detail=f"{type(exc).__name__}: {exc}"[:300])
            finally:
                self._db.set_progress_handler(None, 0)
        truncated = len(fetched) > max_fetch
        rows = [tuple(_norm(v) for v in r) for r in fetched[:max_fetch]]
        return SQLResult("ok", columns, [list(r) for r in rows[:max_rows]], len(rows), truncated, all_rows=rows)

    def close(self) -> None:
        self._db.close()


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _authorize(action: int, arg1, arg2, db_name, trigger) -> int:
    return sqlite3.SQLITE_OK if action in _ALLOWED else sqlite3.SQLITE_DENY
