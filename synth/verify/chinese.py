"""Chinese number formats: 三百二十五, 两千零五, 一万二千, 百分之五十, 二分之一, 负三, 三点一四, 1.5亿.

Financial forms (壹贰叁…拾佰仟) and Arabic digits mixed with 万/亿 (``3万``, ``1.5亿``) are read
too; a trailing measure word or unit (元, 个, 平方米, 千克) is dropped.

    >>> str(parse_chinese_number("两千零五"))
    '2005'
    >>> str(parse_chinese_number("百分之五十"))
    '50%'
    >>> str(parse_chinese_number("二分之一"))
    '1/2'
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from synth.verify.normalize import clean
from synth.verify.numbers import Number, normalize_commas, parse_number

_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4,
    "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}
_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS = {"万": 10**4, "亿": 10**8}
_NUMERAL_CHARS = set(_DIGITS) | set(_SMALL_UNITS) | set(_BIG_UNITS)
# Units that begin with a numeral character: strip these whole, before the generic rule.
_NUMERAL_UNITS = ("千米", "千克", "千瓦", "千焦", "百米", "千卡", "万元")
_NUMERALS = "".join(_NUMERAL_CHARS)
_TOKEN = re.compile(rf"\d+(?:\.\d+)?|[{_NUMERALS}]")
_TRAILING_UNIT = re.compile(rf"[^\d{_NUMERALS}%]+$")  # 个, 元, 平方米: anything after the last numeral


def _integer(text: str) -> Fraction | None:
    """Read a Chinese integer (Arabic digit runs allowed before a unit: 3万, 1.5亿)."""
    tokens = _TOKEN.findall(text)
    if not tokens or "".join(tokens) != text:
        return None
    if all(t in _DIGITS for t in tokens):  # digit by digit: 二〇二四 = 2024
        return Fraction(int("".join(str(_DIGITS[t]) for t in tokens)))
    total = Fraction(0)  # the part already multiplied by 亿
    wan = Fraction(0)  # the part already multiplied by 万
    section = Fraction(0)  # below 万
    current: Fraction | None = None
    last_unit = 0  # the unit just before the current digit, for 三百五 = 350
    zero_seen = False
    for tok in tokens:
        if tok in _DIGITS or tok[0].isdigit():
            if current is not None:
                return None  # two numbers in a row: "三四" inside a larger number is ambiguous
            if tok in _DIGITS and _DIGITS[tok] == 0:
                zero_seen = True
                continue
            current = Fraction(_DIGITS[tok]) if tok in _DIGITS else Fraction(tok)
        elif tok in _SMALL_UNITS:
            section += (current if current is not None else 1) * _SMALL_UNITS[tok]
            current, last_unit, zero_seen = None, _SMALL_UNITS[tok], False
        elif tok == "万":
            wan = (section + (current or 0) or 1) * 10**4
            section, current, last_unit, zero_seen = Fraction(0), None, 10**4, False
        else:  # 亿
            total = (total + wan + section + (current or 0) or 1) * 10**8
            wan, section, current, last_unit, zero_seen = Fraction(0), Fraction(0), None, 10**8, False
    if current is not None and last_unit >= 100 and not zero_seen:
        current *= last_unit // 10  # colloquial: 三百五 = 350, 一万二 = 12000
    return total + wan + section + (current or 0)


def _unsigned(text: str) -> tuple[Fraction, bool] | None:
    """Read an unsigned value; return (value, approximate)."""
    if "点" in text:  # 三点一四: integer part, then digits one by one
        whole, _, frac = text.partition("点")
        int_part = _integer(whole) if whole else Fraction(0)
        if int_part is None or not frac or any(ch not in _DIGITS for ch in frac):
            return None
        return int_part + Fraction(int("".join(str(_DIGITS[c]) for c in frac)), 10 ** len(frac)), True
    if "分之" in text:  # 二分之一: denominator first
        den_text, _, num_text = text.partition("分之")
        den, num = _unsigned(den_text), _unsigned(num_text)
        if den is None or num is None or den[0] == 0:
            return None
        return num[0] / den[0], num[1] or den[1]
    value = _integer(text)
    if value is None:
        return None
    return value, any(ch == "." for ch in text)


@lru_cache(maxsize=16384)
def parse_chinese_number(text: str) -> Number | None:
    """Parse a number written with Chinese numerals or units, or return ``None``.

    Plain Arabic numbers are left to ``numbers.parse_number``; this handles strings that contain
    a Chinese character.

        >>> str(parse_chinese_number("负三"))
        '-3'
        >>> str(parse_chinese_number("1.5亿"))
        '150000000'
        >>> str(parse_chinese_number("三百五十元"))
        '350'
    """
    s = normalize_commas(clean(text).replace(" ", ""))  # 1,200元 is 1200, 2,5元 is 2.5
    if not s or len(s) > 60 or not re.search(r"[\u4e00-\u9fff〇]", s):
        return None
    sign = 1
    if s[0] in "负-":
        sign, s = -1, s[1:]
    elif s[0] in "正+":
        s = s[1:]
    percent = s.startswith("百分之")
    if percent:
        s = s[len("百分之") :]
    for unit in _NUMERAL_UNITS:
        if s.endswith(unit) and len(s) > len(unit):
            s = s[: -len(unit)]
            break
    s = _TRAILING_UNIT.sub("", s)
    if s.endswith("%") and not percent:
        percent, s = True, s[:-1]
    if not s:
        return None
    if not re.search(r"[\u4e00-\u9fff〇]", s):  # "5元" → "5": an Arabic number after all
        plain = parse_number(s)
        return Number(sign * plain.value, percent or plain.percent, plain.approximate) if plain else None
    parsed = _unsigned(s)
    if parsed is None:
        return None
    return Number(sign * parsed[0], percent=percent, approximate=parsed[1])
