"""The unit a bare figure of the chunk takes from its row or its column: ``timeout.milliseconds | 3000``,
``| 超时（秒） |`` over a column of figures, ``单位：字节``.

Tables and property lists write the unit once, in the key or the header, and the figure bare. Without it
"3000 秒" matches the bare 3000 of a millisecond timeout as well as "3000 毫秒" does. The unit is taken only
on a table row or a ``key = value`` / ``key: value`` line (a prose paragraph names units for other figures),
and only where the row names one unit (or the column's header cell does): a row that names two (a size in
bytes and a timeout in ms) gives none, and the figure stays bare. One-letter and ambiguous units in brackets
(s, h, min: a plural, an hour, a minimum) name nothing.

>>> text = "| key | type | default |\\n|---|---|---|\\n| http.connect.timeout.milliseconds | String | 3000 |"
>>> UnitIndex(text).implied(text.index("3000"))
'ms'
>>> text = "| 参数 | 超时（秒） | 重试次数 |\\n|---|---|---|\\n| a | 30 | 3 |"
>>> index = UnitIndex(text)
>>> index.implied(text.index("30 ")), index.implied(text.index("3 |"))
('s', None)
"""

from __future__ import annotations

import bisect
import re

# the unit words a key, a bracket or a 单位 phrase names, as synth.grounding.numbers spells the unit
_NAMED = {
    "milliseconds": "ms", "millisecond": "ms", "millis": "ms", "ms": "ms", "毫秒": "ms",
    "seconds": "s", "second": "s", "secs": "s", "sec": "s", "秒": "s",
    "minutes": "min", "minute": "min", "mins": "min", "分钟": "min",
    "hours": "h", "hour": "h", "小时": "h", "days": "d", "day": "d", "天": "d",
    "bytes": "byte", "byte": "byte", "字节": "byte", "kb": "kb", "mb": "mb", "gb": "gb", "tb": "tb",
    "元": "yuan", "美元": "usd", "usd": "usd", "dollars": "usd",  # not 万元: a scale the figure would need
}
_WORDS = "|".join(sorted(_NAMED, key=len, reverse=True))
_KEY_SUFFIX = re.compile(r"(?<=[a-z0-9])[._-](milliseconds|millis|ms|seconds|secs|minutes|mins|hours|days|bytes)\b"
                         r"|(?<=[a-z])(Millis|Ms|Milliseconds|Seconds|Secs|Minutes|Hours|Days|Bytes)\b")
_BRACKET = re.compile(r"[（(]\s*(?:单位\s*[：:为]?\s*)?(" + _WORDS + r")\s*[）)]", re.I)
_PHRASE = re.compile(r"单位\s*[：:为是]\s*(" + _WORDS + r")|\bin (milliseconds|seconds|minutes|hours|days|bytes)\b", re.I)
_KEY_VALUE = re.compile(r"^\s*[-*]?\s*`?[\w.\-]+`?\s*[:=：]")


def _units_named(text: str) -> set[str]:
    found = set()
    for pattern in (_KEY_SUFFIX, _BRACKET, _PHRASE):
        for m in pattern.finditer(text):
            word = next(g for g in m.groups() if g)
            found.add(_NAMED[word.casefold()])
    return found


def _cells(line: str) -> list[str]:
    """A table row's cells, with or without the outer pipes (both are valid Markdown)."""
    return line.strip().strip("|").split("|")


class UnitIndex:
    """The lines of a text with, for each table row, its table's header line: prepared once per text, so that
    the figures of a long table cost one pass, not one walk up to the header each."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines = text.split("\n")
        self.header: list[int | None] = []
        top = None
        for i, line in enumerate(self.lines):
            top = (top if top is not None else i) if "|" in line else None
            self.header.append(top)

    def implied(self, at: int) -> str | None:
        """The one unit the row of the figure at ``at`` names, else the one its column's header cell names."""
        i = bisect.bisect_right(self.starts, at) - 1
        row = self.lines[i]
        table = "|" in row
        if not table and not _KEY_VALUE.match(row):
            return None  # prose: a unit named in the sentence belongs to another figure as often as to this one
        named = _units_named(row)
        if named:
            return named.pop() if len(named) == 1 else None
        top = self.header[i]
        if not table or top is None or top == i:
            return None
        offset = at - self.starts[i]
        lead = len(row) - len(row.lstrip())
        column = row[:offset].count("|") - (1 if row[lead:lead + 1] == "|" else 0)
        header = _cells(self.lines[top])
        if column >= len(header):
            return None
        named = _units_named(header[column])
        return named.pop() if len(named) == 1 else None
