"""The unit a bare figure of the chunk takes from its row or its column: ``timeout.milliseconds | 3000``,
``| 超时（秒） |`` over a column of figures, ``单位：字节``.

Tables and property lists write the unit once, in the key or the header, and the figure bare. Without it
"3000 秒" matches the bare 3000 of a millisecond timeout as well as "3000 毫秒" does. The unit is taken only
where the row names one unit (or the column's header cell does): a row that names two (a size in bytes and a
timeout in ms) gives none, and the figure stays bare.

>>> text = "| key | type | default |\\n|---|---|---|\\n| http.connect.timeout.milliseconds | String | 3000 |"
>>> implied_unit(text, text.index("3000"))
'ms'
>>> text = "| 参数 | 超时（秒） | 重试次数 |\\n|---|---|---|\\n| a | 30 | 3 |"
>>> implied_unit(text, text.index("30 ")), implied_unit(text, text.index("3 |"))
('s', None)
"""

from __future__ import annotations

import re

# the unit words a key, a bracket or a 单位 phrase names, as synth.grounding.numbers spells the unit
_NAMED = {
    "milliseconds": "ms", "millisecond": "ms", "millis": "ms", "ms": "ms", "毫秒": "ms",
    "seconds": "s", "second": "s", "secs": "s", "sec": "s", "s": "s", "秒": "s",
    "minutes": "min", "minute": "min", "mins": "min", "min": "min", "分钟": "min",
    "hours": "h", "hour": "h", "h": "h", "小时": "h", "days": "d", "day": "d", "天": "d",
    "bytes": "byte", "byte": "byte", "字节": "byte", "kb": "kb", "mb": "mb", "gb": "gb", "tb": "tb",
    "元": "yuan", "美元": "usd", "usd": "usd", "dollars": "usd",  # not 万元: a scale the figure would need
}
_WORDS = "|".join(sorted(_NAMED, key=len, reverse=True))
_KEY_SUFFIX = re.compile(r"(?<=[a-z0-9])[._-](milliseconds|millis|ms|seconds|secs|minutes|mins|hours|days|bytes)\b"
                         r"|(?<=[a-z])(Millis|Ms|Milliseconds|Seconds|Secs|Minutes|Hours|Days|Bytes)\b")
_BRACKET = re.compile(r"[（(]\s*(?:单位\s*[：:为]?\s*)?(" + _WORDS + r")\s*[）)]", re.I)
_PHRASE = re.compile(r"单位\s*[：:为是]\s*(" + _WORDS + r")|\bin (milliseconds|seconds|minutes|hours|days|bytes)\b", re.I)


def _units_named(text: str) -> set[str]:
    found = set()
    for pattern in (_KEY_SUFFIX, _BRACKET, _PHRASE):
        for m in pattern.finditer(text):
            word = next(g for g in m.groups() if g)
            found.add(_NAMED[word.casefold()])
    return found


def _line(text: str, at: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return start, end if end >= 0 else len(text)


def implied_unit(text: str, at: int) -> str | None:
    """The one unit the row of the figure at ``at`` names, else the one its column's header cell names."""
    start, end = _line(text, at)
    row = text[start:end]
    named = _units_named(row)
    if named:
        return named.pop() if len(named) == 1 else None
    if "|" not in row:
        return None
    column = row[:at - start].count("|")
    top = start  # the table's header: the first line of the block of |-rows
    while top > 0:
        prev_start, _ = _line(text, top - 1)
        if "|" not in text[prev_start:top - 1]:
            break
        top = prev_start
    header = text[top:_line(text, top)[1]].split("|")
    if top == start or column >= len(header):
        return None
    named = _units_named(header[column])
    return named.pop() if len(named) == 1 else None
