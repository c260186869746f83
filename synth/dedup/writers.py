"""Output of the streamed commands, written batch by batch and renamed into place only when complete."""

from __future__ import annotations

import json
import os
from pathlib import Path


class TableWriter:
    """Rows appended batch by batch to OUT by its suffix: JSON lines, Parquet (one row group a batch),
    or a saved HF dataset directory (via a JSONL spool beside it). Written under a temporary name and
    renamed into place on `close()`."""

    def __init__(self, path: Path):
        from synth.io import atomic_path

        self.path = Path(path)
        self._ctx = atomic_path(self.path, is_dir=self.path.suffix not in (".jsonl", ".parquet"))
        self.tmp = Path(self._ctx.__enter__())
        self.n = 0
        self._pq = None
        if self.path.suffix == ".parquet":
            self._fh = None
        else:
            self._spool = self.tmp if self.path.suffix == ".jsonl" else self.tmp.with_name(self.tmp.name + ".jsonl")
            self._fh = open(self._spool, "w", encoding="utf-8")

    @property
    def takes_lines(self) -> bool:
        return self.path.suffix == ".jsonl"

    def write_lines(self, lines: list[bytes], n: int) -> None:
        """JSON lines as read (UTF-8 bytes), for a JSONL output."""
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

        table = pa.Table.from_pylist(rows)
        if self._pq is None:
            self._pq = pq.ParquetWriter(self.tmp, table.schema)
        self._pq.write_table(table.cast(self._pq.schema) if table.schema != self._pq.schema else table)

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
        elif self.path.suffix == ".parquet":  # no rows: an empty file
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({}), self.tmp)
        if self._fh is not None:
            self._fh.close()
            if self.path.suffix not in (".jsonl",):
                import datasets

                ds = datasets.Dataset.from_json(str(self._spool)) if self.n else datasets.Dataset.from_list([])
                ds.save_to_disk(str(self.tmp))
                self._spool.unlink()
        self._ctx.__exit__(None, None, None)


class DroppedSpool:
    """Dropped rows as JSON lines, written under a temporary name and renamed on close."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.fh = open(self.tmp, "w", encoding="utf-8")

    def add(self, row: dict) -> None:
        self.fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        self.fh.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.fh.close()
        self.tmp.unlink(missing_ok=True)
