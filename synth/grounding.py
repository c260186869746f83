"""Is an answer grounded in its source chunk? Cheap, deterministic checks (no model calls).

Used by the `doc-qa` recipe, which asks the model for ``{answer, evidence: [verbatim quotes]}`` and
then checks, cheapest first:

1. leakage: the answer talks about its source ("根据参考资料", "according to the text"): a reader of
   the SFT pair has no source to refer to;
2. evidence quotes occur in the chunk: both sides normalised (NFKC width folding, case, every kind
   of whitespace incl. PDF line breaks and hyphenation, “”‘’「」『』 quotes, dashes, ……/...) with an
   index map back to the original text, then an exact substring search, else
   ``rapidfuzz.fuzz.partial_ratio_alignment`` above a threshold; a fuzzy match must still carry
   the quote's numbers. Each match keeps its character offsets in the chunk;
3. numbers: every number in the answer (Arabic, %, 万/亿, Chinese numerals such as 百分之八 or
   三百二十) has the same value somewhere in the chunk (finance, medicine and law answers go wrong
   here first);
4. terms: Latin names and codes in the answer (GMP, ISO 9001, Pfizer) occur in the chunk;
5. lexical support: the share of the answer's token bigrams (character bigrams for Chinese, word
   bigrams for English) found in the chunk.

A check that fails on hard evidence (a leak, a quote not in the chunk, a number the chunk does not
have) rejects; weak signals (low lexical support, an unknown term, a computed number in a
calculation answer) leave the verdict *uncertain*, for an LLM judge to settle. Nothing here is
ever auto-accepted on weak evidence.

>>> v = check_answer("资本充足率不得低于8%。", ["资本充足率不得低于 8％"],
...                  "商业银行资本充足率不得低于8%，核心资本充足率不得低于4%。")
>>> v.status, v.reason, [(e.start, e.end, e.method) for e in v.evidence]
('pass', None, [(4, 15, 'exact')])
>>> check_answer("资本充足率不得低于10%。", ["资本充足率不得低于8%"],
...              "商业银行资本充足率不得低于8%。").reason
'ungrounded_number'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from synth.dedup.normalize import CJK_RANGES, tokens

# -- normalisation with an index map ---------------------------------------------------------------
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


# -- quotes ----------------------------------------------------------------------------------------
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


class Context:
    """A chunk prepared once for many lookups: normalised text, index map, numbers, bigrams."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm, self.index, self.ends = _fold(text)
        self._numbers: list[Mention] | None = None
        self._bigrams: set[tuple[str, str]] | None = None
        self._folded: str | None = None

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

    def span(self, nstart: int, nend: int) -> tuple[int, int]:
        """Original (start, end) of the normalised span [nstart, nend)."""
        return self.index[nstart], self.ends[nend - 1]


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
    ctx = context if isinstance(context, Context) else Context(context)
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


# -- numbers ---------------------------------------------------------------------------------------
_CN_DIGIT = "零〇一二两三四五六七八九"
_CN_ALL = _CN_DIGIT + "十百千万亿"
_NUMBER = re.compile(
    r"百分之[" + _CN_ALL + r"点]+"                                   # 百分之八, 百分之十二点五
    r"|(?<![A-Za-z0-9.])\d+(?:,\d{3})*(?:\.\d+)?(?:\s*[万亿])?\s*%?"          # 1,234.5  3.2亿  12.5%
    r"|[" + _CN_DIGIT + r"十][" + _CN_ALL + r"]+(?:点[" + _CN_DIGIT + r"]+)?"  # 三百二十, 十五, 二点五
)
# a lone numeral (not part of 四十八 or 第八): in a chunk it may be a quantity (三类, 统一 too: harmless)
_SINGLE_CN = re.compile("(?<![" + _CN_ALL + "点第])[" + _CN_DIGIT + "十](?![" + _CN_ALL + "点])")
# a lone numeral before a measure word (满八年, 三种, 两次): a quantity even in an answer
_COUNTED_CN = re.compile("(?<![" + _CN_ALL + "点第])[" + _CN_DIGIT + "十](?=个|年|月|日|天|次|条|倍|名|人|元|岁|周|项|种|类"
                         "|级|届|期|小时|台|件|家|位|例|批|层|道|遍)")
_CN_MARK = re.compile("[十百千万亿点〇零]")
_EN_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())} | {"twice": 2, "thrice": 3}
_EN_WORD = re.compile(r"\b(" + "|".join(_EN_WORDS) + r")\b", re.I)
# in an answer "one" and "zero" are mostly not quantities ("one of the", "zero-day")
_EN_COUNT = re.compile(r"\b(" + "|".join(w for w in _EN_WORDS if w not in ("zero", "one")) + r")\b", re.I)
_EN_SCALE = re.compile(r"\s*(thousand|million|billion|trillion)\b", re.I)
_SCALE = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
# enumeration markers and step numbers say nothing about the facts
_MARKER = re.compile(r"(?m)^\s*(?:\(?\d{1,2}[.、)）]|[（(]\d{1,2}[）)])(?!\d)|第\s*\d+\s*步|\bstep\s+\d+\b", re.I)
_RANGE = re.compile(r"\s*(?:～|~|-|–|—|至|到|to)\s*$")
_UNIT_AFTER = re.compile(r"\s*(个月|小时|分钟|毫克|千克|公斤|微克|毫升|毫米|厘米|公里|千米|星期|美元|[\u4e00-\u9fff℃]"
                         r"|°\s*c\b|[a-zµμ]+)", re.I)
# units that make "4 g" and "4 hours" different quantities; anything else is not compared
_UNITS = {
    "g": "g", "克": "g", "gram": "g", "mg": "mg", "毫克": "mg", "kg": "kg", "千克": "kg", "公斤": "kg",
    "µg": "ug", "μg": "ug", "ug": "ug", "mcg": "ug", "微克": "ug", "吨": "t", "ton": "t", "tonne": "t",
    "ml": "ml", "毫升": "ml", "l": "l", "升": "l", "liter": "l", "litre": "l",
    "mm": "mm", "毫米": "mm", "cm": "cm", "厘米": "cm", "m": "m", "米": "m", "km": "km", "公里": "km", "千米": "km",
    "s": "s", "sec": "s", "second": "s", "秒": "s", "min": "min", "minute": "min", "分钟": "min",
    "h": "h", "hr": "h", "hour": "h", "小时": "h", "day": "d", "天": "d", "日": "d", "week": "w", "周": "w",
    "星期": "w", "month": "mo", "个月": "mo", "月": "mo", "year": "y", "年": "y",
    "℃": "c", "°c": "c", "元": "yuan", "yuan": "yuan", "美元": "usd", "dollar": "usd",
    "unit": "unit", "台": "unit", "件": "unit", "次": "times", "time": "times", "倍": "x",
    "人": "person", "名": "person", "people": "person", "person": "person", "岁": "age",
}


class Mention(NamedTuple):
    """A number as written (``text``), its value, whether it is a percentage (8% -> 8, True), its
    unit when it has a known one (``mg``, ``h``; 克 -> ``g``), where it starts and ends, and the
    value it opens a range to (``6～8小时``: 6 has ``range_to`` 8 and unit ``h``)."""

    text: str
    value: Fraction
    percent: bool
    unit: str | None = None
    start: int = 0
    end: int = 0
    range_to: Fraction | None = None


def _unit(text: str, at: int) -> str | None:
    m = _UNIT_AFTER.match(text, at)
    if not m:
        return None
    word = m.group(1).casefold().replace(" ", "")
    if word in _UNITS:
        return _UNITS[word]
    return _UNITS.get(word[:-1]) if word.endswith("s") and len(word) > 2 else None


def find_numbers(text: str, *, reference: bool = False) -> list[Mention]:
    """Every number mentioned in ``text``, enumeration markers (``1.``, ``（2）``, ``第3步``) left out.

    ``reference=True`` is the lenient reading used for the chunk a number is looked up in: every
    single Chinese numeral and English number word counts there, while in an answer only those
    that count something (满八年, 三种, two, twice) do: 一般, 统一 and "one of" are words.

    >>> [(str(m.value), m.percent, m.unit) for m in find_numbers("营收3.2亿元，增长12.5%，员工一千二百人，百分之八")]
    [('320000000', False, 'yuan'), ('25/2', True, None), ('1200', False, 'person'), ('8', True, None)]
    >>> [(m.text, m.unit, m.range_to) for m in find_numbers("1. 先清洗\\n2. 再消毒，每6～8小时，一一核对")]
    [('6', 'h', Fraction(8, 1)), ('8', 'h', None)]
    """
    from synth.verify.chinese import parse_chinese_number
    from synth.verify.numbers import parse_number

    text = unicodedata.normalize("NFKC", text)
    masked = _MARKER.sub(lambda m: " " * len(m.group()), text)
    found: list[tuple[int, int, str, Any]] = []
    for m in _NUMBER.finditer(masked):
        raw = m.group().strip()
        body = raw.replace(" ", "")
        end = m.start() + len(m.group().rstrip())
        if body[0].isdigit() and body.rstrip("%")[-1] not in "万亿":
            parsed = parse_number(body)
            scale = _EN_SCALE.match(masked, end)
            if parsed is not None and scale:
                parsed = type(parsed)(parsed.value * _SCALE[scale.group(1).lower()], parsed.percent)
                end = scale.end()
        elif body[0].isdigit() or _CN_MARK.search(body):
            parsed = parse_chinese_number(body)
        else:
            parsed = None  # 一一, 三四: not a quantity
        if parsed is not None:
            found.append((m.start(), end, raw, parsed))
    for m in (_SINGLE_CN if reference else _COUNTED_CN).finditer(masked):
        parsed = parse_chinese_number(m.group())
        if parsed is not None:
            found.append((m.start(), m.end(), m.group(), parsed))
    for m in (_EN_WORD if reference else _EN_COUNT).finditer(masked):
        found.append((m.start(), m.end(), m.group(), Fraction(_EN_WORDS[m.group().lower()])))
    found.sort(key=lambda f: f[0])
    out: list[Mention] = []
    for start, end, raw, parsed in found:
        value, percent = (parsed, False) if isinstance(parsed, Fraction) else (abs(parsed.value), parsed.percent)
        out.append(Mention(raw, value, percent, None if percent else _unit(masked, end), start, end))
    for i in range(len(out) - 2, -1, -1):  # a range: both ends take the unit written after the second
        a, b = out[i], out[i + 1]
        if _RANGE.match(masked[a.end:b.start]) and not a.percent:
            out[i] = a._replace(unit=a.unit or b.unit, range_to=b.value)
    return out


def _same(number: Mention, other: Mention) -> bool:
    """Equal values with compatible units, or a percentage and the same fraction (8% and 0.08)."""
    if number.unit and other.unit and number.unit != other.unit:
        return False
    if other.value == number.value:
        return True
    if number.percent != other.percent:
        pct, frac = (number, other) if number.percent else (other, number)
        return pct.value == frac.value * 100
    return False


def _has_value(number: Mention, pool: list[Mention], near: int = 8) -> bool:
    """``number`` occurs in ``pool``; a range (6～8) needs both ends there, close together."""
    for i, other in enumerate(pool):
        if not _same(number, other):
            continue
        if number.range_to is None:
            return True
        for nxt in pool[i + 1:]:
            if nxt.start - other.end > near:
                break
            if nxt.value == number.range_to:
                return True
    return False


def missing_numbers(answer: str, context: str | Context) -> list[str]:
    """Numbers in ``answer`` that the context never mentions with the same value and unit.

    >>> missing_numbers("不得低于百分之八，罚款5万元", "资本充足率不得低于8%，罚款五万元以下")
    []
    >>> missing_numbers("250 mg twice a day, or 4 hours apart", "Take 500 mg twice daily, at most 4 g a day.")
    ['250', '4']
    >>> missing_numbers("加热到250～300℃", "层间温度120～250℃，消氢处理加热温度为300～350℃")
    ['250']
    """
    ctx = context if isinstance(context, Context) else Context(context)
    return [m.text for m in find_numbers(answer) if not _has_value(m, ctx.numbers)]


# -- leakage, terms, lexical support ----------------------------------------------------------------
LEAK = re.compile(
    # 根据内容/材料 alone is ordinary Chinese (根据材料强度选择焊条): only with a pointer, or 资料/文献/原文
    r"根据(?:所给|给定|提供的?|上述|以上|上面的?|参考)的?(?:内容|资料|文献|原文|文本|文档|材料|段落|信息)"
    r"|根据(?:资料|文献|原文)"
    r"|(?:文中|原文|材料中|资料中|文档中|参考资料中?)(?:提到|指出|所述|显示)|参考资料|如上文所述|本文(?:提到|指出)"
    r"|according to the (?:given |provided )?(?:text|passage|document|context|excerpt|source)"
    r"|(?:the|this) (?:passage|text|document|excerpt) (?:says|states|mentions|notes)"
    r"|as (?:stated|mentioned|described) in the (?:text|passage|document|context)"
    r"|based on the (?:given |provided )?(?:text|passage|document|context)",
    re.I)


def leak(answer: str) -> str | None:
    """The phrase by which ``answer`` refers to a source the reader cannot see, or None.

    >>> leak("根据参考资料，年利率为3.5%。")
    '根据参考资料'
    >>> leak("According to the passage, the fee is waived.")
    'According to the passage'
    >>> leak("年利率为3.5%。") is None, leak("根据材料强度选择焊条。") is None
    (True, True)
    """
    m = LEAK.search(answer)
    return m.group() if m else None


_TERM = re.compile(r"[A-Za-z][A-Za-z0-9&.\-/]*[A-Za-z0-9]|[A-Z]")
_SENTENCE_START = re.compile(r"(?:^|[.!?。！？:：;；\n]\s*|[\"'“‘(（]\s*)$")


def unknown_terms(answer: str, context: str | Context) -> list[str]:
    """Latin names and codes in ``answer`` (a capital letter past the first, or one inside a
    sentence) that the context does not contain, case-insensitively.

    >>> unknown_terms("The trial was run by Pfizer under GMP rules.", "Moderna ran the trial under GMP.")
    ['Pfizer']
    >>> unknown_terms("依据ISO 9001建立体系。", "企业应依据ISO 9001建立质量管理体系。")
    []
    """
    ctx = context if isinstance(context, Context) else Context(context)
    text = unicodedata.normalize("NFKC", answer)
    out = []
    for m in _TERM.finditer(text):
        word = m.group()
        capital_inside = any(c.isupper() for c in word[1:])
        if not (capital_inside or (word[0].isupper() and not _SENTENCE_START.search(text[:m.start()]))):
            continue
        if word.casefold() not in ctx.folded and word not in out:
            out.append(word)
    return out


def _bigrams(text: str) -> list[tuple[str, str]]:
    toks = tokens(text)
    return list(zip(toks, toks[1:])) if len(toks) > 1 else [(t, "") for t in toks]


def lexical_support(answer: str, context: str | Context) -> float:
    """Share of the answer's token bigrams (Chinese: character bigrams; English: word bigrams) that
    occur in the context; 1.0 for an empty answer.

    >>> lexical_support("核心资本充足率不得低于4%", "核心资本充足率不得低于4%。")
    1.0
    >>> round(lexical_support("The board approved a dividend.", "The board approved the merger."), 2)
    0.5
    """
    ctx = context if isinstance(context, Context) else Context(context)
    grams = _bigrams(answer)
    if not grams:
        return 1.0
    return sum(g in ctx.bigrams for g in grams) / len(grams)


_CJK = re.compile(f"[{CJK_RANGES}]")


def is_chinese(text: str, share: float = 0.2) -> bool:
    """True when at least ``share`` of the non-space characters are CJK.

    >>> is_chinese("GMP 要求"), is_chinese("GMP rules apply")
    (True, False)
    """
    chars = [c for c in text if not c.isspace()]
    return bool(chars) and sum(1 for c in chars if _CJK.match(c)) >= share * len(chars)


# -- the verdict -------------------------------------------------------------------------------------
@dataclass
class Verdict:
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


def verify_quotes(quotes: list[str], context: str | Context, t: Thresholds = Thresholds()) -> list[QuoteMatch]:
    ctx = context if isinstance(context, Context) else Context(context)
    return [locate(q, ctx, threshold=t.quote_score, min_chars=t.min_quote_chars) for q in quotes]


def check_answer(answer: str, quotes: list[str], context: str | Context, *, calculation: bool = False,
                 thresholds: Thresholds = Thresholds()) -> Verdict:
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
    ctx = context if isinstance(context, Context) else Context(context)
    quotes = [q for q in quotes if isinstance(q, str) and q.strip()]
    matches = verify_quotes(quotes, ctx, thresholds)
    checks: dict[str, Any] = {
        "leak": leak(answer),
        "quotes": len(matches),
        "quotes_verified": sum(m.found for m in matches),
        "missing_numbers": missing_numbers(answer, ctx),
        "unknown_terms": unknown_terms(answer, ctx),
        "lexical_support": round(lexical_support(answer, ctx), 4),
    }

    def verdict(status: str, reason: str | None) -> Verdict:
        return Verdict(status, reason, matches, checks)

    if checks["leak"]:
        return verdict("fail", "answer_leaks_source")
    if not answer.strip():
        return verdict("fail", "empty_answer")
    if not matches:
        return verdict("fail", "ungrounded_no_evidence")
    if checks["quotes_verified"] < len(matches):
        return verdict("fail", "ungrounded_quote")
    if checks["missing_numbers"]:
        return verdict("uncertain" if calculation else "fail", "ungrounded_number")
    if checks["unknown_terms"]:
        return verdict("uncertain", "ungrounded_term")
    if checks["lexical_support"] < thresholds.support:
        return verdict("uncertain", "ungrounded_low_support")
    return verdict("pass", None)
