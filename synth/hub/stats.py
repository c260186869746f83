"""What a run's data holds, for the dataset card: lengths, languages, answer checks, step labels, coverage.

Everything here is computed from the kept records themselves (and the run's dedup settings), so the
numbers in the card are the numbers of the data: in one pass and in memory that does not grow with the
run (`Collector`); counts are exact, length percentiles are exact below 65,536 characters (`Lengths`).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from synth.spool import Tally
from synth.text import script_language

SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"))

# Hub task categories by recipe; a recipe not named here makes text-generation data
TASKS = {"doc-qa": ["question-answering", "text-generation"], "reasoning": ["text-generation", "question-answering"],
         "problem-augment": ["text-generation", "question-answering"],
         "step-labels": ["text-classification", "text-generation"]}


def size_category(n: int) -> str:
    """The Hub's size bucket.

    >>> size_category(999), size_category(1000), size_category(25_000)
    ('n<1K', '1K<n<10K', '10K<n<100K')
    """
    for limit, name in SIZE_CATEGORIES:
        if n < limit:
            return name
    return "n>1T"


def prompt_text(record: dict) -> str:
    """The question a record answers: its last user turn, else its instruction/problem/question field."""
    messages = record.get("messages") or []
    users = [m.get("content") or "" for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if users:
        return users[-1]
    return str(record.get("instruction") or record.get("problem") or record.get("question") or "")


def response_text(record: dict) -> str:
    """The answer a record holds: its last assistant turn, else its response/solution/answer field."""
    messages = record.get("messages") or []
    if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant":
        return messages[-1].get("content") or ""
    return str(record.get("response") or record.get("solution") or record.get("answer") or "")


def card_languages(counts: dict[str, int]) -> list[str]:
    """Languages for the card metadata: those of at least 5 % of the rows.

    >>> card_languages({"zh": 90, "en": 8, "ko": 2})
    ['zh', 'en']
    """
    total = sum(counts.values())
    return [lang for lang, n in counts.items() if total and n / total >= 0.05]


EXACT_BELOW = 1 << 16  # lengths counted one by one below this; above, in bins 1 % wide
WIDE_STEP = math.log(1.01)


class Lengths:
    """A histogram of lengths in fixed memory (~0.5 MB): one count per length below `EXACT_BELOW`
    characters (65,536), and bins 1 % wide above it. Count, mean, min and max are exact; a percentile
    is exact when it falls below 65,536 characters, and otherwise the lower edge of its bin, within
    1 % below the true value.

    >>> h = Lengths.of([1, 2, 3, 4, 100])
    >>> h.count, h.percentile(0.5), h.percentile(0.9), h.summary()["mean"]
    (5, 3, 100, 22.0)
    >>> big = Lengths.of([100_000, 200_000])
    >>> big.percentile(0.5), big.percentile(1.0), big.max
    (100000, 199745, 200000)
    """

    FLUSH = 8192

    def __init__(self) -> None:
        self.exact = np.zeros(EXACT_BELOW, dtype=np.int64)
        self.wide: Counter[int] = Counter()  # bin i holds [EXACT_BELOW * 1.01**i, EXACT_BELOW * 1.01**(i+1))
        self.count = self.total = self.max = 0
        self.min: int | None = None
        self._pending: list[int] = []

    @classmethod
    def of(cls, values) -> Lengths:
        h = cls()
        h._pending = list(values)
        h.flush()
        return h

    def add(self, n: int) -> None:
        self._pending.append(n)
        if len(self._pending) >= self.FLUSH:
            self.flush()

    def flush(self) -> None:
        """Count what `add` gathered (in numpy, a batch at a time: cheap per value)."""
        if not self._pending:
            return
        values = np.asarray(self._pending, dtype=np.int64)
        self._pending.clear()  # the same list: `Collector` appends to it directly
        self.count += len(values)
        self.total += int(values.sum())
        low, high = int(values.min()), int(values.max())
        self.min = low if self.min is None else min(self.min, low)
        self.max = max(self.max, high)
        small = values < EXACT_BELOW
        self.exact += np.bincount(values[small], minlength=EXACT_BELOW)
        if high >= EXACT_BELOW:
            self.wide.update(_wide_bin(v) for v in values[~small].tolist())

    def percentile(self, q: float) -> int:
        """Nearest-rank percentile (see the class for its bound)."""
        self.flush()
        if not self.count:
            return 0
        rank = min(self.count, max(1, math.ceil(self.count * q)))
        below = np.cumsum(self.exact)
        if below[-1] >= rank:
            return int(np.searchsorted(below, rank))
        seen = int(below[-1])
        for b in sorted(self.wide):
            seen += self.wide[b]
            if seen >= rank:
                return max(self.min, min(self.max, _wide_edge(b)))
        return self.max

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """(value, count) for every non-empty bin: the exact lengths, then the wide bins' lower edges."""
        self.flush()
        at = np.flatnonzero(self.exact)
        wide = sorted(self.wide)
        return (np.concatenate([at, np.array([_wide_edge(b) for b in wide], dtype=np.int64)]),
                np.concatenate([self.exact[at], np.array([self.wide[b] for b in wide], dtype=np.int64)]))

    def summary(self) -> dict[str, float | int]:
        """count, mean, min, median, p90 and max."""
        self.flush()
        if not self.count:
            return {"count": 0, "mean": 0.0, "min": 0, "p50": 0, "p90": 0, "max": 0}
        return {"count": self.count, "mean": round(self.total / self.count, 1), "min": self.min,
                "p50": self.percentile(0.5), "p90": self.percentile(0.9), "max": self.max}


def _wide_bin(n: int) -> int:
    return int(math.log(n / EXACT_BELOW) / WIDE_STEP)


def _wide_edge(b: int) -> int:
    return math.ceil(EXACT_BELOW * math.exp(b * WIDE_STEP))


def summary(values) -> dict[str, float | int]:
    """count, mean, min, median, p90 and max of lengths (percentiles as `Lengths` bounds them).

    >>> summary([1, 2, 3, 4, 100])
    {'count': 5, 'mean': 22.0, 'min': 1, 'p50': 3, 'p90': 100, 'max': 100}
    """
    return Lengths.of(values).summary()


_ABSENT = object()


class Collector:
    """Every statistic the card shows, gathered in one pass over the kept records, in memory that does
    not grow with them: lengths as `Lengths` histograms, per-seed-row counts in a `synth.spool.Tally`
    (on disk in `scratch` once there are many seed rows), everything else as counters of a few keys."""

    def __init__(self, *, seed_rows: int, dedup: dict | None, recipe: str, scratch: Path | None = None) -> None:
        self.seed_rows, self.dedup, self.recipe = seed_rows, dedup, recipe
        self.lengths = {"prompt": Lengths(), "response": Lengths()}
        self._prompt_lens, self._response_lens = (h._pending for h in self.lengths.values())
        self.kept = 0
        self.languages: Counter[str | None] = Counter()
        self.statuses: Counter = Counter()
        self.correct = 0  # records whose `correct` is true
        self.has_correct = False  # any record with a `correct` key at all
        self.steps: Counter[str] = Counter()
        self.with_steps = 0
        self.per_seed = Tally(scratch)

    def add(self, r: dict) -> None:
        """Count one kept record (kept cheap: this runs once per record of a run)."""
        self.kept += 1
        prompt, response = prompt_text(r), response_text(r)
        self._prompt_lens.append(len(prompt))
        self._response_lens.append(len(response))
        if not self.kept % Lengths.FLUSH:
            for h in self.lengths.values():
                h.flush()
        self.languages[script_language(prompt + "\n" + response)] += 1
        get = r.get
        verification = get("verification")
        if isinstance(verification, dict):
            self.statuses[verification.get("status")] += 1
        correct = get("correct", _ABSENT)
        if correct is not _ABSENT:
            self.has_correct = True
            if correct:
                self.correct += 1
        steps = get("steps")
        if isinstance(steps, list) and steps:
            self.with_steps += 1
            for step in steps:
                label = step.get("label") if isinstance(step, dict) else None
                self.steps["unlabelled" if label is None else "positive" if label > 0 else "negative"] += 1
        self.per_seed.add(str(get("seed_key")))

    def result(self) -> dict[str, Any]:
        """The statistics as plain JSON for the manifest (and the card)."""
        langs = self.languages.copy()
        langs.pop(None, None)
        langs = dict(langs.most_common())
        correct = None
        if self.has_correct:  # then every record counts: `correct` true, or not
            counts = {"correct": self.correct, "incorrect": self.kept - self.correct}
            correct = {k: n for k, n in counts.items() if n}
        seeds_with_kept = len(self.per_seed)
        per_seed = self.per_seed.histogram()
        per_seed[0] = max(0, self.seed_rows - seeds_with_kept)
        return {
            "kept": self.kept,
            "languages": langs, "card_languages": card_languages(langs),
            "size_category": size_category(self.kept),
            "task_categories": TASKS.get(self.recipe, ["text-generation"]),
            "lengths": {name: h.summary() for name, h in self.lengths.items()},
            "verification": dict(self.statuses.most_common()) if self.statuses else None,
            "correct": correct,
            "step_labels": ({"records": self.with_steps, "steps": sum(self.steps.values()),
                             "positive": self.steps["positive"], "negative": self.steps["negative"],
                             "unlabelled": self.steps["unlabelled"]} if self.with_steps else None),
            "seed_coverage": {"seed_rows": self.seed_rows, "seed_rows_with_kept_records": seeds_with_kept,
                              "kept_per_seed_row": {str(k): per_seed[k] for k in sorted(per_seed)}},
            "dedup": dedup_params(self.dedup),
        }

    def close(self) -> None:
        self.per_seed.close()


def dedup_params(dedup: dict | None) -> dict[str, Any] | None:
    """The near-duplicate settings a run used and their S-curve, or None without MinHash dedup."""
    if dedup is None:
        return None
    from synth.dedup import DedupConfig
    from synth.dedup.params import midpoint, s_curve

    cfg = DedupConfig.model_validate(dedup)
    if not cfg.near:
        return None
    b, r = cfg.params
    return {"threshold": cfg.threshold, "num_perm": cfg.num_perm, "bands": b, "rows": r, "ngram": cfg.ngram,
            "cjk_ngram": cfg.cjk_ngram, "exact": cfg.exact, "midpoint": round(midpoint(b, r), 4),
            "s_curve": {f"{s:.2f}": round(p, 4) for s, p in s_curve(b, r)}}


def collect(kept, *, seed_rows: int, dedup: dict | None, recipe: str,
            scratch: Path | None = None) -> tuple[dict[str, Any], dict[str, Lengths]]:
    """Every statistic the card shows (plain JSON for the manifest), and the length histograms for
    the plot, from one pass over `kept` (a list, or a synth.spool.Spool read once)."""
    collector = Collector(seed_rows=seed_rows, dedup=dedup, recipe=recipe, scratch=scratch)
    try:
        for record in kept:
            collector.add(record)
        return collector.result(), collector.lengths
    finally:
        collector.close()


def compute(kept, *, seed_rows: int, dedup: dict | None, recipe: str) -> dict[str, Any]:
    """Every statistic the card shows, as plain JSON for the manifest."""
    return collect(kept, seed_rows=seed_rows, dedup=dedup, recipe=recipe)[0]
