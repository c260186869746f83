"""Quote location: find a model's evidence quote in its chunk, exactly after folding, else fuzzily.

Both sides are folded (synth.grounding.fold); an exact substring (or an elided quote whose parts occur
in order) maps back to chunk offsets through the index map; otherwise
``rapidfuzz.fuzz.partial_ratio_alignment`` at or above a threshold, whose span must still carry the
quote's numbers. Quotes under a few folded characters prove nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synth.grounding.context import Context, as_context
from synth.grounding.fold import normalize_map
from synth.grounding.numbers import _has_value, find_numbers


@dataclass
class QuoteMatch:
    """Where an evidence quote was found in the context: offsets into the *original* context text."""

    quote: str
    start: int | None = None
    end: int | None = None
    score: float = 0.0
    method: str | None = None  # "exact" | "fuzzy" | None (not found)
    problem: str | None = None  # why it was not found

    @property
    def found(self) -> bool:
        return self.method is not None

    def as_dict(self, offset: int | None = None) -> dict[str, Any]:
        """Fixed-shape record view; ``offset`` (the chunk's start in its document) adds document offsets."""
        doc = offset is not None and self.found
        return {"quote": self.quote, "start": self.start, "end": self.end,
                "doc_start": self.start + offset if doc else None, "doc_end": self.end + offset if doc else None,
                "score": round(self.score, 2), "method": self.method}


def locate(quote: str, context: str | Context, *, threshold: float = 90.0, min_chars: int = 4) -> QuoteMatch:
    """Find ``quote`` in ``context``: normalised exact match, else fuzzy (``partial_ratio``) at or
    above ``threshold`` whose span holds the quote's numbers. Quotes shorter than ``min_chars``
    normalised characters prove nothing and are not accepted.

    >>> ctx = "第十二条  药品生产企业应当\\n按照GMP要求组织生产。"
    >>> m = locate("应当按照ＧＭＰ要求组织生产", ctx)
    >>> (m.method, ctx[m.start:m.end])
    ('exact', '应当\\n按照GMP要求组织生产')
    >>> m = locate("药品生产企业应当按照GMP的要求组织生产", ctx)   # a word added: fuzzy
    >>> (m.method, round(m.score), ctx[m.start:m.end])
    ('fuzzy', 95, '药品生产企业应当\\n按照GMP要求组织生产')
    >>> locate("企业应当自行决定生产标准", ctx).found
    False
    >>> m = locate("“药品生产企业……组织生产。”", ctx)   # quote marks, final stop and an elision
    >>> (m.method, ctx[m.start:m.end])
    ('exact', '药品生产企业应当\\n按照GMP要求组织生产')
    """
    ctx = as_context(context)
    nq = normalize_map(quote)[0].strip(_EDGES)
    if len(nq) < min_chars:
        return QuoteMatch(quote, problem="too_short")
    at = ctx.norm.find(nq)
    if at >= 0:
        start, end = ctx.span(at, at + len(nq))
        return QuoteMatch(quote, start, end, 100.0, "exact")
    elided = _elided(nq, ctx.norm, min_chars)
    if elided is not None:
        return QuoteMatch(quote, *ctx.span(*elided), 100.0, "exact")
    if len(nq) > len(ctx.norm):
        return QuoteMatch(quote, problem="longer_than_context")
    from rapidfuzz import fuzz

    hit = fuzz.partial_ratio_alignment(nq, ctx.norm, score_cutoff=threshold)
    if hit is None:
        best = fuzz.partial_ratio(nq, ctx.norm)
        return QuoteMatch(quote, score=best, problem="not_in_context")
    start, end = ctx.span(*_tighten(nq, ctx.norm, hit.dest_start, hit.dest_end))
    span_numbers = find_numbers(ctx.text[start:end], reference=True)
    if any(not _has_value(m._replace(range_to=None), span_numbers) for m in find_numbers(quote)):
        return QuoteMatch(quote, score=hit.score, problem="number_differs")
    return QuoteMatch(quote, start, end, hit.score, "fuzzy")


# quote marks, brackets and sentence punctuation a model wraps around a quote it copied
_EDGES = "\"'。.,，;；:：!?！？、()（）[]【】<>《》…- "


def _elided(quote: str, text: str, min_chars: int) -> tuple[int, int] | None:
    """A quote with "…" where words were left out: every part (of at least ``min_chars``) found in
    order; the normalised span from the first part to the last, or None."""
    parts = [p.strip(_EDGES) for p in quote.split("…")]
    if len(parts) < 2 or any(len(p) < min_chars for p in parts if p) or sum(1 for p in parts if p) < 2:
        return None
    pos, start = 0, None
    for part in (p for p in parts if p):
        at = text.find(part, pos)
        if at < 0:
            return None
        start = at if start is None else start
        pos = at + len(part)
    return start, pos


def _tighten(quote: str, text: str, start: int, end: int) -> tuple[int, int]:
    """partial_ratio's window is as long as the quote; a quote with a word added or dropped matches
    a shorter or longer span. Align the quote with a slightly wider window and keep the stretch
    from the first to the last run of two or more matching characters."""
    from rapidfuzz.distance import Levenshtein

    pad = 2 + len(quote) // 10
    ws, we = max(0, start - pad), min(len(text), end + pad)
    runs = [op for op in Levenshtein.opcodes(quote, text[ws:we]) if op.tag == "equal"]
    long_runs = [op for op in runs if op.dest_end - op.dest_start >= 2] or runs
    if not long_runs:
        return start, end
    return ws + long_runs[0].dest_start, ws + long_runs[-1].dest_end
