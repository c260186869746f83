"""Records on disk that read like a list, so large runs' stages and outputs work in bounded memory.

A `Spool` is appended to once, then read as often as needed (`len()`, `for record in spool`); only
the record being read is in memory. The runner spills to spools when a run has more seed rows than
`SPILL_ROWS`; smaller runs keep their records in lists (faster, and just as small).

>>> import tempfile, pathlib
>>> s = Spool(pathlib.Path(tempfile.mkdtemp()) / "kept.jsonl")
>>> s.extend([{"a": 1}, {"a": "二"}])
>>> len(s), [r["a"] for r in s], [r["a"] for r in s]
(2, [1, '二'], [1, '二'])
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

SPILL_ROWS = 50_000  # above this many seed rows, stages and the dataset writer stream through spools


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
