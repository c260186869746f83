"""Record shards: `records/<fingerprint>/part-*.jsonl`, generated records as append-only JSON lines, a
file per session, written a group commit at a time and fsynced before their rows are marked done
(synth.store.run); read back each record once, in seed order. A line cut by a kill
is skipped: its row was not marked done, so it is generated again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson

_RECORD = json.JSONEncoder(ensure_ascii=False, default=str).encode
# records are written and read with orjson (~10x json here, bench/RESULTS.md); datetimes and dataclasses
# pass through to default=str as with json
_ORJSON = orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def record_line(record: dict) -> bytes:
    """One record as a JSON line (bytes, newline included)."""
    try:
        return orjson.dumps(record, default=str, option=_ORJSON)
    except orjson.JSONEncodeError:  # keys that are not text, ints past 64 bits: json writes those
        return (_RECORD(record) + "\n").encode()


_SEED_KEY = re.compile(r'"seed_key": ?"([0-9a-f]+)"')


def _record_seed_key(line: str) -> str:
    """The seed key of a record line: synth's own comes before the recipe's fields (synth.generation.stamp), so
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


def _record_id(line: str) -> str:
    """The id of a record line; records start with it (synth.generation.stamp), so no JSON parse is needed.

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


class RecordShards:
    """The shards of one fingerprint, in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._shard = None

    def write(self, lines: bytes) -> tuple[str, int]:
        """Append and fsync (it syncs to disk: callers may run it in a thread); the shard's name and its
        length with these lines, for the commit that marks their rows done to record."""
        if self._shard is None:
            n = len(list(self.folder.glob("part-*.jsonl")))
            self._shard = open(self.folder / f"part-{n:05d}.jsonl", "ab")
        self._shard.write(lines)
        self._shard.flush()
        os.fsync(self._shard.fileno())
        return Path(self._shard.name).name, self._shard.tell()

    def cut_to(self, committed: dict[str, int]) -> int:
        """Cut each shard back to the length its last committed row marks reached (``committed``; a shard not
        in it reached none): the records a killed session wrote for rows it never marked done go, since the
        next session makes those rows again. Returns the bytes cut."""
        cut = 0
        for shard in sorted(self.folder.glob("part-*.jsonl")):
            size, keep = shard.stat().st_size, committed.get(shard.name, 0)
            if size <= keep:
                continue
            cut += size - keep
            if keep == 0:
                shard.unlink()
            else:
                with open(shard, "r+b") as fh:
                    fh.truncate(keep)
                    os.fsync(fh.fileno())
        return cut

    def clear(self) -> None:
        """Remove every shard (the folder is renamed aside first, so no reader sees half of it)."""
        self.close()
        trash = self.folder.with_name(f".{self.folder.name}.old.{os.getpid()}")
        os.replace(self.folder, trash)
        self.folder.mkdir()
        shutil.rmtree(trash, ignore_errors=True)

    def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None

    def read_by_seed(self, seed_keys: np.ndarray) -> Iterator[dict]:
        """The records whose seed row is among `seed_keys` (uint64 row keys in seed
        order), in seed order and, within a row, in the order the recipe returned them; each once.

        Shards hold records in the order rows finished, which depends on timing and on where a run was
        resumed: whatever keeps "the first" record (dedup) would keep a different one from run to run.
        A first pass notes each line's seed position and place (24 bytes a record, not the record);
        the second reads the lines in that order.
        """
        shards = sorted(self.folder.glob("part-*.jsonl"))
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
