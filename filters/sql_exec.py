"""For text-to-SQL rows: run the answer's SQL read-only on the row's database; drop it when it fails, or
when its result differs from the reference query's.

The execution check of text-to-SQL data pipelines (DataFlow's SQL execution filter; the execution
accuracy of Spider / BIRD, Yu et al. 2018, arXiv 1809.08887, Li et al. 2023, arXiv 2305.03111): a query
that does not run, tries to write, or times out is dropped; with `reference_field`, so is one whose
rows differ from the reference's (as multisets; as lists when the reference has a top-level ORDER BY).
The database is the row's DDL and rows (`schema_field` / `data_field`), a SQLite file it names
(`db_field`), or `database` for every row; queries run through synth.execute.sql (read-only,
`timeout_s`, at most `max_fetch` rows).

Not implemented: Spider's test-suite databases; comparison up to column order.
"""

from __future__ import annotations

from collections import OrderedDict

from synth.execute.sql import Database, extract_sql, has_order_by
from synth.filter import Decision, Filter, FilterOptions, option


class SQLExecOptions(FilterOptions):
    sql_field: str | None = option(None, "record field with the SQL (default: the answer, its ```sql block)")
    reference_field: str | None = option(None, "record field with a reference SQL to compare results with; "
                                         "without one a query must only run")
    schema_field: str = option("schema", "record field with the DDL")
    data_field: str = option("data", "record field with rows: {table: [row, ...]} or INSERT statements")
    db_field: str = option("db", "record field naming a SQLite file")
    database: str | None = option(None, "a SQLite file for rows without schema or db")
    allow_empty: bool = option(True, "keep queries that return no rows (without a reference)")
    timeout_s: float = option(5.0, "seconds a query may run", gt=0)
    max_fetch: int = option(10_000, "rows fetched and compared per query", ge=1)


class SQLExecFilter(Filter):
    """Reject SQL answers that fail on the row's database or whose result differs from the reference's."""

    name = "sql-exec"
    description = "Text-to-SQL rows: run the SQL read-only on the row's SQLite database; keep it if it runs (and matches)."
    Options = SQLExecOptions
    path_options = ("database",)
    reasons = ("sql_exec_no_sql", "sql_exec_no_database", "sql_exec_error", "sql_exec_denied", "sql_exec_timeout",
               "sql_exec_empty", "sql_exec_mismatch", "sql_exec_reference_error")
    score_names = ("sql_exec_rows",)

    def __init__(self, options=None, /, **kwargs) -> None:
        super().__init__(options, **kwargs)
        self._dbs: OrderedDict[tuple, Database] = OrderedDict()  # the last few databases, built once each

    def _database(self, record) -> Database | None:
        o = self.options
        if record.get(o.schema_field):
            key = ("schema", str(record[o.schema_field]), repr(record.get(o.data_field)))
            make = lambda: Database.from_schema(str(record[o.schema_field]), record.get(o.data_field))  # noqa: E731
        elif record.get(o.db_field) or o.database:
            key = ("file", str(record.get(o.db_field) or o.database))
            make = lambda: Database.open(key[1])  # noqa: E731
        else:
            return None
        if key not in self._dbs:
            self._dbs[key] = make()
            if len(self._dbs) > 16:
                self._dbs.popitem(last=False)[1].close()
        self._dbs.move_to_end(key)
        return self._dbs[key]

    def filter(self, record):
        o = self.options
        sql = extract_sql(str(record.get(o.sql_field) or "") if o.sql_field else self.answer(record))
        if not sql:
            return Decision(False, "sql_exec_no_sql", {"sql_exec_rows": None})
        try:
            db = self._database(record)
        except (OSError, ValueError) as exc:
            return Decision(False, "sql_exec_no_database", {"sql_exec_rows": None}, detail=str(exc)[:300])
        if db is None:
            return Decision(False, "sql_exec_no_database", {"sql_exec_rows": None},
                           detail=f"no {o.schema_field!r} or {o.db_field!r} field and no `database` option")
        result = db.execute(sql, timeout_s=o.timeout_s, max_rows=0, max_fetch=o.max_fetch)
        if not result.ok:
            reason = {"denied": "sql_exec_denied", "timeout": "sql_exec_timeout"}.get(result.status, "sql_exec_error")
            return Decision(False, reason, {"sql_exec_rows": None}, detail=result.detail)
        scores = {"sql_exec_rows": result.row_count}
        reference = str(record.get(o.reference_field) or "").strip() if o.reference_field else ""
        if reference:
            ref = db.execute(reference, timeout_s=o.timeout_s, max_rows=0, max_fetch=o.max_fetch)
            if not ref.ok:
                return Decision(False, "sql_exec_reference_error", scores, detail=ref.detail)
            ordered = has_order_by(reference)
            if result.signature(ordered) != ref.signature(ordered):
                return Decision(False, "sql_exec_mismatch", scores,
                               detail=f"{result.row_count} rows, the reference's {ref.row_count}"
                               + (" (ordered)" if ordered else ""))
        elif not result.row_count and not o.allow_empty:
            return Decision(False, "sql_exec_empty", scores)
        return Decision(True, scores=scores)
