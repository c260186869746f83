"""Drop degenerate, looping answers and chains of thought.

A *loop* is the same block of units (words; CJK characters) repeated back to back at least
`min_repeats` times over at least `min_loop_units` units: the way sampling degenerates (Holtzman et
al. 2019, arXiv 1904.09751; Welleck et al. 2019, arXiv 1908.04319), in the answer or in a reasoning
model's separate thinking. A block may change one token per copy (a step counter). Repeats that are
not back to back, such as a poem's refrain between stanzas, are not loops.

Gopher's repetition rules (Rae et al. 2021, arXiv 2112.11446; datatrove `gopher_repetition_filter.py`:
share of duplicated lines 0.3, share of characters in duplicated word n-grams, 5-grams 0.15 ...
10-grams 0.10) are available for long answers (`gopher: true`, from `min_words` units as recipes.md
§3.4 advises). They are off by default: made for web pages, they drop poems and songs with refrains
and parallel stanzas (two of the near-misses in tests/filters/labelled.jsonl). Not implemented:
Gopher's top-n-gram rules for 2–4-grams, which misfire on short technical answers.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from pydantic import model_validator

from synth.filter import Decision, Filter, FilterOptions, option, reasoning_text
from synth.text import units

DUP_NGRAM_SHARE = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
_GRAM = 4  # loops are found as 4-grams that recur at one fixed distance
_MAX_GAP = _GRAM + 1  # one changed token per block (a counter: "Step 7: ...") still continues a loop


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


def longest_loop(tokens: list[str]) -> tuple[int, int]:
    """(period, about how many tokens) of the longest stretch where one block repeats back to back; (0, 0) if none.

    Each 4-gram is paired with its previous occurrence; inside a loop of period p the 4-grams recur
    p tokens earlier, so a loop is a stretch of grams at distance p (gaps of one changed token allowed).

        >>> longest_loop("so the answer is 5 . so the answer is 5 . so the answer is 5 .".split())
        (6, 18)
        >>> longest_loop("step 1 : add two . step 2 : add two . step 3 : add two . step 4 : add two .".split())
        (6, 22)
        >>> longest_loop("a b c d e f g h".split())
        (0, 0)
    """
    n = len(tokens)
    if n < _GRAM + 1:
        return 0, 0
    ids = np.fromiter((hash(t) for t in tokens), dtype=np.int64, count=n)
    grams = ids[:n - 3] * np.int64(1000003) ^ ids[1:n - 2] * np.int64(7919) ^ ids[2:n - 1] * np.int64(31) ^ ids[3:]
    order = np.argsort(grams, kind="stable")
    same = grams[order[1:]] == grams[order[:-1]]
    later, earlier = order[1:][same], order[:-1][same]
    if not len(later):
        return 0, 0
    distance = np.zeros(len(grams), dtype=np.int64)
    distance[later] = later - earlier
    positions = np.flatnonzero(distance)
    distances = distance[positions]
    best = (0, 0)
    periods, counts = np.unique(distances, return_counts=True)
    for p, count in zip(periods.tolist(), counts.tolist()):
        if count < p // 2:  # too few recurring grams to fill even one block
            continue
        at = positions[distances == p]
        breaks = np.flatnonzero(np.diff(at) > _MAX_GAP)
        for s, e in zip(np.concatenate(([0], breaks + 1)), np.concatenate((breaks, [len(at) - 1]))):
            covered = int(at[e] - at[s]) + 1
            if covered >= p:  # the recurring stretch spans a whole block: two copies or more
                span = min(n, covered + p + _GRAM - 1)
                if span > best[1]:
                    best = (p, span)
    return best


class RepetitionOptions(FilterOptions):
    min_repeats: int = option(3, "copies of a block back to back that make a loop", ge=2)
    min_loop_units: int = option(30, "fewest units (words; CJK characters) a loop must cover", ge=4)
    reasoning: bool = option(True, "also look for loops in the record's separate reasoning (thinking)")
    gopher: bool = option(False, "also apply Gopher's duplicated-line and n-gram rules to long answers (on by "
                          "itself when one of their thresholds is set)",
                          source="off: they drop poems with refrains (measured on tests/filters/labelled.jsonl)")
    min_words: int = option(100, "answers shorter than this (units) skip the Gopher rules", ge=0,
                            source="recipes.md §3.4 (repetition rules only on responses of ~100+ words)")
    dup_line_share: float = option(0.3, "most lines that may repeat an earlier line", ge=0, le=1,
                                   source="Gopher (Rae et al. 2021)")
    dup_ngram_share: dict[int, float] = option(DUP_NGRAM_SHARE, "n -> most characters that may sit in repeated "
                                               "n-grams", source="Gopher (Rae et al. 2021)")


    @model_validator(mode="after")
    def _gopher_when_tuned(self) -> RepetitionOptions:
        if "gopher" not in self.model_fields_set and {"min_words", "dup_line_share", "dup_ngram_share"} & \
                self.model_fields_set:
            self.gopher = True
        return self


class RepetitionFilter(Filter):
    """Reject loops (answer or thinking) and, for long answers, Gopher's duplicated lines and n-grams."""

    name = "repetition"
    description = "Drop looping answers and thinking (back-to-back repeats; Gopher's rules for long answers)."
    Options = RepetitionOptions
    reasons = ("repetition_loop", "repetition_reasoning_loop", "repetition_duplicate_lines", "repetition_<n>gram")
    score_names = ("repetition",)

    def _loop(self, tokens: list[str]) -> tuple[bool, float]:
        period, span = longest_loop(tokens)
        found = period > 0 and span >= self.options.min_loop_units and span >= self.options.min_repeats * period
        return found, round(span / len(tokens), 4) if tokens else 0.0

    def filter(self, record):
        o = self.options
        text = self.answer(record)
        words = units(text)
        loop, share = self._loop(words)
        if loop:
            return Decision(False, "repetition_loop", {"repetition": share})
        if o.reasoning:
            thinking = reasoning_text(record)
            if thinking:
                loop, thinking_share = self._loop(units(thinking))
                share = max(share, thinking_share)
                if loop:
                    return Decision(False, "repetition_reasoning_loop", {"repetition": share})
        scores = {"repetition": share}
        if not o.gopher or len(words) < o.min_words:
            return Decision(True, scores=scores)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines and 1 - len(set(lines)) / len(lines) > o.dup_line_share:
            return Decision(False, "repetition_duplicate_lines", scores)
        for n, limit in sorted(o.dup_ngram_share.items()):
            if duplicated_ngram_share(words, n) > limit:
                return Decision(False, f"repetition_{n}gram", scores)
        return Decision(True, scores=scores)
