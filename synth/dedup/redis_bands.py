"""LSH buckets of a Redis index: one Redis hash per band, field = the band's values, value = ordinals.

A row's band is its ``r`` full 32-bit MinHash values (16 bytes at r = 4), the field as raw bytes: two
rows share a bucket exactly when those values are equal, as in datasketch's buckets, so candidates do
not change. The value is the bucket's row ordinals packed as little-endian uint32. Per band and row
that is one hash entry (~85 B of server memory) where datasketch kept a key, a set and an entry in a
bucket list, plus a per-row list of the bands that we never read (~430 B a band all told).

Both directions are Lua scripts over whole chunks of rows, all chunks in one pipeline: a band's fields
travel as one concatenated string (a million separate arguments cost more to pack and parse than
the lookups themselves), lookups return only the hits, and inserts append to a bucket atomically, so
two writers adding to the same bucket at once both stay in it.
"""

from __future__ import annotations

import numpy as np

ORDINAL = np.dtype("<u4")
MAX_ORDINAL = np.iinfo(ORDINAL).max
CHUNK_ROWS = 1024  # rows per script: the server runs one for ~30 ms, other clients go between them

# KEYS: one hash per band; ARGV[1]: field width; ARGV[j + 1]: band j's fields, concatenated.
# Returns {position, ordinals, ...} for the hits alone: most lookups miss.
LOOKUP = """
local w, out = tonumber(ARGV[1]), {}
for j = 1, #KEYS do
  local blob = ARGV[j + 1]
  for k = 0, #blob / w - 1 do
    local v = redis.call('HGET', KEYS[j], string.sub(blob, k * w + 1, (k + 1) * w))
    if v then
      out[#out + 1] = k
      out[#out + 1] = v
    end
  end
end
return out
"""

# KEYS and ARGV[1] as LOOKUP's; ARGV[2]: the rows' ordinals (4 bytes each); ARGV[j + 2]: band j's
# fields. Most buckets are new, so HSETNX settles them in one call; an existing one gets appended to.
APPEND = """
local w, ords = tonumber(ARGV[1]), ARGV[2]
for j = 1, #KEYS do
  local blob = ARGV[j + 2]
  for k = 0, #ords / 4 - 1 do
    local field, o = string.sub(blob, k * w + 1, (k + 1) * w), string.sub(ords, k * 4 + 1, k * 4 + 4)
    if redis.call('HSETNX', KEYS[j], field, o) == 0 then
      redis.call('HSET', KEYS[j], field, redis.call('HGET', KEYS[j], field) .. o)
    end
  end
end
return 0
"""


class BandBuckets:
    def __init__(self, client, prefix: bytes, bands: int, rows: int):
        self.r = client
        self.keys = [prefix + b"%d" % j for j in range(bands)]
        self.rows = rows

    def _bands(self, full: np.ndarray) -> list[bytes]:
        """Each band of ``full``'s rows as one string: the rows' fields, concatenated."""
        r = self.rows
        return [np.ascontiguousarray(full[:, j * r:(j + 1) * r], dtype=np.uint32).tobytes()
                for j in range(len(self.keys))]

    def candidates(self, full: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (row, ordinal) for each of ``rows`` (indices into ``full``) and every stored row sharing
        a bucket with it, each pair once, sorted."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = range(0, len(rows), CHUNK_ROWS)
        pipe = self.r.pipeline(transaction=False)
        for c in starts:
            pipe.eval(LOOKUP, len(self.keys), *self.keys, self.rows * 4, *self._bands(full[rows[c:c + CHUNK_ROWS]]))
        hit_rows, blobs = [], []
        for c, hits in zip(starts, pipe.execute() if len(rows) else []):
            hit_rows += [rows[c + k] for k in hits[0::2]]
            blobs += hits[1::2]
        if not blobs:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        counts = np.array([len(v) for v in blobs]) // ORDINAL.itemsize
        ords = np.frombuffer(b"".join(blobs), dtype=ORDINAL).astype(np.int64)
        packed = np.unique(np.repeat(np.array(hit_rows, dtype=np.int64), counts) << 32 | ords)
        return packed >> 32, packed & MAX_ORDINAL

    def append(self, pipe, full: np.ndarray, ordinals: np.ndarray) -> None:
        """Queue, on ``pipe``, the adding of each row of ``full`` to its bucket in every band."""
        if len(ordinals) and int(ordinals.max()) > MAX_ORDINAL:
            raise OverflowError(f"a Redis index holds at most {MAX_ORDINAL + 1:,} rows")
        for c in range(0, len(ordinals), CHUNK_ROWS):
            packed = ordinals[c:c + CHUNK_ROWS].astype(ORDINAL).tobytes()
            pipe.eval(APPEND, len(self.keys), *self.keys, self.rows * 4, packed, *self._bands(full[c:c + CHUNK_ROWS]))
