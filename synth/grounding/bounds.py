"""Which way a figure points: a bound (不超过 5cm, at least 8) or a change ($101 billion lower, 增加 5 万元).

Two answers built from the chunk's own figures can still turn a bound around ("不少于 4 TB" for "不超过 4 TB")
or a change ("$101 billion higher" for "lower"): the value and unit match, so the number checks
(synth.grounding.numbers) pass them. Each number carries the direction of the words around it; a number of
the answer whose every mention in the chunk (same value and unit) points the other way is flipped.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from synth.grounding.numbers import Mention, _same, find_numbers

if TYPE_CHECKING:
    from synth.grounding.context import Context

# which way a bound points: 不超过 5cm, ≤5cm, 5cm 以下, at most 5 are "le"; 超过, >, 以上, at least are "ge"
_LE_BEFORE = re.compile(r"(?:≤|<|=<|不超过|不得超过|不大于|不高于|不多于|低于|小于|少于|至多|最多|最高|at most|no more than|not more than"
                        r"|less than|fewer than|under|below|up to|not exceeding|not exceed|maximum of|max\.?)\s*$", re.I)
_GE_BEFORE = re.compile(r"(?:≥|>|=>|超过|大于|高于|多于|至少|最少|最低|不少于|不低于|不小于|at least|no less than|not less than|more than"
                        r"|greater than|over|above|exceeding|exceeds|minimum of|min\.?)\s*$", re.I)
_NOT_BELOW = re.compile(r"(?:不|不得|not|no)\s*(?:少于|低于|小于|less than|fewer than|lower than)\s*$", re.I)
_LE_AFTER = re.compile(r"^\s*(?:[a-zµμ%]*\s*)(?:或?以下|以内|或更少|or less|or fewer|or below|and below|at most)", re.I)
_GE_AFTER = re.compile(r"^\s*(?:[a-zµμ%]*\s*)(?:或?以上|或更多|\+|or more|or higher|or above|and above|at least)", re.I)


def bound_direction(text: str, m: Mention, *, folded: bool = False) -> str | None:
    """"le", "ge" or None: the comparison ``text`` puts on the number ``m`` (found in the NFKC form of ``text``).

    >>> t = "直径≤5cm，或最大直径超过3cm，不超过4个，at least 8 characters，不低于 9 个"
    >>> [bound_direction(t, m) for m in find_numbers(t)]
    ['le', 'ge', 'le', 'ge', 'ge']
    """
    # 不少于, not less than: the "le" words negated
    return _direction(text, m, folded, (14, 12), (("ge", _NOT_BELOW, None), ("le", _LE_BEFORE, _LE_AFTER),
                                                  ("ge", _GE_BEFORE, _GE_AFTER)))


# which way a difference goes: "$101 billion lower than", "增加 5 万元", "rose by 7%"
_UP_AFTER = re.compile(r"^\s*(?:[a-zµμ%]+\s*){0,2}(?:higher|more|greater|larger|above|up|增加|增长|上升|提高|以上)\b", re.I)
_DOWN_AFTER = re.compile(r"^\s*(?:[a-zµμ%]+\s*){0,2}(?:lower|less|fewer|smaller|below|down|减少|下降|降低|以下)\b", re.I)
_UP_BEFORE = re.compile(r"(?:increased|increase|rose|rise|grew|up|gained|增加了?|增长了?|上升了?|提高了?|多)\s*(?:by|of)?\s*\$?\s*$", re.I)
_DOWN_BEFORE = re.compile(r"(?:decreased|decrease|fell|fall|dropped|declined|down|lost|减少了?|下降了?|降低了?|少)\s*(?:by|of)?\s*\$?\s*$", re.I)


def change_direction(text: str, m: Mention, *, folded: bool = False) -> str | None:
    """"up", "down" or None: the way a difference of ``m`` goes in ``text`` ($101 billion lower, 增加 5 万元).

    >>> t = "$101 billion lower than in January; receipts rose by $479 billion"
    >>> [change_direction(t, m) for m in find_numbers(t)]
    ['down', 'up']
    """
    return _direction(text, m, folded, (16, 24), (("up", _UP_BEFORE, _UP_AFTER), ("down", _DOWN_BEFORE, _DOWN_AFTER)))


def _direction(text: str, m: Mention, folded: bool, reach: tuple[int, int],
               rules: tuple[tuple[str, re.Pattern, re.Pattern | None], ...]) -> str | None:
    """The value of the first rule whose pattern ends the ``reach[0]`` characters before ``m`` or starts the
    ``reach[1]`` after it."""
    text = text if folded else unicodedata.normalize("NFKC", text)
    before, after = text[max(0, m.start - reach[0]):m.start], text[m.end:m.end + reach[1]]
    for value, ends_before, starts_after in rules:
        if ends_before.search(before) or (starts_after is not None and starts_after.match(after)):
            return value
    return None


def direction_flips(answer: str, context: str | Context) -> list[str]:
    """Numbers of ``answer`` bounded or moving one way (不少于 4 TB, $101 billion higher) that the context states
    only the other way (不超过 4 TB, $101 billion lower): every mention of the same value and unit in the
    context that is bounded or moving at all goes the other way.

    >>> direction_flips("建议容量不少于 4 TB。", "硬盘建议不超过 4 TB，内存至少 4 GB。")
    ['4']
    >>> direction_flips("The estimate was $101 billion higher.", "The estimate is $101 billion lower than announced.")
    ['101']
    >>> direction_flips("建议容量不超过 4 TB。", "硬盘建议不超过 4 TB。"), direction_flips("It is 4 TB.", "at most 4 TB")
    ([], [])
    """
    from synth.grounding.context import as_context

    ctx = as_context(context)
    text = unicodedata.normalize("NFKC", answer)
    # the chunk's numbers with their bound and change directions, computed once per chunk
    def directions(c: Context) -> list[tuple[Mention, dict]]:
        folded = unicodedata.normalize("NFKC", c.text)
        return [(n, {way: way(folded, n, folded=True) for way in (bound_direction, change_direction)}) for n in c.numbers]

    ways = ctx.derived("number_directions", directions)
    out = []
    for m in find_numbers(text):
        for way in (bound_direction, change_direction):
            mine = way(text, m)
            if mine is None:
                continue
            # mentions with the answer's unit when it has one: "2 TB" is not the bare 2 of a table's node count
            theirs = {w[way] for n, w in ways if _same(m, n) and (m.unit is None or n.unit == m.unit)}
            if theirs and None not in theirs and mine not in theirs:
                out.append(m.text)
                break
    return out
