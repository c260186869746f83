"""Is an answer grounded in its source chunk? Cheap, deterministic checks (no model calls).

Used by the `doc-qa` recipe, which asks the model for ``{answer, evidence: [verbatim quotes]}`` and
then checks, cheapest first:

1. leakage: the answer talks about its source: a source-referring construction (according to, as shown in,
   根据, 从…可以看出, 如…所示) with any document noun (text, press release, announcement, table, section;
   上文, 表格, 该公告), a document noun as the subject of a saying verb ("The documentation states that",
   官方文档指出), or a document part named with above/below ("Table 3-1 above"): a reader of the SFT
   pair has no source to refer to;
2. evidence quotes occur in the chunk: both sides normalised (NFKC width folding, case, every kind
   of whitespace incl. PDF line breaks and hyphenation, “”‘’「」『』 quotes, dashes, ……/...) with an
   index map back to the original text, then an exact substring search, else
   ``rapidfuzz.fuzz.partial_ratio_alignment`` above a threshold; a fuzzy match must still carry
   the quote's numbers. Each match keeps its character offsets in the chunk;
3. numbers: every number in the answer (Arabic, %, 万/亿, Chinese numerals such as 百分之八 or
   三百二十) has the same value and unit (4 g is not 4 小时, 3072 字节 not 3072 个字符, 16 核 not 16 GB)
   somewhere in the chunk, a bare table figure taking the unit its row key or column header names
   (timeout.ms | 3000 is not 3000 秒: synth.grounding.row_units) (finance, medicine and law answers go wrong here first). A numeral word that
   counts what the answer lists (三种类型 after three names, 两个端口 before two ports) is the answer's own
   count; one counting anything else (twice, 两个) goes to the judge, unless the chunk counts the same thing
   with another number; 一个 is an article; a year opens no range (FY 2023 to 6.4 percent);
4. terms: Latin names and codes in the answer (GMP, ISO 9001, Pfizer) occur in the chunk;
5. support: the share of the answer's token bigrams found in the chunk (character bigrams for Chinese,
   word bigrams for English), or else, for a paraphrase, the share of each sentence's content words
   (Chinese characters, English stems) found in it (synth.grounding.terms.term_coverage);
6. claims (synth.grounding.claims): each clause of the answer is bound to one segment of the chunk that
   holds all its distinctive terms and numbers (a table row, or the rows of one entity, under their
   headers: all figures and half the words); with the same modality (不得/可以, SHALL NOT/MAY; a duty where
   the chunk states none is a new rule) and negation, and has most of its words in the chunk;
7. clauses (synth.grounding.clauses): each claim against the one ；-clause it restates: a number whose
   best-matching clause states another number of the same kind, or the same number bounded the other way
   (>3cm where that clause says ≤3cm), a rule given to the case that clause negates (有代理人 for 没有代理人的);
8. table rows (synth.grounding.tables): a figure or text cell the answer gives to a row it names stands in
   that row; a clause stating a table figure has its words in a row holding it;
9. agents (synth.grounding.agents): the subject of "<subject> must/should/may <verb>" is the chunk's
   subject of that verb (the client must revoke ← the authorization server SHOULD revoke);
10. bounds (synth.grounding.bounds): a figure bounded or moving one way (不少于 4 TB, $101 billion higher)
    that the chunk states only the other way;
11. word swaps (synth.grounding.substitution): the answer restates a chunk clause with one short word
    replaced by one the clause lacks (按月 for 按周), by its opposite, or by a figure of the same clause (two
    figures swapped in place), uses a word the chunk never has whose opposite stands in the clause it
    restates (关闭 for 开放, smaller for bigger, lower for greater, true for false: opposites on one scale in
    any inflection, synth.grounding.scales), or writes a word only under the opposite polarity marker (有息 where the chunk
    has only 无息);
12. absolutes: always/never/一律/无论 where the chunk uses none of them (a condition dropped);
13. pairings (synth.grounding.pairings): an answer sentence whose anchors (figures, Latin words and codes,
    Chinese character bigrams) shared once with a quote keep the quote's order in blocks, except two blocks
    exchanged around a fixed middle and a fixed edge (caches watchers … tracking key-value data for the
    reverse; 130ms and 350-400ms given to each other's route; MUST and SHOULD sides exchanged): each now
    stands beside another partner than in the quote. Reordered clauses keep their partners and pass.
    For tables (synth.grounding.tables.crossed_cells): a clause that names a row by any cell unique to it
    (m4.large, unsigned tinyint, not only the first cell) states a figure of another row of any table of
    the chunk, or a figure beside a header word (8 vCPUs, 2 GB) that the row holds under another column, or
    joins a cell of one row to a cell of another row under another column (time → String where time sits in
    the Date row). An identifier moved (synth.grounding.pairings.moved_subjects): a clause naming one
    identifier of the chunk (SYNC_FLUSH, volatile-lru) whose other words the chunk states together only in a
    sentence about another identifier (ASYNC_FLUSH), never with this one, or that takes the one word a parallel
    item about another identifier has in place of its own (least frequently used from volatile-lfu's item).
14. quoted figures (synth.grounding.numbers.unquoted_figures): every figure of the answer that the chunk has
    stands in one of the quotes the answer cites; one found only elsewhere in the chunk (the next rule's fine)
    leaves the answer to the judge. Checked last.

A check that fails on hard evidence (a leak, a quote not in the chunk, a number the chunk does not
have) rejects; weak signals (low support, an unknown term, a computed number in a
calculation answer or a count the answer made, a claim bound to another subject, row, clause, agent or
bound, or of another modality, a swapped word or pairing, an absolute) leave the verdict
*uncertain*, for an LLM judge to settle. Nothing here is ever auto-accepted on weak evidence: "pass"
means every check found the answer restating its chunk.

>>> v = check_answer("资本充足率不得低于8%。", ["资本充足率不得低于 8％"],
...                  "商业银行资本充足率不得低于8%，核心资本充足率不得低于4%。")
>>> v.status, v.reason, [(e.start, e.end, e.method) for e in v.evidence]
('pass', None, [(4, 15, 'exact')])
>>> check_answer("资本充足率不得低于10%。", ["资本充足率不得低于8%"],
...              "商业银行资本充足率不得低于8%。").reason
'ungrounded_number'

The pieces live in their own modules, re-exported here: folding with an index map
(synth.grounding.fold), the prepared chunk (synth.grounding.context), quote location
(synth.grounding.quotes), numbers and counts (synth.grounding.numbers), bounds (synth.grounding.bounds),
leaks, terms, support and absolutes (synth.grounding.terms), claim-by-claim binding, modality and negation
(synth.grounding.claims), clause binding (synth.grounding.clauses), table rows (synth.grounding.tables),
agents (synth.grounding.agents), word swaps and polarity (synth.grounding.substitution), pairings
(synth.grounding.pairings). This module's one
job is the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synth.grounding.agents import agent_swaps
from synth.grounding.claims import claim_problems
from synth.grounding.clauses import chunk_clauses, clause_problems
from synth.grounding.context import Context, as_context
from synth.grounding.fold import normalize, normalize_map
from synth.grounding.bounds import direction_flips
from synth.grounding.pairings import moved_subjects, pairing_swaps
from synth.grounding.numbers import (Mention, contradicted_counts, count_words, counted_totals, find_numbers, listed_counts,
                                     missing_numbers, unquoted_figures)
from synth.grounding.quotes import QuoteMatch, locate
from synth.grounding.tables import crossed_cells, misplaced_figures
from synth.grounding.substitution import antonym_swaps, polarity_flips, substitutions
from synth.grounding.terms import LEAK, absolutes, leak, lexical_support, term_coverage, unknown_terms

__all__ = ["LEAK", "Context", "Mention", "QuoteMatch", "Thresholds", "GroundingResult", "as_context", "check_answer",
           "find_numbers", "leak", "lexical_support", "locate", "missing_numbers", "normalize",
           "normalize_map", "unknown_terms", "verify_quotes"]


@dataclass
class GroundingResult:
    """``status``: "pass" (grounded on hard evidence), "fail" (``reason`` says why) or "uncertain"
    (``reason`` is what would reject it; a judge decides)."""

    status: str
    reason: str | None
    evidence: list[QuoteMatch]
    checks: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    quote_score: float = 90.0     # rapidfuzz partial_ratio a fuzzy quote needs (0-100)
    min_quote_chars: int = 4      # normalised characters a quote needs to prove anything
    support: float = 0.5          # lexical support at or above which the answer counts as grounded
    coverage: float = 0.75       # share of each sentence's content words in the chunk that also counts as support
    claim_support: float = 0.34   # share of a claim's terms the chunk must use, below which it is a new claim
                                  # (never above `support`: support=0 turns both lexical checks off)
    binding_slack: float = 0.0    # share of a claim's distinctive words (never figures) its chunk segment may
                                  # lack: above 0 fewer answers go to the judge and more unsupported ones pass


def verify_quotes(quotes: list[str], context: str | Context, t: Thresholds = Thresholds()) -> list[QuoteMatch]:
    ctx = as_context(context)
    return [locate(q, ctx, threshold=t.quote_score, min_chars=t.min_quote_chars) for q in quotes]


def check_answer(answer: str, quotes: list[str], context: str | Context, *, calculation: bool = False,
                 thresholds: Thresholds = Thresholds()) -> GroundingResult:
    """Cheap checks of one answer against its context, hard evidence first.

    ``calculation``: the question asks for a computed value, so a number absent from the context
    is not proof of an error (the verdict is left uncertain instead).

    >>> ctx = "Adults: 500 mg every 8 hours. Maximum 4 g per day."
    >>> check_answer("Take 500 mg every 8 hours.", ["500 mg every 8 hours"], ctx).status
    'pass'
    >>> check_answer("Take 500 mg every 6 hours.", ["500 mg every 8 hours"], ctx).reason
    'ungrounded_number'
    >>> check_answer("Take 500 mg every 8 hours.", ["500 mg every eight hours as needed"], ctx).reason
    'ungrounded_quote'
    """
    ctx = as_context(context)
    quotes = [q for q in quotes if isinstance(q, str) and q.strip()]
    matches = verify_quotes(quotes, ctx, thresholds)
    checks: dict[str, Any] = {
        "leak": leak(answer),
        "quotes": len(matches),
        "quotes_verified": sum(m.found for m in matches),
        "missing_numbers": missing_numbers(answer, ctx),
        "unknown_terms": unknown_terms(answer, ctx),
        "lexical_support": round(lexical_support(answer, ctx), 4),
        "term_coverage": round(term_coverage(answer, ctx), 4),
        "unquoted_figures": unquoted_figures(answer, ctx, [(m.start, m.end) for m in matches if m.found]),
    }
    claims = claim_problems(answer, ctx.claims, support=min(thresholds.claim_support, thresholds.support),
                            slack=thresholds.binding_slack)
    clauses = clause_problems(answer, ctx.derived("clauses", lambda c: chunk_clauses(c.claims)))
    checks.update({"unbound_claims": claims["unbound"] + clauses["unbound"] + misplaced_figures(answer, ctx)
                   + agent_swaps(answer, ctx), "modality_mismatch": claims["modality"],
                   "negation_mismatch": claims["negation"] + clauses["negation"],
                   "unsupported_claims": claims["unsupported"],
                   "substitutions": substitutions(answer, ctx) + antonym_swaps(answer, ctx),
                   "polarity_flips": polarity_flips(answer, ctx),
                   "direction_flips": direction_flips(answer, ctx), "absolutes": absolutes(answer, ctx),
                   "pairing_swaps": pairing_swaps(answer, [q for q, m in zip(quotes, matches) if m.found])
                   + crossed_cells(answer, ctx) + moved_subjects(answer, ctx)})

    def verdict(status: str, reason: str | None) -> GroundingResult:
        return GroundingResult(status, reason, matches, checks)

    if checks["leak"]:
        return verdict("fail", "answer_leaks_source")
    if not answer.strip():
        return verdict("fail", "empty_answer")
    if not matches:
        return verdict("fail", "ungrounded_no_evidence")
    if checks["quotes_verified"] < len(matches):
        return verdict("fail", "ungrounded_quote")
    if checks["missing_numbers"]:
        # a numeral word counting what the answer lists (三种类型 after three names) is the answer's own count;
        # one that counts something else (twice, 两个) is no figure of the document either: the judge decides
        counts = set(count_words(answer)) - set(contradicted_counts(answer, ctx))
        figures = [n for n in checks["missing_numbers"] if n not in counts]
        unlisted = [n for n in checks["missing_numbers"] if n in counts and n not in listed_counts(answer)]
        # a count the answer made of what it names (all three AALs) is computed, not refuted: the judge decides
        computed = calculation or set(figures) <= set(counted_totals(answer, ctx))
        if figures and not computed:
            return verdict("fail", "ungrounded_number")
        if figures or unlisted:
            return verdict("uncertain", "ungrounded_number")
    if checks["unknown_terms"]:
        return verdict("uncertain", "ungrounded_term")
    # a paraphrase keeps few of the chunk's bigrams but its words; its figures, parties, bounds, modality and
    # polarity are held by the binding checks below, not by word overlap
    if checks["lexical_support"] < thresholds.support and checks["term_coverage"] < thresholds.coverage:
        return verdict("uncertain", "ungrounded_low_support")
    if checks["unbound_claims"]:
        return verdict("uncertain", "ungrounded_binding")
    if checks["direction_flips"]:
        return verdict("uncertain", "ungrounded_direction")
    if checks["pairing_swaps"]:
        return verdict("uncertain", "ungrounded_pairing")
    if checks["modality_mismatch"]:
        return verdict("uncertain", "ungrounded_modality")
    if checks["negation_mismatch"]:
        return verdict("uncertain", "ungrounded_negation")
    if checks["substitutions"]:
        return verdict("uncertain", "ungrounded_substitution")
    if checks["polarity_flips"]:
        return verdict("uncertain", "ungrounded_polarity")
    if checks["unsupported_claims"] or checks["absolutes"]:
        return verdict("uncertain", "ungrounded_claim")
    # the cited evidence carries the answer's figures: one found only elsewhere in the chunk may be the next rule's
    if checks["unquoted_figures"]:
        return verdict("uncertain", "ungrounded_unquoted")
    return verdict("pass", None)
