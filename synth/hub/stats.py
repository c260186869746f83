"""What a run's data holds, for the dataset card: lengths, languages, answer checks, step labels, coverage.

Everything here is computed from the kept records themselves (and the run's dedup settings), so the
numbers in the card are the numbers of the data.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

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


_SCRIPTS = {"zh": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"), "ja": re.compile(r"[\u3040-\u30ff]"),
            "ko": re.compile(r"[\uac00-\ud7af]"), "ru": re.compile(r"[\u0400-\u04ff]+"), "en": re.compile(r"[A-Za-z]+")}


def language_of(text: str) -> str | None:
    """The language of a text by its script: kana -> ja, then whichever is larger of Hangul or Han
    characters (ko, zh) and Latin or Cyrillic words (en, ru) (a Han character carries about as much as
    a word). Latin script is reported as English, which it usually is in synth's data; set the card's
    language by hand for French or German data.

    >>> language_of("小明有12个苹果，他给了小红5个。"), language_of("How many apples?"), language_of("12 + 3")
    ('zh', 'en', None)
    >>> language_of("Explain 定投 in one line, please."), language_of("请解释 Python 的 list comprehension")
    ('en', 'zh')
    """
    counts = {lang: len(rx.findall(text)) for lang, rx in _SCRIPTS.items()}
    if not any(counts.values()):
        return None
    if counts["ja"]:
        return "ja"
    return max(counts.items(), key=lambda kv: kv[1])[0]


def languages(records: list[dict]) -> dict[str, int]:
    """Rows per detected language, most frequent first."""
    found = Counter(language_of(prompt_text(r) + "\n" + response_text(r)) for r in records)
    found.pop(None, None)
    return dict(found.most_common())


def card_languages(counts: dict[str, int]) -> list[str]:
    """Languages for the card metadata: those of at least 5 % of the rows.

    >>> card_languages({"zh": 90, "en": 8, "ko": 2})
    ['zh', 'en']
    """
    total = sum(counts.values())
    return [lang for lang, n in counts.items() if total and n / total >= 0.05]


def summary(values: list[int]) -> dict[str, float | int]:
    """count, mean, min, median, p90 and max of a list of lengths.

    >>> summary([1, 2, 3, 4, 100])
    {'count': 5, 'mean': 22.0, 'min': 1, 'p50': 3, 'p90': 100, 'max': 100}
    """
    if not values:
        return {"count": 0, "mean": 0.0, "min": 0, "p50": 0, "p90": 0, "max": 0}
    ordered = sorted(values)

    def pct(q: float) -> int:  # nearest rank
        return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * q) - 1))]

    return {"count": len(ordered), "mean": round(sum(ordered) / len(ordered), 1), "min": ordered[0],
            "p50": pct(0.5), "p90": pct(0.9), "max": ordered[-1]}


def lengths(records: list[dict]) -> dict[str, list[int]]:
    """Characters of each record's prompt and response."""
    return {"prompt": [len(prompt_text(r)) for r in records], "response": [len(response_text(r)) for r in records]}


def verification(records: list[dict]) -> dict[str, int] | None:
    """Kept records by answer-check status (`verification.status`), or None when the records carry none."""
    statuses = Counter(r["verification"].get("status") for r in records if isinstance(r.get("verification"), dict))
    return dict(statuses.most_common()) if statuses else None


def step_labels(records: list[dict]) -> dict[str, int] | None:
    """Step labels over all kept records with steps: positive, negative, unlabelled."""
    counts = Counter()
    with_steps = 0
    for record in records:
        steps = record.get("steps")
        if not isinstance(steps, list) or not steps:
            continue
        with_steps += 1
        for step in steps:
            label = step.get("label") if isinstance(step, dict) else None
            counts["positive" if label is not None and label > 0 else
                   "negative" if label is not None and label <= 0 else "unlabelled"] += 1
    if not with_steps:
        return None
    return {"records": with_steps, "steps": sum(counts.values()), "positive": counts["positive"],
            "negative": counts["negative"], "unlabelled": counts["unlabelled"]}


def seed_coverage(kept: list[dict], seed_rows: int) -> dict[str, Any]:
    """How many seed rows produced kept records, and how many each."""
    per_seed = Counter(str(r.get("seed_key")) for r in kept)
    histogram = Counter(per_seed.values())
    histogram[0] = max(0, seed_rows - len(per_seed))
    return {"seed_rows": seed_rows, "seed_rows_with_kept_records": len(per_seed),
            "kept_per_seed_row": {str(k): histogram[k] for k in sorted(histogram)}}


def dedup_params(dedup: dict | None) -> dict[str, Any] | None:
    """The near-duplicate settings a run used and their S-curve, or None without MinHash dedup."""
    if not dedup or not dedup.get("near", True):
        return None
    from synth.dedup import DedupConfig
    from synth.dedup.params import midpoint, s_curve

    cfg = DedupConfig.model_validate(dedup)
    b, r = cfg.params
    return {"threshold": cfg.threshold, "num_perm": cfg.num_perm, "bands": b, "rows": r, "ngram": cfg.ngram,
            "cjk_ngram": cfg.cjk_ngram, "exact": cfg.exact, "midpoint": round(midpoint(b, r), 4),
            "s_curve": {f"{s:.2f}": round(p, 4) for s, p in s_curve(b, r)}}


def compute(kept: list[dict], *, seed_rows: int, dedup: dict | None, recipe: str) -> dict[str, Any]:
    """Every statistic the card shows, as plain JSON for the manifest."""
    lens = lengths(kept)
    langs = languages(kept)
    return {
        "kept": len(kept),
        "languages": langs, "card_languages": card_languages(langs),
        "size_category": size_category(len(kept)),
        "task_categories": TASKS.get(recipe, ["text-generation"]),
        "lengths": {name: summary(values) for name, values in lens.items()},
        "verification": verification(kept),
        "correct": (dict(Counter("correct" if r.get("correct") else "incorrect" for r in kept))
                    if any("correct" in r for r in kept) else None),
        "step_labels": step_labels(kept),
        "seed_coverage": seed_coverage(kept, seed_rows),
        "dedup": dedup_params(dedup),
    }
