"""Numbers in answers and chunks: find them with value, percent, unit and range, and look them up.

Finance, medicine and law answers go wrong on numbers first, so every number of an answer (Arabic
with separators, %, 万/亿, million/billion, Chinese numerals such as 百分之八 or 三百二十, English
two…twenty, twice) must occur in the chunk with the same value and a compatible unit (4 g is not
4 小时; 克 = g), a range (6～8) as a range; 8 % = 0.08. Enumeration markers are not facts.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

from synth.grounding.row_units import UnitIndex

if TYPE_CHECKING:
    from synth.grounding.context import Context

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
# 一 before a measure word of things is the indefinite article, unless a limit is put on it (只有一个)
_ARTICLE_CN = re.compile("一(?=个(?!月|小时|工作日|季度|星期)|种|条|项|类|名|位|家|件|台|块|份|组|批|层|道|例)")
_ONLY_BEFORE = re.compile(r"(?:只|仅|唯|最多|至多|至少|不超过|不得超过|限)\s*(?:有|能有|可有|能|可以有)?\s*$")
# a numeral word counting things (三种类型, 两个端口, twice): the answer's own count, not a figure of the document
_COUNT_CN = re.compile("[一二两三四五六七八九十](?:个(?!月|小时|工作日|季度|星期)|种|类|项|条|名|位|家|件|台|块|次|部分|方面|者|组|份|层|步|遍)")
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
# what makes a number in a chunk a label of the document rather than a fact
_LABEL_BEFORE = re.compile(r"(?:第\s*|(?:section|sec\.|§|page|pages|p\.|pp\.|table|figure|fig\.|appendix|article|art\.|chapter|"
                           r"clause|level|step|no\.|sp|iso|iec|rfc|nist|fips|gb(?:/t)?|en|ieee)\s*|[A-Za-z]+\s*\d+-)$", re.I)
# 二十条 of a law is a place; 5000 条语句 counts statements
_LABEL_AFTER = re.compile(r"^\s*(?:[条章节款项编篇级](?![\u4e00-\u9fff])|页)")
_BRACKETED = re.compile(r"[（(]\s*$")
_BRACKET_CLOSE = re.compile(r"^\s*[）)]")
_PERCENT_SIGN = re.compile(r"[%％‰]|百分|percent", re.I)
_RANGE = re.compile(r"\s*(?:～|~|-|–|—|至|到|to)\s*$")
_UNIT_AFTER = re.compile(r"\s*(?:个\s*(?=字节|字符))?(个月|小时|分钟|毫秒|毫克|千克|公斤|微克|毫升|毫米|厘米|公里|千米|星期|美元|字节|字符"
                         r"|[\u4e00-\u9fff℃]|°\s*c\b|[a-zµμ]+)", re.I)
# units that make "4 g" and "4 hours" different quantities; anything else is not compared
_UNITS = {
    "g": "g", "克": "g", "gram": "g", "mg": "mg", "毫克": "mg", "kg": "kg", "千克": "kg", "公斤": "kg",
    "µg": "ug", "μg": "ug", "ug": "ug", "mcg": "ug", "微克": "ug", "吨": "t", "ton": "t", "tonne": "t",
    "ml": "ml", "毫升": "ml", "l": "l", "升": "l", "liter": "l", "litre": "l",
    "mm": "mm", "毫米": "mm", "cm": "cm", "厘米": "cm", "m": "m", "米": "m", "km": "km", "公里": "km", "千米": "km",
    "ms": "ms", "毫秒": "ms", "millisecond": "ms", "millis": "ms",
    "s": "s", "sec": "s", "second": "s", "秒": "s", "min": "min", "minute": "min", "分钟": "min",
    "h": "h", "hr": "h", "hour": "h", "小时": "h", "day": "d", "天": "d", "日": "d", "week": "w", "周": "w",
    "星期": "w", "month": "mo", "个月": "mo", "月": "mo", "year": "y", "年": "y",
    "℃": "c", "°c": "c", "元": "yuan", "yuan": "yuan", "美元": "usd", "dollar": "usd",
    "unit": "unit", "台": "unit", "件": "unit", "次": "times", "time": "times", "倍": "x",
    "人": "person", "名": "person", "people": "person", "person": "person", "岁": "age",
    # sizes and capacities (a manual's limits): 3072 字节 is not 3072 个字符, 16 核 is not 16 GB
    "字节": "byte", "byte": "byte", "字符": "char", "character": "char", "char": "char", "bit": "bit",
    "核": "core", "core": "core", "vcpu": "core", "kb": "kb", "kib": "kb", "mb": "mb", "mib": "mb", "gb": "gb",
    "gib": "gb", "tb": "tb", "tib": "tb",
}


class Mention(NamedTuple):
    """A number as written (``text``), its value, whether it is a percentage (8% -> 8, True), its
    unit when it has a known one (``mg``, ``h``; 克 -> ``g``), where it starts and ends, and the
    value it opens a range to (``6～8小时``: 6 has ``range_to`` 8 and unit ``h``). A number that
    names a place in the document (第二十条, Section 5, page 12, SP 800-53, a table row's index) is a
    ``label``; in a chunk (``reference=True``) ``percent_context`` says a bare number stands where
    percentages are written (its line or its table's header has %, 百分, percent)."""

    text: str
    value: Fraction
    percent: bool
    unit: str | None = None
    start: int = 0
    end: int = 0
    range_to: Fraction | None = None
    label: bool = False
    percent_context: bool = False


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
        if not reference and _ARTICLE_CN.match(masked, m.start()) and not _ONLY_BEFORE.search(masked[:m.start()]):
            continue  # 一个事务 is "a transaction"
        parsed = parse_chinese_number(m.group())
        if parsed is not None:
            found.append((m.start(), m.end(), m.group(), parsed))
    for m in (_EN_WORD if reference else _EN_COUNT).finditer(masked):
        found.append((m.start(), m.end(), m.group(), Fraction(_EN_WORDS[m.group().lower()])))
    found.sort(key=lambda f: f[0])
    out: list[Mention] = []
    units: UnitIndex | None = None
    for start, end, raw, parsed in found:
        value, percent = (parsed, False) if isinstance(parsed, Fraction) else (abs(parsed.value), parsed.percent)
        label, context = _is_label(masked, start, end), False
        if reference:
            context = not percent and _percent_context(masked, start)
        unit = None if percent else _unit(masked, end)
        if reference and unit is None and not percent and not label:
            units = units or UnitIndex(masked)
            unit = units.implied(start)  # timeout.milliseconds | 3000: the row's or column's unit
        out.append(Mention(raw, value, percent, unit, start, end, label=label, percent_context=context))
    for i in range(len(out) - 2, -1, -1):  # a range: both ends take the unit written after the second
        a, b = out[i], out[i + 1]
        if _RANGE.match(masked[a.end:b.start]) and not a.percent and _is_year(a) == _is_year(b):
            out[i] = a._replace(unit=a.unit or b.unit, range_to=b.value)
    return out


def _is_year(m: Mention) -> bool:
    """A bare four-digit number of the last or this century: "FY 2023 to 6.4 percent" is no range."""
    return not m.percent and m.unit is None and m.text.isdigit() and 1900 <= m.value <= 2099


def _is_label(text: str, start: int, end: int) -> bool:
    """第二十条, Section 5, SP 800-53, （四）, or the first cell of a table row: a place, not a fact."""
    line_start = text.rfind("\n", 0, start) + 1
    before, after = text[line_start:start], text[end:end + 3]
    if _LABEL_BEFORE.search(before) or _LABEL_AFTER.match(after):
        return True
    if _BRACKETED.search(before) and _BRACKET_CLOSE.match(after):
        return True
    return not before.strip() and (after.startswith("\t") or after.lstrip(" ").startswith("|"))


def _percent_context(text: str, start: int) -> bool:
    """The number's line, or a line above it in the same block (a table's header), writes percentages."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if _PERCENT_SIGN.search(text[line_start:line_end if line_end >= 0 else len(text)]):
        return True
    block = text[:line_start].rstrip("\n")
    cut = block.rfind("\n\n")
    return bool(_PERCENT_SIGN.search(block[cut + 1 if cut >= 0 else 0:][-2000:]))


def _same(number: Mention, other: Mention) -> bool:
    r"""Equal values with compatible units, or a percentage and the same fraction (8% and 0.08). A label
    of the chunk (第二十条, page 12) stands for no percentage or quantity with a unit, and a bare number
    stands for a percentage only where percentages are written (a table under a "税率（%）" header).
    A label matches only a label (第二十条 and 第二十条).

    >>> pct = find_numbers("税率为20%")[0]
    >>> [_same(pct, m) for m in find_numbers("第二十条 税率表\n级数\t税率（%）\n1\t20", reference=True)]
    [False, False, True]
    """
    if number.unit and other.unit and number.unit != other.unit:
        return False
    if other.label != number.label:  # a place in the document is no quantity, and the reverse
        return False
    if other.value == number.value:
        return number.percent == other.percent or not number.percent or other.percent_context
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
    from synth.grounding.context import as_context

    ctx = as_context(context)
    return [m.text for m in find_numbers(answer) if not _has_value(m, ctx.numbers)]


# a number that counts what the answer lists or sums ("all three AALs", "共三类", "两者均"): the answer
# computed it, so a chunk without it has not refuted it
_EN_NUM = r"(?:\d{1,3}|" + "|".join(w for w in _EN_WORDS if w not in ("zero", "one", "twice", "thrice")) + r")"
_TOTAL_EN = re.compile(r"\b(?:all(?: of the)?|each of the|these|a total of|in total|total of|both of the)\s+"
                       r"(" + _EN_NUM + r")\s+([a-z][\w-]*)", re.I)
_TOTAL_ZH = re.compile(r"(?:共|总共|一共|合计|共计|全部|所有|这|这些|上述|以上)\s*([" + _CN_ALL + r"\d]{1,3})\s*"
                       r"(个|类|种|项|级|条|款|档|部分|方面|者)(\S{0,2})")
_LEAD_ZH = re.compile(r"([" + _CN_ALL + r"\d]{1,3})\s*(者|项|种)(?:均|都|皆)")


def counted_totals(answer: str, context: str | Context) -> list[str]:
    """Numbers of ``answer`` that count or sum what it names (all three AALs, 共三类, 两者均) and that the
    context neither states nor contradicts (it counts the same thing with another number).

    >>> counted_totals("MitM resistance is required at all three AALs.", "AAL1 | AAL2 | AAL3\\nRequired | Required | Required")
    ['three']
    >>> counted_totals("The rule covers all four AALs.", "There are three AALs.")
    []
    >>> counted_totals("上述三类企业均可减免。", "小型企业、微型企业和高新技术企业可以减免。")
    ['三']
    """
    from synth.grounding.context import as_context

    ctx = as_context(context)
    text = unicodedata.normalize("NFKC", answer)
    out = []
    hits = [(m.group(1), m.group(2)) for m in _TOTAL_EN.finditer(text)]
    hits += [(m.group(1), m.group(2) + m.group(3)) for m in _TOTAL_ZH.finditer(text)]
    hits += [(m.group(1), m.group(2)) for m in _LEAD_ZH.finditer(text)]
    for number, counted in hits:
        mine = find_numbers(number, reference=True)
        if len(mine) != 1:
            continue
        counted_rx = re.escape(counted.rstrip("s").casefold())
        said = [find_numbers(m.group(1), reference=True) for m in re.finditer(
            r"(\d{1,3}|[a-z]+|[" + _CN_ALL + r"]{1,3})\s*" + counted_rx, ctx.folded)]
        if any(n and n[0].value != mine[0].value for n in said):
            continue  # the context counts the same thing otherwise
        out.append(number)
    return out


_ITEM_SPLIT = re.compile(r"[、，,；;]|以及|和|及|与|或者?|\band\b|\bor\b|\n\s*[-*•]", re.I)


def count_words(answer: str) -> list[str]:
    """Numbers of ``answer`` written as a numeral word that counts things (三种类型, 两个端口, three tiers, twice):
    a count the answer makes, which a chunk that lists the things need not state. Digits are figures.

    >>> count_words("VARBINARY、TEXT 和 BLOB 三种类型；共 3 个，满三年，twice")
    ['三', 'twice']
    """
    text = unicodedata.normalize("NFKC", answer)
    out = []
    for m in find_numbers(text):
        if m.text[0].isdigit() or m.text.startswith("百分之"):
            continue
        if _COUNT_CN.match(text, m.start) or (m.text[0].isascii() and m.unit in (None, "times", "person", "unit")):
            out.append(m.text)
    return out


def _count_mentions(text: str) -> list[Mention]:
    """The mentions of (NFKC) ``text`` written as one of its count words."""
    words = set(count_words(text))
    return [m for m in find_numbers(text) if m.text in words]


def listed_counts(answer: str) -> list[str]:
    """Count words of ``answer`` equal to the number of things it enumerates beside them: the items before the
    count in its clause (VARBINARY、TEXT 和 BLOB 三种类型) or the items after a colon that follows it
    (两个端口：9093 是…，9094 是…).

    >>> listed_counts("VARBINARY、TEXT 和 BLOB 三种类型的上限相同。"), listed_counts("使用两个端口：9093 用于 web，9094 用于通信。")
    (['三'], ['两'])
    >>> listed_counts("TiDB 和 PD 三种组件"), listed_counts("It is checked twice."), listed_counts("It takes 35 minutes and needs two men.")
    ([], [], [])
    """
    from synth.verify.chinese import parse_chinese_number

    text = unicodedata.normalize("NFKC", answer)
    out = []
    for m in _count_mentions(text):
        before = re.split(r"[。.!?！？:：\n]", text[:m.start])[-1]
        items = [p.strip() for p in _ITEM_SPLIT.split(before)]
        run = 0  # the short items that end right before the count (a clause is no item)
        for item in reversed(items):
            if not item or len(item) > 24 or len(item.split()) > 3:
                break
            run += 1
        sizes = [run]
        colon = re.match(r"[^。.!?！？\n]{0,12}?[:：]([^。!?！？]*)", text[m.end:])
        if colon:
            sizes.append(len([p for p in re.split(r"[，,；;\n]", colon.group(1)) if p.strip(" -*•")]))
        value = m.value if isinstance(m.value, Fraction) else parse_chinese_number(m.text)
        if value in sizes and value >= 2:
            out.append(m.text)
    return out


def _multiplier(m: Mention) -> bool:
    return m.unit in ("times", "x") or m.text.casefold() in ("twice", "thrice")


def contradicted_counts(answer: str, context: str | Context) -> list[str]:
    """Count words of ``answer`` whose counted noun the context counts with another number ("all three plans"
    where it says "four plans"): a count the context refutes.

    >>> contradicted_counts("Encryption is included in all three plans.", "The service has four plans.")
    ['three']
    >>> contradicted_counts("It is liable for three times the amount.", "It is liable for twice the amount.")
    ['three']
    >>> contradicted_counts("共有三种类型。", "数据类型分为两种类型。"), contradicted_counts("三种类型。", "CHAR、TEXT、BLOB")
    (['三'], [])
    """
    from synth.grounding.context import as_context

    ctx = as_context(context)
    text = unicodedata.normalize("NFKC", answer)
    out = []
    for m in _count_mentions(text):
        if _multiplier(m) and any(_multiplier(n) and n.value != m.value for n in ctx.numbers):
            out.append(m.text)  # three times the amount, where the chunk says twice
            continue
        noun = re.match(r"\s*([a-z]{3,}?)s?\b|\s*(\S{1,3})", text[m.end:].casefold())
        if not noun:
            continue
        counted = re.escape(noun.group(1) or noun.group(2))
        for said in re.finditer(r"(\d{1,3}|[a-z]+|[" + _CN_ALL + r"]{1,3})\s*" + counted, ctx.folded):
            n = find_numbers(said.group(1), reference=True)
            if n and n[0].value != m.value:
                out.append(m.text)
                break
    return out


def unquoted_figures(answer: str, context: str | Context, spans: list[tuple[int, int]], margin: int = 2) -> list[str]:
    """Figures of ``answer`` the chunk has, but none of the evidence quotes (given as chunk ``spans``) holds: a
    "pass" skips the judge, so the evidence the answer cites must carry its figures, and a figure found only
    elsewhere in the chunk is often the neighbouring rule's (a fine of 1万 to 3万 cited with the clause of 2000
    to 5000). The answer's own counts (三种, two) and a year the chunk names (the 2024 tax year) are context.

    >>> chunk = "逾期不改正的，处2000元以上5000元以下的罚款。情节严重的，处1万元以上3万元以下的罚款。"
    >>> quote = (chunk.index("逾期"), chunk.index("罚款") + 2)
    >>> unquoted_figures("逾期不改正的，处1万元以上3万元以下的罚款。", chunk, [quote])
    ['1万', '3万']
    >>> unquoted_figures("逾期不改正的，处2000元以上5000元以下的罚款。", chunk, [quote])
    []
    """
    from synth.grounding.context import as_context

    ctx = as_context(context)
    cited = [m for m in ctx.numbers if any(a - margin <= m.start and m.end <= b + margin for a, b in spans)]
    counts = set(count_words(answer))
    out = []
    for m in find_numbers(answer):
        year = not m.percent and m.unit in (None, "y") and m.text.isdigit() and 1900 <= m.value <= 2099
        if m.label or m.text in counts or (year and any(n.value == m.value for n in ctx.numbers)):
            continue
        if _has_value(m, ctx.numbers) and not _has_value(m, cited):
            out.append(m.text)
    return out
