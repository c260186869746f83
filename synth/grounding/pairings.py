"""Pairings: the answer keeps the quote's words and figures but pairs them differently.

An answer can be built entirely from its quote's own words and still say something else: two subjects exchanged
inside one sentence ("caches watchers … tracking key-value data" for "cache key-value data … tracking
watchers"), two figures exchanged between the cases they belong to, the two sides of a rule exchanged (MUST
use English words, SHOULD be ASCII-only, for the reverse). Overlap, terms and numbers all pass it. The check is
word-independent: the anchors of an answer sentence (figures, Latin words and codes, Chinese character
bigrams) that occur once in it and once in a quote are read in the answer's order as positions in the quote.
Runs that keep the quote's order are blocks; when the answer's blocks are the quote's blocks with exactly two
of them exchanged, and those two are not neighbours (something stays between them) and something stays
outside them, each of the two now stands beside another partner than in the quote: the pairing changed.
Reordered clauses (a block moved to the front, "Y requires X" for "X is required for Y", topic fronting) keep
each anchor with its partner and are no exchange of two blocks around a fixed middle and a fixed edge.

>>> q = "An etcd server will aggressively cache key-value data and spends most of the rest of its memory tracking watchers."
>>> pairing_swaps("An etcd server aggressively caches watchers and spends most of the rest of its memory tracking key-value data.", [q])
['An etcd server aggressively caches watchers and spends most of the rest of its memory tracking key-value data.']
>>> pairing_swaps("Most of the rest of an etcd server's memory tracks watchers; it aggressively caches key-value data.", [q])
[]
"""

from __future__ import annotations

import re
import unicodedata

from synth.grounding.claims import _STOP
from synth.grounding.context import Context, as_context

# the words that pair nothing: function words, but not the modals and negations a rule pairs with its side
_KEEP = frozenset("must shall should may not no never only".split())
_FUNCTION = (_STOP - _KEEP) | frozenset("will most rest about around some".split())
_TOKEN = re.compile(r"[a-z0-9$][a-z0-9_$%./\-]*[a-z0-9%/]|[a-z0-9]|[\u4e00-\u9fff]+")
_SENTENCES = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s+|\n")
_SEGMENTS = re.compile(r"(?<=[。！？!?])|(?<=\.)\s+|\n")


def _anchors(text: str) -> list[tuple[str, int, int]]:
    """(anchor, start, end) in reading order: Latin words cut to five letters, codes and figures as written,
    Chinese as character bigrams."""
    text = unicodedata.normalize("NFKC", text).casefold()
    out: list[tuple[str, int, int]] = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if "\u4e00" <= tok[0] <= "\u9fff":
            out.extend((tok[i:i + 2], m.start() + i, m.start() + i + 2) for i in range(len(tok) - 1))
        elif tok not in _FUNCTION:
            out.append((tok[:5] if tok.isalpha() else tok, m.start(), m.end()))
    return out


def _exchanged(answer: str, quote: str, least: int = 5, apart: int = 4) -> bool:
    """The answer's anchor blocks are the quote's with two non-neighbouring blocks exchanged, with at least
    ``apart`` characters of the answer between them (执业年限较长 for 较长年限执业 rewords one phrase)."""
    a, q = _anchors(answer), [t for t, _, _ in _anchors(quote)]
    words = [t for t, _, _ in a]
    shared = {t for t in set(words) & set(q) if words.count(t) == 1 and q.count(t) == 1}
    if len(shared) < least:
        return False
    rank = {t: i for i, t in enumerate(t for t in q if t in shared)}
    seq = [(rank[t], s, e) for t, s, e in a if t in shared]
    blocks = [[seq[0]]]
    for item in seq[1:]:
        if item[0] == blocks[-1][-1][0] + 1:
            blocks[-1].append(item)
        else:
            blocks.append([item])
    if len(blocks) < 4:
        return False
    order = {b[0][0]: i for i, b in enumerate(sorted(blocks, key=lambda b: b[0][0]))}
    perm = [order[b[0][0]] for b in blocks]
    moved = [i for i, p in enumerate(perm) if p != i]
    if len(moved) != 2 or moved[1] - moved[0] < 2 or (moved[0] == 0 and moved[1] == len(perm) - 1):
        return False
    return blocks[moved[1]][0][1] - blocks[moved[0]][-1][2] >= apart


def pairing_swaps(answer: str, quotes: list[str]) -> list[str]:
    """The sentences of ``answer`` that restate a quote with two of its anchors' pairings exchanged."""
    out = []
    for sentence in (s.strip() for s in _SENTENCES.split(answer)):
        if sentence and any(_exchanged(sentence, q) for q in quotes):
            out.append(sentence)
    return out


_CODE = re.compile(r"(?<![A-Za-z0-9_./$-])[A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9](?![A-Za-z0-9_])")
# a hyphenated option name (volatile-lru, allkeys-lfu, no-cache, sha-256): a part of two or three letters that is
# no English particle or common stem (in-memory, key-value, end-to-end, up-to-date, add-on are words), or a digit
_NAMED_OPTION = re.compile(r"(?<![\w.-])[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w-])")
_WORD_PARTS = frozenset("in on to up of by at as is it or an no re co un non pre sub out off key end add per via "
                        "all any day one two low top use set get run way own bit buy pay tax for and the "
                        "pop hot big far few ad hoc".split())


def _option_names(text: str) -> set[str]:
    return {m for m in _NAMED_OPTION.findall(text)
            if any(p.isdigit() or (2 <= len(p) <= 3 and p.isalpha() and p not in _WORD_PARTS and p != "no")
                   for p in m.split("-")) or m.startswith("no-")}
_PIECES = re.compile(r"[，,；;。！？!?：:]|\.\s|\n")


def _codes(text: str) -> set[str]:
    """Identifiers as the document writes them (SYNC_FLUSH, brokerRole, TiKV): an underscore, an inner capital
    or two capitals."""
    return {c for c in _CODE.findall(text)
            if "_" in c or re.search(r"[a-z][A-Z]", c) or sum(ch.isupper() for ch in c) >= 2} | _option_names(text)


def _chunk_sentences(chunk: str) -> tuple[set[str], list[tuple[str, set[str], set[str]]]]:
    """The chunk's identifiers, and each sentence with its identifiers and anchors."""
    return _codes(chunk), [(s, _codes(s), {t for t, _, _ in _anchors(s)}) for s in _SEGMENTS.split(chunk) if s.strip()]


def moved_subjects(answer: str, context: str | Context, cover: float = 0.6, least: int = 4) -> list[str]:
    """Clauses of ``answer`` naming one identifier of the chunk whose other words the chunk states together only
    in a sentence about another identifier, never with this one (SYNC_FLUSH given what ASYNC_FLUSH does).

    >>> ctx = "In FAST_MODE the writer batches records to reach higher throughput. In SAFE_MODE the writer syncs every record."
    >>> moved_subjects("In SAFE_MODE the writer batches records to reach higher throughput.", ctx)
    ['In SAFE_MODE the writer batches records to reach higher throughput']
    >>> moved_subjects("FAST_MODE reaches higher throughput by batching records.", ctx)
    []
    """
    known, sentences = as_context(context).derived("identifier_sentences", lambda c: _chunk_sentences(c.text))
    if len(known) < 2:
        return []
    out = []
    for clause in (c.strip(" .。") for c in _PIECES.split(answer)):
        named = _codes(clause) & known
        if not named:
            continue
        words_of = {code: {t for t, _, _ in _anchors(clause.replace(code, " "))} for code in named}
        share = {i: len(words_of[min(named)] & seen) / max(1, len(words_of[min(named)]))
                 for i, (_, _, seen) in enumerate(sentences)}
        best = max(share, key=share.get)
        # the subject: the one identifier the clause names that its best sentence does not (TTL stays a word)
        subject = named - sentences[best][1] if len(named) > 1 else named
        if len(subject) != 1:
            continue
        (code,) = subject
        words = words_of[code]
        if len(words) < least:
            continue
        share = {i: len(words & seen) / len(words) for i, (_, _, seen) in enumerate(sentences)}
        best = max(share, key=share.get)
        if share[best] < cover or code in sentences[best][1] or not sentences[best][1] & known:
            continue
        own = [i for i, (_, codes, _) in enumerate(sentences) if code in codes]
        if all(share[i] <= share[best] - 0.3 for i in own) or _sibling_word(words, sentences, best, own):
            out.append(clause)
    return out


def _sibling_word(words: set[str], sentences: list, best: int, own: list[int], parallel: float = 0.6) -> bool:
    """The clause has a word that only its best sentence, a parallel item about another identifier, has and the
    identifier's own item in that place has not (volatile-lru given the "frequently" of volatile-lfu's item,
    beside its own "recently")."""
    theirs = sentences[best][2] - {t for t, _, _ in _anchors(" ".join(sentences[best][1]))}
    for i in own:
        mine = sentences[i][2] - {t for t, _, _ in _anchors(" ".join(sentences[i][1]))}
        if not mine or not theirs or len(mine & theirs) < parallel * min(len(mine), len(theirs)):
            continue
        if (words & theirs) - mine - set().union(*(sentences[j][2] for j in own)) and mine - theirs:
            return True
    return False
