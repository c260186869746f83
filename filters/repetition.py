"""Drop degenerate, looping answers.

Gopher's repetition rules (Rae et al. 2021, arXiv 2112.11446; datatrove
`gopher_repetition_filter.py`): share of duplicated lines, and the share of characters covered by
duplicated word n-grams (5-grams: 0.15 … 10-grams: 0.10). The web-document thresholds apply to long
text, so answers shorter than `min_words` are left alone. Words are whitespace tokens, and each CJK
character counts as a word, so Chinese loops are caught too. Not implemented: Gopher's top-n-gram
rules for 2–4-grams, which misfire on short technical answers.
"""

from __future__ import annotations

import re
from collections import Counter

from synth.filter import Filter, assistant_text

_TOKENS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]|[^\s\u3400-\u4dbf\u4e00-\u9fff]+")
DUP_NGRAM_SHARE = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}


def duplicated_ngram_share(words: list[str], n: int) -> float:
    """Share of characters in word n-grams that occur more than once (Gopher's definition)."""
    if len(words) < n:
        return 0.0
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    counts = Counter(grams)
    covered = [False] * len(words)
    for i, gram in enumerate(grams):
        if counts[gram] > 1:
            for j in range(i, i + n):
                covered[j] = True
    total = sum(len(w) for w in words)
    return sum(len(w) for w, c in zip(words, covered) if c) / total if total else 0.0


class RepetitionFilter(Filter):
    """Reject answers with many duplicated lines or duplicated long n-grams.

    Args:
        min_words: answers shorter than this are not checked (Gopher's rules are for long text).
        dup_line_share: most lines that may repeat an earlier line (Gopher: 0.3).
        dup_ngram_share: n -> most characters that may sit in repeated n-grams (Gopher's 5–10-grams).
    """

    name = "repetition"
    description = "Drop looping answers (Gopher duplicated-line and duplicated-n-gram rules)."

    def __init__(self, min_words: int = 50, dup_line_share: float = 0.3,
                 dup_ngram_share: dict[int, float] | None = None) -> None:
        self.min_words = min_words
        self.dup_line_share = dup_line_share
        self.dup_ngram_share = {int(k): v for k, v in (dup_ngram_share or DUP_NGRAM_SHARE).items()}

    def filter(self, record):
        text = assistant_text(record)
        words = _TOKENS.findall(text)
        if len(words) < self.min_words:
            return True
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines and 1 - len(set(lines)) / len(lines) > self.dup_line_share:
            return False, "repetition_duplicate_lines"
        for n, limit in sorted(self.dup_ngram_share.items()):
            if duplicated_ngram_share(words, n) > limit:
                return False, f"repetition_{n}gram"
        return True
