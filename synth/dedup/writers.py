"""Output of the streamed commands, written batch by batch and renamed into place only when complete.

Temporary files have fixed names beside the output (`.NAME.tmp`, `.NAME.spool.jsonl`): a killed run
leaves at most one of each, and the next run over the same output writes over them (and removes the
process-numbered `.NAME.<pid>.tmp` files earlier versions left)."""

from __future__ import annotations

import json
import os
import re
import shutil
from itertools import islice
from pathlib import Path

from synth.errors import InputError

CONVERT_ROWS = 20_000  # rows of the JSONL spool turned into one Parquet row group at a time


def temp_name(path: Path, tag: str = "tmp") -> Path:
    """The fixed temporary name of `path`'s partial output (`.NAME.tmp`)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{tag}")


def clear_stale(path: Path) -> None:
    """Remove what a killed run left beside `path`: its fixed temporary names and the process-numbered
    `.NAME.<pid>.tmp` files of earlier versions."""
    path = Path(path)
    if not path.parent.is_dir():
        return
    legacy = re.compile(rf"^\.{re.escape(path.name)}\.\d+\.tmp$")
    fixed = {temp_name(path).name, temp_name(path, "spool.jsonl").name}
    for p in path.parent.iterdir():
        if p.name in fixed or legacy.match(p.name):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def _loads(line: str) -> dict:
    try:
        import orjson

        return orjson.loads(line)
    except Exception:  # NaN, integers over 64 bits: what json takes and orjson refuses
        return json.loads(line)


def _mixed_column(exc: Exception, rows: list[dict] | None = None) -> InputError:
    """One line naming the column whose values Parquet cannot hold in one type."""
    import pyarrow as pa

    name = None
    if rows:
        keys = dict.fromkeys(k for r in rows for k in r)
        for k in keys:
            try:
                pa.array([r.get(k) for r in rows])
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                name = k
                break
    else:
        m = re.search(r"field (\S+?)[:\s]", str(exc)) or re.search(r"'([^']+)'", str(exc))
        name = m.group(1) if m else None
    what = f"column {name!r}" if name else "a column"
    return InputError(f"cannot write Parquet: {what} holds values of different types across rows "
                      f"({str(exc).splitlines()[0][:160]}); make them one type or write .jsonl output")


def _unify(schemas: list, fix: str = "make them one type or write .jsonl output"):
    import pyarrow as pa

    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        # name the first column whose types do not unify
        names = dict.fromkeys(f.name for s in schemas for f in s)
        for n in names:
            try:
                pa.unify_schemas([pa.schema([s.field(n)]) for s in schemas if n in s.names],
                                 promote_options="permissive")
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                return InputError(f"cannot write Parquet: column {n!r} holds values of different types across "
                                  f"rows ({str(exc).splitlines()[0][:160]}); {fix}")
        return InputError(f"cannot write Parquet: columns of different types across rows ({exc}); {fix}")


def spool_to_parquet(spool: Path, target: Path) -> int:
    """JSON lines -> one Parquet file whose schema covers every row (a column missing or all null in
    some rows is null there; ints and floats in one column are floats). Two reads of the spool,
    `CONVERT_ROWS` rows in memory at a time; returns the row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def chunks():
        with open(spool, encoding="utf-8") as fh:
            while lines := list(islice(fh, CONVERT_ROWS)):
                yield [_loads(x) for x in lines if x.strip()]

    def table(rows, schema=None):
        try:
            return pa.Table.from_pylist(rows, schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError) as exc:
            raise _mixed_column(exc, rows) from None

    schemas = [table(rows).schema for rows in chunks()]
    if not schemas:
        pq.write_table(pa.table({}), target)
        return 0
    schema = _unify(schemas) if len(schemas) > 1 else schemas[0]
    if isinstance(schema, InputError):
        raise schema
    n = 0
    with pq.ParquetWriter(target, schema) as w:
        for rows in chunks():
            w.write_table(table(rows, schema))
            n += len(rows)
    return n


class TableWriter:
    """Rows appended batch by batch to OUT by its suffix: JSON lines, Parquet, or a saved HF dataset
    directory. Written under a fixed temporary name and renamed into place on `close()`.

    Parquet: with `schema` (a Parquet input's, whose rows all fit it) a row group a batch; without, the
    rows go to a JSONL spool made Parquet once at `close()` with a schema over all of them, so a column
    that later batches add, or that is null in the first, is kept. A dataset directory also spools."""

    def __init__(self, path: Path, schema=None):
        self.path = Path(path)
        clear_stale(self.path)
        self.tmp = temp_name(self.path)
        self.n = 0
        self._pq = None
        self.schema = schema if self.path.suffix == ".parquet" else None
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        if self.schema is not None:
            self._fh = None
        else:
            self._spool = self.tmp if self.path.suffix == ".jsonl" else temp_name(self.path, "spool.jsonl")
            self._fh = open(self._spool, "w", encoding="utf-8")

    @property
    def takes_lines(self) -> bool:
        """Whether JSON lines as read may be written as they are (`write_lines`)."""
        return self._fh is not None

    def write_lines(self, lines: list[bytes], n: int) -> None:
        """JSON lines as read (UTF-8 bytes, each ending in a newline)."""
        self.n += n
        self._fh.write(b"".join(lines).decode("utf-8"))

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        self.n += len(rows)
        if self._fh is not None:
            self._fh.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pa.Table.from_pylist(rows, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError) as exc:
            raise _mixed_column(exc, rows) from None
        if self._pq is None:
            self._pq = pq.ParquetWriter(self.tmp, self.schema)
        self._pq.write_table(table)

    def close(self) -> None:
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise

    def _finish(self) -> None:
        if self._fh is not None:
            self._fh.close()
        if self.path.suffix == ".parquet":
            if self._pq is not None:
                self._pq.close()
            elif self.schema is not None:  # no rows: an empty file of the input's columns
                import pyarrow.parquet as pq

                pq.write_table(self.schema.empty_table(), self.tmp)
            else:
                spool_to_parquet(self._spool, self.tmp)
                self._spool.unlink()
            os.replace(self.tmp, self.path)
        elif self.path.suffix == ".jsonl":
            os.replace(self.tmp, self.path)
        else:
            import datasets

            shutil.rmtree(self.tmp, ignore_errors=True)
            ds = datasets.Dataset.from_json(str(self._spool)) if self.n else datasets.Dataset.from_list([])
            ds.save_to_disk(str(self.tmp))
            self._spool.unlink()
            if self.path.exists():
                trash = temp_name(self.path, "old")
                shutil.rmtree(trash, ignore_errors=True)
                os.replace(self.path, trash)
                os.replace(self.tmp, self.path)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Close and remove the partial output (nothing half-written stays behind)."""
        if self._fh is not None and not self._fh.closed:
            self._fh.close()
        if self._pq is not None:
            try:
                self._pq.close()
            except Exception:
                pass
        for p in (self.tmp, temp_name(self.path, "spool.jsonl")):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


class DroppedSpool:
    """Dropped rows as JSON lines, written under a fixed temporary name and renamed on close."""

    def __init__(self, path: Path):
        self.path = Path(path)
        clear_stale(self.path)
        self.tmp = temp_name(self.path)
        self.tmp.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.tmp, "w", encoding="utf-8")

    def add(self, row: dict) -> None:
        self.fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        self.fh.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.fh.close()
        self.tmp.unlink(missing_ok=True)
