"""A filter score's distribution over a stream of rows, in memory that does not grow with the rows.

A streamed `synth filter` (and a streamed run's filter stages, and `synth filter --ray`) summarises
each score over every row so far. Keeping every value grew with the input; `ScoreSummary` keeps:

- exact counts: values present, missing, and for numbers their sum, min and max (the mean is exact);
- exact counts of each distinct value, for the first `MAX_DISTINCT` distinct values (later new values
  are counted together as `other`): labels such as a language stay exact;
- a sample of `SAMPLE` values (bottom-k by a fixed-seed hash of the value's ordinal, so the same
  stream always gives the same sample, a resumed run the same as an unbroken one, and partial summaries
  merge): the quartiles, and a filter's own `summarize` (e.g. the judge's histogram), come from it.
  Up to `SAMPLE` values the sample is every value, so the summary is what the whole list gave.

Summaries merge (`merge`) and travel as JSON (`state` / `from_state`): a Ray task returns its shard's,
a checkpoint saves them.

    >>> s = ScoreSummary()
    >>> s.extend([1, 2, 3, 4, None])
    >>> s.summary()
    {'n': 4, 'missing': 1, 'mean': 2.5, 'min': 1, 'p25': 1.75, 'p50': 2.5, 'p75': 3.25, 'max': 4}
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from typing import Any

import xxhash

SAMPLE = 4096
MAX_DISTINCT = 1000
_SEED = 20271


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _plain(v: Any) -> Any:
    """`v` as a JSON value (the summary's state goes into a checkpoint and the report): a NumPy scalar
    or array as its Python value, lists and mappings item by item, anything else not JSON as its str."""
    if v is None or type(v) in (str, bool, int, float):
        return v
    if type(v).__module__ == "numpy" and hasattr(v, "tolist"):  # np.int64, np.float32, np.bool_, arrays
        item = v.tolist()
        return str(v) if type(item).__module__ == "numpy" else _plain(item)
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):  # subclasses (IntEnum, np.float64 is a float): the plain value
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return str(v)


class ScoreSummary:
    """Bounded running summary of one score's values (None: the row has no value)."""

    def __init__(self, salt: int = 0) -> None:
        self.salt = salt  # partial summaries of different shards draw different samples
        self.seen = self.present = 0
        self.numeric = True
        self.total = 0.0
        self.low: Any = None
        self.high: Any = None
        self.counts: Counter = Counter()
        self.other = 0
        self._heap: list[tuple[int, int, Any]] = []  # (-key, arrival, value): the SAMPLE smallest keys
        self._arrival = itertools.count()  # unique, so equal keys never compare values

    def extend(self, values) -> None:
        for v in values:
            self.add(v)

    def count(self, values) -> None:
        """Count values without keeping any (free-text scores: only n and missing are reported)."""
        for v in values:
            self.seen += 1
            self.present += v is not None

    def add(self, v: Any) -> None:
        v = _plain(v)
        key = xxhash.xxh64_intdigest(f"{self.salt}:{self.seen}".encode(), seed=_SEED)
        self._offer(key, v)
        self.seen += 1
        if v is None:
            return
        self.present += 1
        if _number(v):
            self.total += v
            self.low = v if self.low is None else min(self.low, v)
            self.high = v if self.high is None else max(self.high, v)
        else:
            self.numeric = False
        label = str(v)
        if label in self.counts or len(self.counts) < MAX_DISTINCT:
            self.counts[label] += 1
        else:
            self.other += 1

    def _offer(self, key: int, v: Any) -> None:
        if len(self._heap) < SAMPLE:
            heapq.heappush(self._heap, (-key, next(self._arrival), v))
        elif key < -self._heap[0][0]:
            heapq.heapreplace(self._heap, (-key, next(self._arrival), v))

    def sample(self) -> list[Any]:
        """The sampled values (every value, in stream order, while there are at most SAMPLE)."""
        return [v for _, _, v in sorted(self._heap, key=lambda t: t[1])]

    def merge(self, other: ScoreSummary) -> None:
        self.seen += other.seen
        self.present += other.present
        self.numeric = self.numeric and other.numeric
        self.total += other.total
        for v in (other.low, other.high):
            if v is not None and _number(v):
                self.low = v if self.low is None else min(self.low, v)
                self.high = v if self.high is None else max(self.high, v)
        for label, c in other.counts.items():
            if label in self.counts or len(self.counts) < MAX_DISTINCT:
                self.counts[label] += c
            else:
                self.other += c
        self.other += other.other
        for neg, _, v in sorted(other._heap, key=lambda t: t[1]):  # by arrival: the sample stays in stream order
            self._offer(-neg, v)

    def summary(self) -> dict[str, Any]:
        """n, missing; numbers: mean, min, quartiles, max; anything else: the 20 commonest values."""
        out: dict[str, Any] = {"n": self.present, "missing": self.seen - self.present}
        if self.present and self.numeric:
            ordered = sorted(v for v in self.sample() if v is not None)

            def quantile(q: float) -> float:
                pos = q * (len(ordered) - 1)
                lo = int(pos)
                hi = min(lo + 1, len(ordered) - 1)
                return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 4)

            out.update(mean=round(self.total / self.present, 4), min=self.low, p25=quantile(0.25),
                       p50=quantile(0.5), p75=quantile(0.75), max=self.high)
            if self.seen > SAMPLE:  # the quartiles are the sample's
                out["sample"] = {"size": SAMPLE, "of": self.seen}
        elif self.present:
            out["counts"] = dict(self.counts.most_common(20))
            if self.other:
                out["other_values"] = self.other
        return out

    def state(self) -> dict[str, Any]:
        return {"salt": self.salt, "seen": self.seen, "present": self.present, "numeric": self.numeric,
                "total": self.total, "low": self.low, "high": self.high, "counts": dict(self.counts),
                "other": self.other, "sample": [[-neg, tie, v] for neg, tie, v in self._heap]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ScoreSummary:
        s = cls(state["salt"])
        s.seen, s.present, s.numeric, s.total = state["seen"], state["present"], state["numeric"], state["total"]
        s.low, s.high, s.other = state["low"], state["high"], state["other"]
        s.counts = Counter(state["counts"])
        s._heap = [(-key, tie, v) for key, tie, v in state["sample"]]
        heapq.heapify(s._heap)
        s._arrival = itertools.count(max((t for _, t, _ in s._heap), default=-1) + 1)
        return s


def summarize(flt, name: str, acc: ScoreSummary, text: bool) -> dict[str, Any]:
    """The report entry of score `name` of filter `flt`: its own `summarize` over the sample (noting
    the sample's size once it is one), a free-text score's counts, or the default summary."""
    if text:  # counted only (ScoreSummary.count): no values to summarise
        return {"n": acc.present, "missing": acc.seen - acc.present}
    custom = flt.summarize(name, acc.sample()) if hasattr(flt, "summarize") else None
    if custom is not None:
        if acc.seen > SAMPLE:
            custom = {**custom, "sample": {"size": SAMPLE, "of": acc.seen}}
        return custom
    return acc.summary()


class Summaries(dict):
    """Score name -> ScoreSummary; `salt` tells apart the samples of summaries that will be merged."""

    salt = 0


def add_and_summarize(acc: dict[str, ScoreSummary], values: dict[str, list], flt, text: set[str]) -> dict:
    """Add a chunk's score values to the running summaries `acc` (name -> ScoreSummary, created on
    first sight) and return every score's report entry so far."""
    for name, vals in values.items():
        summary = acc.setdefault(name, ScoreSummary(getattr(acc, "salt", 0)))
        if name in text:  # free text (a judge's rationale) lives on the records; the report counts it
            summary.count(vals)
        else:
            summary.extend(vals)
    return {name: summarize(flt, name, s, name in text) for name, s in acc.items()}
