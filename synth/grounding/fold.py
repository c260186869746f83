"""Unicode folding with an index map: the one job of matching a copied quote against its chunk.

What copying a quote changes without changing its words (full/half width, case, whitespace and PDF
line breaks, hyphenation at a line break, curly and corner quotes, dashes, runs of dots) is folded
away, and every folded character keeps the offset of the original character it came from, so a
match in folded text maps back to a span of the chunk (synth.grounding.quotes).
"""

from __future__ import annotations

import unicodedata

_QUOTES = {c: '"' for c in "“”„‟「」『』〝〞﹁﹂﹃﹄«»\"＂"} | {c: "'" for c in "‘’‚‛′`´"}
_DASHES = {c: "-" for c in "‐‑‒–—―−﹘﹣－⁃"}
_FOLD = _QUOTES | _DASHES | {"\u00ad": "", "\u200b": "", "\ufeff": ""}


def normalize_map(text: str) -> tuple[str, list[int]]:
    """(normalised text, for each of its characters the index of the original character it came from).

    Folds what copying a quote changes without changing its words: NFKC (full/half width), case,
    every kind of whitespace (dropped, so PDF line breaks vanish), a hyphen at a line break (so
    ``capi-\\ntal`` matches ``capital``), curly and corner quotes, dashes, and runs of dots or
    ellipses (``……``, ``...``, ``…``) to one ``…``.

    >>> normalize_map("Ａ “b”\\n—c……")
    ('a"b"-c…', [0, 2, 3, 4, 6, 7, 8])
    """
    norm, starts, _ = _fold(text)
    return norm, starts


def _fold(text: str) -> tuple[str, list[int], list[int]]:
    """``normalize_map`` plus, for each normalised character, the end (exclusive) of the original
    text it stands for (a folded ``......`` ends after its last dot)."""
    out: list[str] = []
    index: list[int] = []
    ends: list[int] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        j = i + 1
        while j < n and unicodedata.combining(text[j]):  # keep a letter with its accents
            j += 1
        piece = text[i:j]
        if ch.isspace():
            i = j
            continue
        if ch in "-\u2010\u00ad" and _line_break_follows(text, j):
            i = j  # a word hyphenated across a line break
            continue
        folded = _FOLD.get(ch)
        if folded is None:
            folded = unicodedata.normalize("NFKC", piece).casefold()
            folded = "".join(_FOLD.get(c, c) for c in folded if not c.isspace())
        for c in folded:
            if c == "." and out and out[-1] in ".…" and ends[-1] >= i:
                out[-1] = "…"  # a run of dots and ellipses is one ellipsis
                ends[-1] = j
                continue
            out.append(c)
            index.append(i)
            ends.append(j)
        i = j
    return "".join(out), index, ends


def _line_break_follows(text: str, j: int) -> bool:
    k = j
    while k < len(text) and text[k] in " \t\r":
        k += 1
    return k < len(text) and text[k] == "\n"


def normalize(text: str) -> str:
    """The normalised text alone (see ``normalize_map``).

    >>> normalize("Net  profit\\u3000ＲＯＳＥ – 12％") == normalize("net profit rose-12%")
    True
    """
    return normalize_map(text)[0]
