"""Keep answers within a length band; drop empty ones.

Self-Instruct / Alpaca keep instructions of more than 3 and at most 150 words; OpenMathInstruct
keeps solutions of at least 200 characters and at most 1024 tokens; Evol-Instruct drops responses
that are only punctuation and stop words. Length is counted in units (synth.text): words for spaced
scripts and characters for CJK, where one character carries about one word of meaning, so one
threshold serves English and Chinese. Not implemented: the stop-word half of Evol-Instruct's rule.
"""

from __future__ import annotations

import re

from synth.filter import QUESTION_FIELDS, Filter, FilterOptions, Verdict, answer_text, option
from synth.text import count_units

_CONTENT = re.compile(r"[^\W_]")  # a letter or digit of any script


def length_units(text: str) -> int:
    """Words of spaced text plus CJK characters: 'hello world' -> 2, '你好世界' -> 4."""
    return count_units(text)


class LengthOptions(FilterOptions):
    min_units: int = option(3, "fewest words (CJK: characters) an answer may have", ge=0,
                            source="Self-Instruct / Alpaca (more than 3 words)")
    max_units: int | None = option(4096, "most words (CJK: characters) an answer may have; null for no limit",
                                   ge=1, source="synth (about OpenMathInstruct's 1024 tokens x 4)")
    field: str | None = option(None, "record field to measure instead of the answer (e.g. instruction)")


class LengthFilter(Filter):
    """Reject empty answers, and answers shorter than `min_units` or longer than `max_units`."""

    name = "length"
    description = "Drop empty, too short or too long answers (CJK characters count as words)."
    Options = LengthOptions
    reasons = ("length_empty", "length_too_short", "length_too_long")
    score_names = ("length",)

    def filter(self, record):
        o = self.options
        if o.field in QUESTION_FIELDS and o.field not in record:
            text = self.question(record)  # a chat row: its question stands in for the instruction column
        else:
            text = answer_text(record, o.field) if o.field else self.answer(record)
        n = count_units(text)
        scores = {"length": n}
        if not _CONTENT.search(text):
            return Verdict(False, "length_empty", scores)
        if n < o.min_units:
            return Verdict(False, "length_too_short", scores)
        if o.max_units is not None and n > o.max_units:
            return Verdict(False, "length_too_long", scores)
        return Verdict(True, scores=scores)
