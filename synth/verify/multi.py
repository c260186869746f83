r"""Answers made of several parts: lists, sets, ``name = value`` items, and the ordered-answers policy.

A list is read off an answer's top level: ``1, 2, 3``; ``\{1, 2, 3\}`` (a set); ``6 \text{ and } 8``;
``x = 1 \text{ or } x = 2``; ``a = 12; b = 5``; several boxes joined by "and" or commas (read into
``1, 2`` by ``extract.py``). A comma grouping thousands (``1,000``) or a lone decimal comma (``3,5``)
does not split. Brackets keep their content whole, so a tuple ``(3, 1)`` or an interval ``(1, 2]``
is one item.

Items named ``name = value`` (``a = 12``, ``x_{1} = 3``, ``f(x) = 2x``) are matched by name when both
sides name every item with distinct names; when only one side names its items, or every item has the
same name (``f(x) = x, f(x) = 2 - x``), the names are dropped and the values compared.

Whether order matters is the caller's ``order`` policy (``latex.py``): under ``tuples`` (default) and
``none`` a bare list or a set is compared as a multiset, under ``all`` a bare list is compared in order
(a set never is). The verdict says which (``order`` and ``detail``).

    >>> items("a = 12, b = 5"), items(r"\{3, 1\}"), items("1,000")
    (['a = 12', 'b = 5'], ['3', '1'], [])
    >>> split_name(r"x_{1} = \frac{1}{2}"), split_name("x^2 = 4")
    (('x_1', '\\frac{1}{2}'), (None, 'x^2 = 4'))
"""

from __future__ import annotations

import re
from collections.abc import Callable

from synth.verify.latex import split_top
from synth.verify.normalize import clean

_OPEN, _CLOSE = "([{", ")]}"
# A name: a letter or a command (\theta, \angle ABC is not), a subscript, primes, a function's argument list.
_NAME = re.compile(
    r"\s*((?:\\[a-zA-Z]+|[a-zA-Z])(?:_(?:\{[^{}]*\}|\\?[a-zA-Z0-9]+))?(?:'+|\^\{?\\prime\}?)?"
    r"(?:\s*\([^()=]*\))?)\s*=\s*(?!=)(.+)",
    re.DOTALL,
)
_NOT_NAMES = {"\\frac", "\\sqrt", "\\sin", "\\cos", "\\tan", "\\log", "\\ln", "\\lim", "\\sum", "\\int"}
_WORD_JOIN = re.compile(r"\s+(?:and|or|et|ou|und|oder|y|o)\s+|\s*[和或与及、]\s*")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_MATH_THOUSANDS = re.compile(r"(?<=\d)(?:,|\{,\})\s*\\[!,]\s*(?=\d{3}(?!\d))")  # MATH's 1,\!000


def _comma(text: str, i: int) -> int:
    if text[i] not in ",;；，":
        return 0
    if text[i] == ",":
        return 0 if _grouping_comma(text, i) else 1
    return 1


def _lone_comma(text: str, i: int) -> int:
    """As ``_comma``, but a lone decimal comma (``3,5``) separates: the reading beside another list."""
    if text[i] not in ",;；，":
        return 0
    if text[i] == ",":
        before = re.search(r"[\d,.]+$", text[:i])
        after = re.match(r"[\d,.]+", text[i + 1 :])
        if before and after and _THOUSANDS.fullmatch(before.group(0) + "," + after.group(0)):
            return 0
    return 1


def _grouping_comma(text: str, i: int) -> bool:
    """Is the comma at ``i`` inside a number (thousands ``1,000`` or a lone decimal comma ``3,5``)?"""
    before = re.search(r"[\d,.]+$", text[:i])
    after = re.match(r"[\d,.]+", text[i + 1 :])
    if not (before and after and before.group(0)[-1].isdigit() and after.group(0)[0].isdigit()):
        return False  # a separator unless digits touch it on both sides
    whole = before.group(0) + "," + after.group(0)
    return bool(_THOUSANDS.fullmatch(whole.rstrip(","))) or whole.count(",") == 1


def _words(text: str, i: int) -> int:
    m = _WORD_JOIN.match(text, i)
    return m.end() - i if m else 0


def _enclosed(text: str, left: str, right: str) -> bool:
    if not (text.startswith(left) and text.endswith(right)) or len(text) < len(left) + len(right):
        return False
    inner = text[len(left) : len(text) - len(right)]
    depth = 0
    for ch in re.sub(r"\\[{}]", "", inner) if left == "\\{" else inner:
        depth += (ch in _OPEN) - (ch in _CLOSE)
        if depth < 0:
            return False
    return depth == 0


def items(text: str, lone_comma: bool = False) -> list[str]:
    """The items of a list or set answer, or ``[]`` when the answer is one thing.

    ``lone_comma``: read ``3,5`` as the list 3 and 5 (as beside another list) rather than 3.5.
    """
    s = clean(_MATH_THOUSANDS.sub("", text))
    for left, right in (("\\{", "\\}"), ("{", "}")):
        if _enclosed(s, left, right):
            s = s[len(left) : len(s) - len(right)].strip()
            break
    parts = split_top(s, _lone_comma if lone_comma else _comma)
    if len(parts) == 1 and re.search(r"[\d=\\^]", s):  # "6 and 8", "x = 1 or x = 2"; never "Romeo and Juliet"
        parts = split_top(s, _words)
    parts = [p for p in parts if p]
    return parts if len(parts) >= 2 else []


def is_set(text: str) -> bool:
    s = clean(text)
    return _enclosed(s, "\\{", "\\}") or (_enclosed(s, "{", "}") and "," in s)


def split_name(item: str) -> tuple[str | None, str]:
    """``(name, value)`` for ``name = value``; ``(None, item)`` for anything else (``x^2 = 4``, ``x + y = 5``)."""
    m = _NAME.fullmatch(item)
    if not m or "=" in m.group(2) or m.group(1).split("_")[0].split("(")[0] in _NOT_NAMES:
        return None, item
    return re.sub(r"\s+", "", m.group(1)).replace("{", "").replace("}", ""), m.group(2).strip()


def _name_key(name: str) -> str:
    return name.replace("\\", "")


def align(gold: list[str], pred: list[str]) -> tuple[list[str], list[str], bool]:
    """Drop or use the names of ``name = value`` items; True when items were paired by name (order fixed)."""
    g, p = [split_name(i) for i in gold], [split_name(i) for i in pred]
    g_named, p_named = all(n for n, _ in g), all(n for n, _ in p)
    if g_named and p_named:
        g_names, p_names = [_name_key(n) for n, _ in g], [_name_key(n) for n, _ in p]
        if len(set(g_names)) == len(g_names) and sorted(g_names) == sorted(p_names):
            by_name = {_name_key(n): v for n, v in p}
            return [v for _, v in g], [by_name[n] for n in g_names], True
        if len(set(g_names)) == 1 and set(g_names) == set(p_names):  # f(x) = x, f(x) = 2 - x
            return [v for _, v in g], [v for _, v in p], False
        return gold, pred, False
    if g_named and not any(n for n, _ in p):
        return [v for _, v in g], pred, False
    if p_named and not any(n for n, _ in g):
        return gold, [v for _, v in p], False
    return gold, pred, False


def match(gold: list[str], pred: list[str], ordered: bool,
          same: Callable[[int, str, str], bool | None]) -> bool | None:
    """Compare item lists with ``same(i, gold[i], p)`` (True / False / None: undecided); None when anything
    is undecided (``i`` lets a caller hold gold answer i to its own tolerance).

    Unordered: every gold item needs its own equal prediction item (a multiset match).
    """
    if len(gold) != len(pred):
        return False
    if ordered:
        results = [same(i, g, p) for i, (g, p) in enumerate(zip(gold, pred))]
        if False in results:
            return False
        return True if all(results) else None
    table = [[same(i, g, p) for p in pred] for i, g in enumerate(gold)]
    if any(all(cell is False for cell in row) for row in table):
        return False
    if any(all(table[i][j] is False for i in range(len(gold))) for j in range(len(pred))):
        return False
    definite = [[cell is True for cell in row] for row in table]
    if _perfect(definite):
        return True
    maybe = [[cell is not False for cell in row] for row in table]
    return None if _perfect(maybe) else False


def _perfect(edges: list[list[bool]]) -> bool:
    """Does the bipartite graph have a perfect matching (Kuhn's algorithm; lists are short)?"""
    n = len(edges)
    owner = [-1] * n

    def augment(i: int, seen: list[bool]) -> bool:
        for j in range(n):
            if edges[i][j] and not seen[j]:
                seen[j] = True
                if owner[j] == -1 or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return all(augment(i, [False] * n) for i in range(n))


def as_math(values: list[str], ordered: bool) -> str:
    """One string math-verify reads as the list: a tuple when ordered, else a set."""
    inner = ", ".join(values)
    return f"({inner})" if ordered else "\\{" + inner + "\\}"
