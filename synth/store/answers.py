"""The request cache's side of answers not yet committed: the answer journal, and a Bloom filter of
the cached keys that spares SQLite the lookups of requests never asked.

Until its group commit (synth.store.run), each answer is appended to a journal file
(`answers-<pid>-<n>.journal`: during a run one write per pass of the event loop, at the start of the
next pass; no fsync: the kernel keeps it through a process kill), which the next session replays into
the cache, so an answer that arrived just before a kill -9 is not paid for again.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path


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


class AnswerJournal:
    """The journal files of one session in `root`: answers appended as they arrive, a new file after each
    group commit (the old one goes once its answers are in the cache). A line is a row of the cache's
    `responses` table, tab-separated: both JSON texts escape every control character, so no second
    encoding is needed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._n = 0
        self._lines: list[str] = []  # lines of this pass of the event loop (see append)
        self._file = self._open()

    def _open(self):
        self._n += 1
        return open(self.root / f"answers-{os.getpid()}-{self._n}.journal", "a", encoding="utf-8")

    def append(self, row: tuple, *, batched: bool) -> None:
        """Journal one `responses` row (key, request, seed, response, created). `batched` (during a run):
        the answers of one pass of the event loop go in one write at the start of the next pass (a write
        per answer cost ~5 us each, bench/RESULTS.md)."""
        key, request_json, seed, response, created = row
        line = f"{key}\t{seed}\t{created}\t{request_json}\t{response}\n"
        if batched:
            self._lines.append(line)
            if len(self._lines) == 1:
                asyncio.get_running_loop().call_soon(self.flush)
        else:
            self._file.write(line)
            self._file.flush()  # in the kernel now: survives a kill of this process

    def write(self, text: str) -> None:
        """Raw text into the current file (in the kernel at the next `flush`)."""
        self._file.write(text)

    def flush(self) -> None:
        if self._lines:
            self._file.write("".join(self._lines))
            self._lines.clear()
        self._file.flush()

    def rotate(self) -> Path:
        """Close the current file, whose answers are about to be committed, and start a new one; returns
        the closed file, to remove once they are."""
        self.flush()
        self._file.close()
        path = Path(self._file.name)
        self._file = self._open()
        return path

    def close(self) -> None:
        """Close and remove the current file (its answers are committed)."""
        self._file.close()
        Path(self._file.name).unlink(missing_ok=True)

    @staticmethod
    def replay(root: Path) -> Iterator[tuple[Path, list[tuple]]]:
        """(journal file, its answers as `responses` rows) for each journal a session left in `root`; a
        line cut by a kill is skipped. The caller commits the rows, then removes the file."""
        for path in sorted(root.glob("answers-*.journal")):
            rows = []
            for line in path.read_text(encoding="utf-8", errors="replace").split("\n"):
                parts = line.split("\t")
                try:
                    key, seed, created, request_json, response = parts
                    json.loads(response)  # the last line may be cut by the kill
                except ValueError:
                    continue
                rows.append((key, request_json, None if seed == "None" else int(seed), response, float(created)))
            yield path, rows
