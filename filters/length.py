"""Keep answers within a length band.

Self-Instruct / Alpaca keep instructions of 3–150 words; OpenMathInstruct drops solutions shorter
than 200 characters. Length is counted in words for spaced scripts and in characters for CJK, where
one character carries roughly one word of meaning, so one threshold serves English and Chinese.
"""

from __future__ import annotations

import re

from synth.filter import Filter, assistant_text

_UNITS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")


def length_units(text: str) -> int:
    """Words of spaced text plus CJK characters: 'hello world' -> 2, '你好世界' -> 4."""
    return len(_UNITS.findall(text))


class LengthFilter(Filter):
    """Reject answers shorter than `min_units` or longer than `max_units`.

    Args:
        min_units: fewest words (CJK: characters) an answer may have.
        max_units: most words (CJK: characters) an answer may have; None for no limit.
        field: record field to measure instead of the assistant answer (e.g. "instruction").
    """

    name = "length"
    description = "Drop answers outside a word range (CJK characters count as words)."

    def __init__(self, min_units: int = 3, max_units: int | None = 4096, field: str | None = None) -> None:
        self.min_units = min_units
        self.max_units = max_units
        self.field = field

    def filter(self, record):
        text = str(record.get(self.field) or "") if self.field else assistant_text(record)
        n = length_units(text)
        if n < self.min_units:
            return False, "length_too_short"
        if self.max_units is not None and n > self.max_units:
            return False, "length_too_long"
        return True
