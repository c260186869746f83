"""A chunk prepared once for the many lookups of the grounding checks (synth.grounding).

Its folded text and index map (synth.grounding.fold), its numbers (synth.grounding.numbers), its
token bigrams, its case-folded text and its segments (synth.grounding.claims) are computed on first
use and kept, so checking several
answers or quotes against one chunk folds and parses it once.
"""

from __future__ import annotations

import unicodedata

from synth.dedup.normalize import tokens
from synth.grounding.fold import _fold
from synth.grounding.numbers import Mention, find_numbers


class Context:
    """A chunk prepared once for many lookups: normalised text, index map, numbers, bigrams."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm, self.index, self.ends = _fold(text)
        self._numbers: list[Mention] | None = None
        self._bigrams: set[tuple[str, str]] | None = None
        self._folded: str | None = None
        self._claims = None
        self._derived: dict[str, object] = {}

    @property
    def numbers(self) -> list[Mention]:
        if self._numbers is None:
            self._numbers = find_numbers(self.text, reference=True)
        return self._numbers

    @property
    def bigrams(self) -> set[tuple[str, str]]:
        if self._bigrams is None:
            self._bigrams = set(_bigrams(self.text))
        return self._bigrams

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = unicodedata.normalize("NFKC", self.text).casefold()
        return self._folded

    @property
    def claims(self):
        """The chunk cut into segments for claim-by-claim checks (synth.grounding.claims.ChunkClaims)."""
        if self._claims is None:
            from synth.grounding.claims import ChunkClaims

            self._claims = ChunkClaims(self.text)
        return self._claims

    def derived(self, key: str, build):
        """``build(self)``, computed once: what a check derives from the chunk (its clauses, its tokens)."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]

    def span(self, nstart: int, nend: int) -> tuple[int, int]:
        """Original (start, end) of the normalised span [nstart, nend)."""
        return self.index[nstart], self.ends[nend - 1]


def _bigrams(text: str) -> list[tuple[str, str]]:
    toks = tokens(text)
    return list(zip(toks, toks[1:])) if len(toks) > 1 else [(t, "") for t in toks]


def as_context(context: str | Context) -> Context:
    """``context`` itself when it is prepared already, else a new Context of the text."""
    return context if isinstance(context, Context) else Context(context)
