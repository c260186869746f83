"""Seed rows, read lazily: a 1 M-row seed file is never held in memory.

`Seeds` reads the source once up front to check every row for the recipe's fields (so a bad row
stops the run before any request), to key each row by its content and to find duplicates. It keeps
only the 8-byte key of each row (a row's key *is* 64 bits of a hash, 16 hex digits), then reads the
source again while the run goes, yielding `(position, key, row)` for the first occurrence of each row.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from synth.errors import InputError
from synth.store import dump_json


def row_key(row: dict) -> str:
    """A row's identity: 16 hex digits of the hash of its canonical JSON.

    >>> row_key({"b": 1, "a": "x"}) == row_key({"a": "x", "b": 1})
    True
    """
    return hashlib.sha256(dump_json(row).encode()).hexdigest()[:16]


class Seeds:
    """The selected seed rows of a run: `len()`, `digest`, and `iter()` (again and again, lazily)."""

    def __init__(self, open_rows: Callable[[], Iterable[dict]], *, name: str, needed: list[str] = (),
                 recipe: str = "", limit: int | None = None) -> None:
        self._open = open_rows
        keys = array("Q")
        rows = iter(open_rows())
        try:
            for i, row in enumerate(rows, 1):
                missing = [f for f in needed if row.get(f) in (None, "")]
                if missing:
                    raise InputError(f"{name}: row {i} has no {', '.join(repr(m) for m in missing)} field, which "
                                     f"recipe {recipe!r} needs (rename the column or set the recipe's field option)")
                keys.append(int(row_key(row), 16))
        finally:  # a reader stopped early closes its file now, not at interpreter exit (pyarrow's threads)
            close = getattr(rows, "close", None)
            if close is not None:
                close()
        if not keys:
            raise InputError(f"{name} has no rows")
        all_keys = np.frombuffer(keys, dtype=np.uint64)
        _, first = np.unique(all_keys, return_index=True)
        self._keep = np.zeros(len(all_keys), dtype=bool)  # a row's first occurrence; duplicates collapse
        self._keep[first] = True
        unique = all_keys[np.sort(first)]
        digest = hashlib.sha256()  # of the keys' hex digits, fed a slice at a time (a 1 M-row text is 16 MB)
        for i in range(0, len(unique), 65_536):
            digest.update("".join(f"{k:016x}" for k in unique[i:i + 65_536].tolist()).encode())
        self.digest = digest.hexdigest()[:16]
        self._keys = keys
        self.count = min(len(unique), limit) if limit else len(unique)
        # rows read to select them (the last selected row's position) less the selected: the duplicates
        # collapsed, counted in the run's books (seed rows = done + failed + duplicate)
        self.read = len(all_keys) if self.count == len(unique) else int(np.sort(first)[self.count - 1]) + 1
        self.duplicates = self.read - self.count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[tuple[int, str, dict]]:
        """(position among the selected rows, 1-based; key; row)."""
        n = 0
        for i, row in enumerate(self._open()):
            if n >= self.count:
                return
            if i < len(self._keep) and self._keep[i]:
                n += 1
                yield n, f"{self._keys[i]:016x}", row

    def keyed(self) -> list[tuple[str, dict]]:
        """All selected rows as (key, row), in memory (for recipes whose hooks need the whole list)."""
        return [(k, r) for _, k, r in self]


def from_path(path: Path, recipe, limit: int | None) -> Seeds:
    """The seeds at `path`: the recipe's own reader (documents, a taxonomy) or the table readers; or a
    dataset on a hub, `hf://ORG/NAME[:split]` / `ms://ORG/NAME[:split]` (synth.hub.remote_seeds)."""
    from synth.hub import remote_seeds
    from synth.io import iter_rows

    hub = remote_seeds.parse(path)  # also as joined onto the config's folder: dir/hf:/ORG/NAME
    if hub is not None:
        return Seeds(remote_seeds.opener(hub), name=hub.spec, needed=recipe.required_fields(), recipe=recipe.name,
                     limit=limit)
    rows = recipe.read_seeds(path)
    opener = (lambda: rows) if rows is not None else (lambda: iter_rows(path))
    return Seeds(opener, name=str(path), needed=recipe.required_fields(), recipe=recipe.name, limit=limit)
