"""Each claim against the one chunk clause it restates: the clause's number and its conditions.

A sentence of a law often holds several rules split by ；: "一年以上不满三年的，试用期不得超过二个月；三年以上…，
试用期不得超过六个月". Checked against the whole sentence, an answer that gives the first rule the second
rule's number, or a rule for "在境内没有代理人的" to the case "有代理人", is built from words the sentence
has. Checked against the *clause* (between ；。！？) it restates, it is not:

- **number**: a number of the claim's own clause is bound when a chunk clause holding it matches the claim
  about as well as the best-matching clause does (the number's own terms left out of the comparison). It
  is unbound when the best-matching clause instead states a different number of the same kind (unit,
  percent) that the claim does not state, and every clause holding the answer's number matches clearly
  worse: the number was taken from the neighbouring clause, however far the condition that differs stands
  from it;
- **condition**: the claim is compared with the clause its own part restates; a term that clause only
  negates (没有代理人, without an agent) stated plainly in the claim, or the reverse, is a rule given to the
  other case.

Table cells are left to the segment binding of synth.grounding.claims. Findings leave the answer uncertain.

>>> ctx = ChunkClaims("期限一年以上不满三年的，试用期不得超过二个月；三年以上固定期限的，试用期不得超过六个月。")
>>> clause_problems("期限一年以上不满三年的，试用期不得超过六个月。", ctx)["unbound"]
['期限一年以上不满三年的，试用期不得超过六个月']
>>> clause_problems("期限三年以上固定期限的，试用期不得超过六个月。", ctx)
{'unbound': [], 'negation': []}
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from synth.grounding.claims import ChunkClaims, _claim_parts, _negation_differs, _terms
from synth.grounding.bounds import bound_direction
from synth.grounding.numbers import Mention, _same, find_numbers

_CLAUSE_END = re.compile(r"(?<=[；;])")
_NUMERAL = re.compile(r"[\d一二两三四五六七八九十百千万亿零〇]|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                      r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|twice|thrice|one|zero)\b", re.I)


@dataclass
class Clause:
    text: str
    terms: frozenset[str]
    numbers: list[Mention]


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def chunk_clauses(ctx: ChunkClaims) -> list[Clause]:
    """The running-text segments of the chunk cut again at ；, with their terms and numbers."""
    out = []
    for seg in ctx.segments:
        if seg.table:
            continue
        pieces = [p for p in _CLAUSE_END.split(seg.text) if p.strip()]
        for piece in pieces:
            numbers = [m for m in find_numbers(piece, reference=True) if not m.label] if _NUMERAL.search(piece) else []
            terms = seg.terms if len(pieces) == 1 else frozenset(_terms(piece))  # a segment of one clause has its terms
            out.append(Clause(piece, terms, numbers))
    return out


def _same_kind(a: Mention, b: Mention) -> bool:
    return a.unit == b.unit and a.percent == b.percent


def _number_unbound(claim: str, own: str, clauses: list[Clause], margin: int, ratio: float) -> bool:
    text = _nfkc(claim)
    own_start = text.rfind(_nfkc(own))
    mentions = [m for m in find_numbers(text) if not m.label]
    for m in mentions:
        if m.start < own_start:
            continue
        terms = set(_terms(text[:m.start] + " " + text[m.end:]))  # the number itself says nothing of its clause
        shared = [len(terms & c.terms) for c in clauses]
        holding = [s for s, c in zip(shared, clauses) if any(_same(m, n) for n in c.numbers)]
        if not holding or not shared:
            continue  # not in running text: the number checks and the segment binding decide
        top = max(shared)
        if _direction_flipped(text, m, shared, clauses, top):
            return True
        if max(holding) > top - margin or max(holding) >= ratio * top:
            continue
        for s, c in zip(shared, clauses):
            other = [n for n in c.numbers if _same_kind(n, m) and n.value != m.value
                     and not any(_same(k, n) for k in mentions)]
            if s == top and other:
                return True
    return False


def _direction_flipped(text: str, m: Mention, shared: list[int], clauses: list[Clause], top: int) -> bool:
    """The clause the claim restates best holds the claim's number bounded the other way (≤3cm where the claim
    says >3cm), and no clause holding it bounded the claim's way matches as well: two bounds swapped between
    conditions."""
    mine = bound_direction(text, m)
    if mine is None:
        return False
    ways = [(s, {bound_direction(c.text, n) for n in c.numbers if _same(m, n)}) for s, c in zip(shared, clauses)]
    other = [s for s, w in ways if w and mine not in w and None not in w]
    same = [s for s, w in ways if mine in w or None in w]
    return bool(other) and max(other) == top and (not same or max(same) < top)


def _condition_flipped(claim: str, own: str, clauses: list[Clause], near: float = 0.8) -> bool:
    """Every clause that the claim's own part restates about as well as the best one (``near`` of its
    shared terms) negates what the claim states, or the reverse."""
    own_terms = set(_terms(own))
    scored = [len(own_terms & c.terms) for c in clauses]
    best = max(scored, default=0)
    if best < 2:
        return False
    return all(_negation_differs(claim, c.text) for s, c in zip(scored, clauses) if s >= near * best)


def clause_problems(answer: str, chunk: str | ChunkClaims | list[Clause], *, margin: int = 3,
                    ratio: float = 0.9) -> dict[str, list[str]]:
    """Claims of ``answer`` whose number belongs to another chunk clause than the one they restate
    (``unbound``: the best clause shares ``margin`` terms more, and the number's clauses under ``ratio`` of
    its share), or whose condition that clause negates (``negation``). ``chunk`` may be its clauses already
    cut (``chunk_clauses``)."""
    if isinstance(chunk, list):
        clauses = chunk  # prepared once per chunk (chunk_clauses)
    else:
        clauses = chunk_clauses(chunk if isinstance(chunk, ChunkClaims) else ChunkClaims(chunk))
    problems: dict[str, list[str]] = {"unbound": [], "negation": []}
    if not clauses:
        return problems
    for claim, own in _claim_parts(answer):
        if _number_unbound(claim, own, clauses, margin, ratio):
            problems["unbound"].append(claim)
        elif _condition_flipped(claim, own, clauses):
            problems["negation"].append(claim)
    return problems
