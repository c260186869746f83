"""Does each claim of an answer say what the chunk says about the same subject? Binding, modality, negation.

A real quote and numbers that all occur in the chunk do not make an answer right: two figures of the
chunk swapped between their subjects, a number from the neighbouring clause, a table value given to
another row, "不得" turned into "可以" are all built from the chunk's own words. This module compares the
answer with the chunk claim by claim, without a model:

- the chunk is cut into *segments*: sentences ending in 。！？ or a full stop, lines broken by a PDF
  joined again; a list item
  keeps its lead-in (the line before the list, ending in ：/:), a table cell keeps its row's first text
  cell, its column header and the table's title;
- the answer is cut into clauses (also at ，,：); a claim is a clause with the clause before it in the same
  sentence, where Chinese and English put the subject ("小型微利企业，减按20%…", "At AAL2, …");
- *terms* are Chinese character bigrams and English content words (digits included). A claim's
  *distinctive* terms are those found in at most two lines of the chunk (words every line has, such as
  部分 in a rate table, bind nothing);
- **binding**: some one segment must hold all of a claim's distinctive terms. "符合条件的小型微利企业，减按
  15%的税率" fails: 15 sits with 高新技术企业;
- **modality**: the claim's modal class (prohibition 不得/SHALL NOT, obligation 应当/SHALL, permission
  可以/MAY, no obligation 无需/not required, recommendation SHOULD) must be one its best-matching
  segment has;
- **numbers**: each number of a claim (digits, or Chinese numerals: 二个月) stands, somewhere in the
  chunk, among most of the terms that stand around it in the claim: "三个月以上不满一年的，试用期不得超过
  二个月" is not bound by "一年以上不满三年的，试用期不得超过二个月", nor a range inside a parenthesis by the
  rule beside it;
- **negation**: a term the claim's segment negates (不包括, 非营利, not required) must not appear
  un-negated in the claim, and the reverse;
- **support**: each claim (not just the whole answer) has at least half of its terms in the chunk.

Anything found sends the answer to the judge ("uncertain"), never rejects it: paraphrases that merge two
clauses of the chunk land here too.

>>> ctx = "符合条件的小型微利企业，减按20%的税率征收企业所得税。国家需要重点扶持的高新技术企业，减按15%的税率征收企业所得税。"
>>> claim_problems("符合条件的小型微利企业，减按15%的税率征收企业所得税。", ctx)["unbound"]
['符合条件的小型微利企业，减按15%的税率征收企业所得税']
>>> claim_problems("国家需要重点扶持的高新技术企业，减按15%的税率征收企业所得税。", ctx)
{'unbound': [], 'modality': [], 'negation': [], 'unsupported': []}
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from synth.dedup.normalize import tokens
from synth.text import CJK

_CJK_CHAR = re.compile(f"[{CJK}]")
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_STOP = frozenset(
    "the a an and or of to in on at by for from with as is are was were be been being it its this that these those "
    "than then there their which who whom whose what when where while into onto over under such any all each "
    "per not no also only both either other more most less least very can may must shall should will would "
    "could might has have had does did do if but so".split())

# clause and segment boundaries
_SENTENCE = re.compile(r"(?<=[。！？!?；;])|(?<=\.)(?=\s)|\n")
_SEGMENT = re.compile(r"(?<=[。！？!?])|(?<=\.)(?=\s)|\n")
_NUMERAL = re.compile(r"[\d一二两三四五六七八九十百千万亿]")
_CLAUSE = re.compile(r"[，,：:、]")
_TABLE_SEP = re.compile(r"\t|\s\|\s|\|")
_OWN_SUBJECT = re.compile(r"\s*(?:and|but|while|whereas)\s+(?:a|an|the|its|their|this|these|each|every|no)\s+[a-z]", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]+[）)]|\d+[.、)]|[-*•]\s)")

# words of modality, comparison and generic action: checked by the modality and bound rules, they bind no subject
_UNBINDING = frozenset(
    "至少 最少 最多 至多 超过 不超 以上 以下 低于 高于 不得 应当 必须 可以 建议 需要 默认 使用 用于 通过 进行 以及 或者 如果 "
    "相同 其他 各自 每个 一个 这个 该项 要求 最低 最高 最大 最小 大于 小于 "
    "recommended required optional must should shall may maximum minimum least most used using".split())
# modal classes: checked in this order, a negated modal first
_MODALS = (
    ("prohibit", re.compile(r"不得|禁止|严禁|不准|不允许|不能|不可以|不应当?|无权"
                            r"|\b(?:shall|must|may|should) not\b|(?<![a-z] )(?<![a-z])do not (?!need|have)|\bcannot\b|\bcan not\b|\bprohibited\b|\bnot (?:permitted|allowed)\b"
                            # "No other requirements SHOULD be imposed" negates the modal through its subject
                            r"|\bno\b[^.;:]{0,60}?\b(?:shall|should|must|may)\b",
                            re.I)),
    ("not_required", re.compile(r"无需|无须|不需要?|不必|\bnot required\b|\bneed not\b|\bno need\b|\boptional\b|\bnot necessary\b",
                                re.I)),
    ("oblige", re.compile(r"应当|必须|须|\bshall\b|\bmust\b|\brequired?\b|\brequires\b|\bneeds? to\b|\bhas to\b|\bhave to\b",
                          re.I)),
    ("permit", re.compile(r"可以|允许|有权|准予|\bmay\b|\bcan\b|\ballowed\b|\bpermitted\b|\bpermit\b", re.I)),
    ("recommend", re.compile(r"\bshould\b|\brecommended\b", re.I)),
)
_BARE_NEGATION = re.compile(r"[不非无未没勿禁]|\b(?:not|no|never|without)\b", re.I)
# a negation and the term it negates: 不/非/无/未/没 + two characters, not/no/non- + a word
_NEG_ZH = re.compile(f"(?:不|非|无|未|没有)(?:对|向|与|在|被|予|得|应|可|能|会|是|为)?([{CJK}]{{2}})")
_NEG_EN = re.compile(r"\b(?:not|no|non-?|never|without)\s*(?:(?:a|an|the|any)\s+)?([a-z][a-z-]{2,})", re.I)


def _terms(text: str) -> list[str]:
    """Chinese character bigrams and English content words (digits included), in order; HTML tags of Markdown
    (<sup>, <span class=…>) are markup, not words."""
    toks = tokens(_TAG.sub(" ", text) if "<" in text else text)
    out = []
    for i, t in enumerate(toks):
        if _CJK_CHAR.fullmatch(t):
            if i + 1 < len(toks) and _CJK_CHAR.fullmatch(toks[i + 1]):
                out.append(t + toks[i + 1])
        elif any(c.isdigit() for c in t) or (len(t) >= 3 and t not in _STOP):  # 0.5g, 12h are content
            out.append(t)
    return out


_CONTRACTION = re.compile(r"\b(?:(ca)|(wo)|(sha)|([a-z]+))n['’]t\b", re.I)


def expand_contractions(text: str) -> str:
    """don't -> do not, can't -> cannot, won't -> will not: a negation the modal and negation rules can read.

    >>> expand_contractions("Don't reduce it; you can't, and it won't, shouldn’t.")
    'Do not reduce it; you cannot, and it will not, should not.'
    """
    def full(m: re.Match) -> str:
        can, won, shan, other = m.groups()
        return f"{can}nnot" if can else "will not" if won else "shall not" if shan else f"{other} not"
    return _CONTRACTION.sub(full, text) if "n'" in text or "n’" in text else text


def _modal_classes(text: str) -> set[str]:
    text = expand_contractions(text)
    found, rest = set(), text
    for name, rx in _MODALS:
        if rx.search(rest):
            found.add(name)
            rest = rx.sub(" ", rest)  # 不得 is a prohibition, not also an obligation (得)
    return found


def _negated(text: str) -> set[str]:
    norm = expand_contractions(unicodedata.normalize("NFKC", text).casefold())
    return {m.group(1) for m in _NEG_ZH.finditer(norm)} | {m.group(1) for m in _NEG_EN.finditer(norm)}


@dataclass
class Segment:
    text: str
    terms: frozenset[str]
    table: bool = False  # a table's header or cell, not running text


class ChunkClaims:
    """A chunk cut into segments, with the number of lines each term occurs in, prepared once per chunk."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.segments = [Segment(s, frozenset(_terms(s)), table) for s, table in _segments(text)]
        counts: dict[str, int] = {}  # in how many lines of the chunk a term occurs
        for line in text.split("\n"):
            for term in set(_terms(line)):
                counts[term] = counts.get(term, 0) + 1
        self.counts = counts
        self.negated = _negated(text)
        # where each number stands in running text (a table's numbers are bound by its cells instead)
        self.sequence: list[str] = []
        self.positions: dict[str, list[int]] = {}
        for line in text.split("\n"):
            in_table = _table_line(line)
            for term in _terms(line):
                if _NUMERAL.search(term) and not in_table:
                    self.positions.setdefault(term, []).append(len(self.sequence))
                self.sequence.append(term)
        self.table_numbers = {t for line in text.split("\n") if _table_line(line)
                              for t in _terms(line) if _NUMERAL.search(t)}

    @cached_property
    def plain(self) -> str:
        return unicodedata.normalize("NFKC", self.text).casefold()

    def distinctive(self, terms: list[str]) -> set[str]:
        return {t for t in terms if 0 < self.counts.get(t, 0) <= 2}


def _segments(text: str) -> list[tuple[str, bool]]:
    """Clauses of the chunk; list items with their lead-in; table cells with their row label, column
    header and the table's title (each with True: it comes from a table)."""
    out: list[tuple[str, bool]] = []
    lines = _join_broken_lines(text.split("\n"))
    lead = ""
    table: list[list[str]] | None = None
    title = ""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            table = None
            continue
        cells = [c.strip().strip("*") for c in _TABLE_SEP.split(stripped.strip("|"))]
        if _table_line(stripped) and not re.fullmatch(r"[-:\s|]+", stripped):
            if table is None:  # a header row
                table = [cells]
                # the table's title: the line above it, or the heading above a blank line
                above = [ln.strip() for ln in lines[max(0, i - 2):i] if ln.strip()]
                title = above[-1] if above else ""
                entity_rows: dict[str, list[str]] = {}
                out.append((title + " " + " ".join(cells), True))
                continue
            header = table[0]
            label_at = next((k for k, c in enumerate(cells) if re.search(rf"[A-Za-z{CJK}]", c)), 0)
            for k, cell in enumerate(cells):
                parts = [title, header[label_at] if label_at < len(header) else "", cells[label_at]]
                if k != label_at:
                    parts += [header[k] if k < len(header) else "", cell]
                out.append((" ".join(parts), True))
            # the whole row under its headers: an answer restates a row ("TiDB 默认用 4000 端口供应用访问")
            row = " ".join(f"{header[k] if k < len(header) else ''} {c}" for k, c in enumerate(cells))
            out.append((title + " " + row, True))
            # the rows of one entity together (TiDB's two ports): an answer says what the entity has; which row
            # each figure comes from is checked clause by clause by synth.grounding.tables
            entity_rows.setdefault(cells[label_at], []).append(row)
            if len(entity_rows[cells[label_at]]) > 1:
                out.append((title + " " + " ".join(entity_rows[cells[label_at]]), True))
            continue
        if re.fullmatch(r"[-:\s|]+", stripped):
            continue
        table = None
        item = _LIST_ITEM.match(stripped) is not None
        # an item that repeats words of its lead-in names its own subject ("During the July quarter, …" under
        # "for the April and July quarters:"): the lead-in's other words are not its subject
        own = item and len(set(_terms(stripped)) & set(_terms(lead))) >= 2
        for piece in _SEGMENT.split(stripped):
            if piece.strip():
                out.append(((lead + " " + piece) if item and lead and not own else piece, False))
        if stripped.endswith(("：", ":")):
            lead = stripped
        elif not item:
            lead = ""
    return out


def _table_line(line: str) -> bool:
    """Three cells split by tabs or pipes, or two in a Markdown row (| key | value |)."""
    stripped = line.strip()
    cells = len(_TABLE_SEP.split(stripped.strip("|")))
    return cells >= 3 or (cells == 2 and stripped.startswith("|") and stripped.endswith("|"))


def _join_broken_lines(lines: list[str]) -> list[str]:
    """A line that does not end a sentence, followed by one that is no list item, table row or heading,
    is one line broken in two (PDF text): join them."""
    out: list[str] = []
    for line in lines:
        prev = out[-1].rstrip() if out else ""
        if (prev and line.strip() and not re.search(r"[。！？.!?:：;；|]$", prev) and not _LIST_ITEM.match(line)
                and not _table_line(line) and not _table_line(prev)
                and len(prev) > 40):
            joiner = "" if _CJK_CHAR.match(prev[-1:] or " ") or _CJK_CHAR.match(line.lstrip()[:1] or " ") else " "
            out[-1] = prev + joiner + line.strip()
        else:
            out.append(line)
    return out


def _claims(answer: str) -> list[str]:
    """Each clause of the answer with the clause before it in the same sentence."""
    return [claim for claim, _ in _claim_parts(answer)]


def _claim_parts(answer: str) -> list[tuple[str, str]]:
    """(claim, its own clause): the clause with the one before it, and the clause alone."""
    out = []
    for sentence in _SENTENCE.split(answer):
        clauses = [c for c in _CLAUSE.split(sentence) if c.strip()]
        for k, clause in enumerate(clauses):
            # "…, and a maximum lifetime of 10 minutes is recommended" names its own subject
            joined = k and not _OWN_SUBJECT.match(clause)
            claim = ("，".join(clauses[k - 1:k + 1]) if joined else clause).strip(" .。")
            if claim:
                out.append((claim, clause.strip(" .。")))
    return out


def _negation_differs(claim: str, segment: str) -> bool:
    """The segment negates a term the claim states plainly (不包括 / 包括), or the claim negates a term
    the segment states plainly and never negates."""
    claim_n, seg_n = _negated(claim), _negated(segment)
    claim_plain = unicodedata.normalize("NFKC", claim).casefold()
    seg_plain = unicodedata.normalize("NFKC", segment).casefold()
    for term in seg_n - claim_n:
        if term in claim_plain and seg_plain.count(term) == len(re.findall(
                f"(?:不|非|无|未|没有|not |no |non-?|never |without )(?:对|向|与|在|被|予|得|应|可|能|会|是|为|an? |the |any )?"
                f"{re.escape(term)}",
                seg_plain)):
            return True
    return any(term in seg_plain for term in claim_n - seg_n)


def _number_windows_bound(claim_terms: list[str], own: int, ctx: "ChunkClaims", near: int = 4, wide: int = 10) -> bool:
    """Each number of the claim's own clause (a digit term, or a Chinese bigram with a numeral; the clause
    is the last ``own`` terms) has, at some place of the chunk where the same number stands, most of the
    chunk terms that stand within ``near`` terms of it in the claim: "a delay of 2 minutes before the next
    attempt" is not bound by "(…, 2 minutes before the second following attempt)"."""
    for i in range(len(claim_terms) - own, len(claim_terms)):
        term = claim_terms[i]
        if not _NUMERAL.search(term) or term not in ctx.positions or term in ctx.table_numbers:
            continue
        around = {t for t in claim_terms[max(0, i - near):i + near + 1] if t != term and t in ctx.counts}
        if len(around) < 2:
            continue
        best = 0.0
        for at in ctx.positions[term]:
            window = set(ctx.sequence[max(0, at - wide):at + wide + 1])
            best = max(best, len(around & window) / len(around))
        if best < 0.6:
            return False
    return True


def claim_problems(answer: str, chunk: str | ChunkClaims, *, support: float = 0.5,
                   words_share: float = 0.5, slack: float = 0.0) -> dict[str, list[str]]:
    """The claims of ``answer`` that the chunk does not bind (``unbound``), whose modality or negation
    differs from the chunk's (``modality``, ``negation``), or that are mostly words the chunk lacks
    (``unsupported``, share of terms in the chunk below ``support``). ``slack``: the share of a claim's
    distinctive words (never its figures) its segment may lack and still bind it; more passes, less precise
    (bench/RESULTS.md, the cheap checks' trade-off).

    >>> ctx = "Memorized secrets SHALL be at least 8 characters in length if chosen by the subscriber. Memorized secrets chosen randomly by the CSP SHALL be at least 6 characters in length."
    >>> claim_problems("Memorized secrets chosen by the subscriber must be at least 6 characters long.", ctx)["unbound"]
    ['Memorized secrets chosen by the subscriber must be at least 6 characters long']
    >>> claim_problems("应税合同的计税依据包括列明的增值税税款。", "应税合同的计税依据，为合同所列的金额，不包括列明的增值税税款；")["negation"]
    ['应税合同的计税依据包括列明的增值税税款']
    """
    ctx = chunk if isinstance(chunk, ChunkClaims) else ChunkClaims(chunk)
    problems: dict[str, list[str]] = {"unbound": [], "modality": [], "negation": [], "unsupported": []}
    for claim, own in _claim_parts(answer):
        terms = _terms(claim)
        if not terms:
            continue
        # a number the chunk lacks (两个, 三种: a count the answer made) is the number checks' business
        wording = [t for t in terms if t in ctx.counts or not _NUMERAL.search(t)] or terms
        present = [t for t in wording if t in ctx.counts]
        if len(present) / len(wording) < support and len(wording) >= 6:  # mostly words the chunk never uses
            problems["unsupported"].append(claim)
            continue
        wanted = ctx.distinctive(terms)
        figures = {t for t in wanted if _NUMERAL.search(t)}
        words = wanted - figures - _UNBINDING
        best, best_shared = None, -1
        bound = not wanted
        for seg in ctx.segments:
            shared = len(wanted & seg.terms) if wanted else len(set(terms) & seg.terms)
            if shared > best_shared:
                best, best_shared = seg, shared
            if wanted and (wanted <= seg.terms or (slack and figures <= seg.terms
                                                   and len(words - seg.terms) <= slack * len(words))):
                bound = True
            # a table row: every figure and most words, since an answer names a row's columns in its own words
            # (至少 for 最低要求); which row a figure belongs to is checked by synth.grounding.tables
            elif wanted and seg.table and figures <= seg.terms and len(words & seg.terms) >= words_share * len(words):
                bound = True
        if not bound or not _number_windows_bound(terms, len(_terms(own)), ctx):
            problems["unbound"].append(claim)
            continue
        if best is not None:
            mine, theirs = _modal_classes(claim), _modal_classes(best.text)
            # a duty or a prohibition where the chunk's sentence states none ("这个端口必须对公网开放") is a new rule;
            # a sentence with a negation may be a rule without a modal (表名不使用复数名词)
            if (mine and theirs and not mine & theirs) or (mine & {"oblige", "prohibit"} and not theirs
                                                            and not _BARE_NEGATION.search(expand_contractions(best.text))):
                problems["modality"].append(claim)
                continue
        if best is not None and _negation_differs(claim, best.text):
            problems["negation"].append(claim)
    return problems
