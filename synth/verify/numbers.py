r"""Fast path for plain numbers: parse without sympy, compare exactly.

Most benchmark answers (GSM8K, MATH integers, AIME) are plain numbers written in many ways. This
module turns them into a ``Fraction`` so equal values compare equal whatever the presentation:

* thousands separators: ``1,000`` ``1 000`` ``1{,}000`` ``1,\!000`` (MATH) ``1.234.567``: a comma
  before exactly three digits groups thousands, as in math-verify
* decimal commas where that reading is the only one: ``3,5`` ``0,250`` ``1234,5`` ``1.234,5``
  ``1 234,5`` (a list is written ``3, 5``, with a space)
* currency: ``$`` ``\$`` ``¥`` ``€`` ``£`` ``元`` ``USD`` ``dollars``, before or after the number
* units: trailing unit words (``cm``, ``km/h``, ``m^2``, ``apples``, ``个``), ``^\circ``, ``°``
* scale words: ``2.5 million`` = 2500000
* percent: ``50%`` ``50\%`` ``50 percent`` (kept as a flag, see ``numbers_equal``)
* fractions ``3/4``, ``\frac{3}{4}``, ``\frac34``; decimals ``.75``, ``0.750``; scientific ``1.5e3``,
  ``1.5 \times 10^{3}``; signs ``-``, ``−``, ``+``; an ``x =`` prefix

Anything else (``\sqrt2``, ``\pi``, ``2x``, ``(1, 2)``) returns ``None`` and goes to math-verify.

    >>> parse_number(r"\$1,234.50").value
    Fraction(2469, 2)
    >>> numbers_equal(parse_number("50%"), parse_number("0.5"))
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from synth.verify.normalize import clean
from synth.verify.tolerance import Tolerance

# Guards so that "1e999999999" or a million digits never reach Fraction (memory, int-str limits).
_MAX_EXPONENT = 400
_MAX_DIGITS = 400

_COMMA = r"(?:,|\{,\})"
# Tried in this order, so "1,234" is a thousand and more, "1,2345" and "0,250" are decimals.
_PLAIN = (
    rf"(?:(?P<grouped>[1-9]\d{{0,2}}(?:(?:{_COMMA}|\s|')\d{{3}})+(?:\.\d+)?)"  # 1,234.5  1 000  1{,}000
    rf"|(?P<european>[1-9]\d{{0,2}}(?:[.\s']\d{{3}})+{_COMMA}\d+|[1-9]\d{{0,2}}(?:\.\d{{3}}){{2,}})"  # 1.234,5
    r"|\d+\.?\d*|\.\d+"
    rf"|(?P<comma>\d+{_COMMA}\d+))"  # 3,5  0,250: a decimal comma
)
_NUMBER_RE = re.compile(
    rf"(?P<sign>[-+])?\s*(?P<body>{_PLAIN})"
    r"(?:\s*[eE](?P<exp>[-+]?\d+)|\s*(?:\\times|\\cdot|×|\*)\s*10\s*\^\s*\{?\s*(?P<exp2>[-+]?\d+)\s*\}?)?"
)
_SIMPLE = r"[-+]?\s*(?:\d+\.?\d*|\.\d+)"
_SLASH_FRAC_RE = re.compile(rf"(?P<num>{_SIMPLE})\s*/\s*(?P<den>{_SIMPLE})")
_TEX_FRAC_RE = re.compile(
    rf"(?P<sign>[-+])?\s*\\frac\s*(?:\{{\s*(?P<num>{_SIMPLE})\s*\}}|(?P<num1>\d))"
    rf"\s*(?:\{{\s*(?P<den>{_SIMPLE})\s*\}}|(?P<den1>\d))"
)

_CURRENCY_PREFIX = re.compile(r"^(?:\\\$|\$|¥|￥|€|£|US\$|USD|RMB|EUR|GBP|\\euro|\\pounds|\\yen)\s*")
_CURRENCY_SUFFIX = re.compile(r"\s*(?:\\\$|\$|¥|￥|€|£|\\euro|\\pounds|\\yen)$")
# MATH writes thousands as "1,\!000"; "\!" would otherwise become a space after the comma.
_MATH_THOUSANDS = re.compile(r"(?<=\d)(?:,|\{,\})\s*\\!\s*(?=\d{3})")
_PERCENT_SUFFIX = re.compile(r"\s*(?:\\%|%|percent|per\s*cent)$", re.IGNORECASE)
_DEGREE_SUFFIX = re.compile(r"\s*(?:\^\s*\{?\s*\\circ\s*\}?|°|\\degree)(?:\s*[CF])?$")
_ASSIGNMENT_PREFIX = re.compile(r"^[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*(?=[^=]+$)")
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
# Words that carry mathematical meaning and must never be dropped as a "unit".
_NOT_UNITS = {
    "pi", "inf", "infinity", "oo", "sqrt", "log", "ln", "exp", "sin", "cos", "tan", "cot", "sec",
    "csc", "arcsin", "arccos", "arctan", "and", "or", "to", "over", "times", "plus", "minus",
    "divided", "i", "e", "j", "x", "y", "z", "n", "k", "sqrt", "frac", "cdot", "mod",
}
_ONE_LETTER_UNITS = {"m", "g", "s", "l", "L", "h", "K", "N", "J", "W", "V", "A", "t", "d"}
_UNIT_SUFFIX = re.compile(
    r"(?:(?<=\d)|\s+)(?P<unit>[a-zA-Z]+(?:\s*\^\s*\{?\d\}?|/[a-zA-Z]+(?:\^\{?\d\}?)?)?\.?)$"
    r"|(?P<cjk>[\u4e00-\u9fff]+)$"
)
# CJK characters that are numerals: a trailing run containing them is a number, not a unit.
_CJK_NUMERALS = set("零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟点负分之")


@dataclass(frozen=True)
class Number:
    """A parsed plain number.

    ``percent`` says a % sign was written (``value`` is the number before it); ``approximate`` says
    it was written with a decimal point or exponent, so it is compared after rounding.
    """

    value: Fraction
    percent: bool = False
    approximate: bool = False

    def __str__(self) -> str:
        v = self.value
        text = str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
        return text + ("%" if self.percent else "")


def _strip_units(text: str) -> tuple[str, int]:
    """Drop trailing unit words and scale words; return the rest and the scale factor."""
    scale = 1
    for _ in range(4):  # "3.5 million square feet" has at most a few trailing words
        m = _UNIT_SUFFIX.search(text)
        if m is None:
            break
        word = m.group("unit") or m.group("cjk")
        if m.group("cjk") is not None and _CJK_NUMERALS & set(word):
            break
        bare = word.rstrip(".").lower()
        if bare in _SCALES:
            scale *= _SCALES[bare]
        elif m.group("unit") and (bare in _NOT_UNITS or len(bare) == 1 and word[0] not in _ONE_LETTER_UNITS):
            break
        elif m.group("unit") and len(bare) < 2 and text[m.start("unit") - 1].isdigit():
            break  # "5m" is ambiguous enough to leave alone; "5 m" and "5cm" are units
        text = text[: m.start()].rstrip()
    return text, scale


def _digits(match: re.Match) -> str:
    """The body of a matched number as Python reads it: separators dropped, a decimal comma made a point."""
    body = match.group("body")
    if match.group("european"):
        body = re.sub(r"[.\s']", "", body)
    elif not match.group("comma"):
        return re.sub(r"[,\s']|\{,\}", "", body)
    return body.replace("{,}", ".").replace(",", ".")


def normalize_commas(text: str) -> str:
    """Drop thousands commas and turn a lone decimal comma into a point, in every run of digits.

        >>> normalize_commas("1,234,567 和 2,5 和 0,250")
        '1234567 和 2.5 和 0.250'
    """

    def fix(m: re.Match) -> str:
        run = m.group(0)
        if re.fullmatch(r"[1-9]\d{0,2}(?:,\d{3})+", run):
            return run.replace(",", "")
        return run.replace(",", ".") if run.count(",") == 1 else run

    return re.sub(r"\d+(?:,\d+)+", fix, text)


def _decimal(sign: str | None, digits: str, exp: str | None) -> Fraction | None:
    if len(digits) > _MAX_DIGITS or (exp is not None and abs(int(exp)) > _MAX_EXPONENT):
        return None
    value = Fraction(digits) * (Fraction(10) ** int(exp) if exp else 1)
    return -value if sign == "-" else value


def _parse_core(text: str) -> tuple[Fraction, bool] | None:
    """Parse a bare number or simple fraction; return (value, approximate)."""
    m = _NUMBER_RE.fullmatch(text)
    if m:
        exp = m.group("exp") or m.group("exp2")
        digits = _digits(m)
        value = _decimal(m.group("sign"), digits, exp)
        if value is None:
            return None
        return value, ("." in digits or exp is not None)
    m = _SLASH_FRAC_RE.fullmatch(text)
    if m:
        num, den = m.group("num"), m.group("den")
    else:
        m = _TEX_FRAC_RE.fullmatch(text)
        if m is None:
            return None
        num = (m.group("sign") or "") + (m.group("num") or m.group("num1"))
        num = num.replace("+-", "-").replace("-+", "-").replace("--", "")
        den = m.group("den") or m.group("den1")
    num, den = num.replace(" ", ""), den.replace(" ", "")
    if len(num) + len(den) > _MAX_DIGITS or Fraction(den) == 0:
        return None
    return Fraction(num) / Fraction(den), ("." in num or "." in den)


@lru_cache(maxsize=16384)  # the fast paths ask about the same answer more than once
def parse_number(text: str) -> Number | None:
    r"""Parse ``text`` as a plain number, or return ``None``.

    >>> str(parse_number(r"\frac{-3}{4}"))
    '-3/4'
    >>> str(parse_number("2.5 million dollars"))
    '2500000'
    >>> parse_number(r"2\sqrt{2}") is None
    True
    """
    if len(text) > 400:
        return None
    s = clean(_MATH_THOUSANDS.sub(",", text))
    if not s or len(s) > 200:
        return None
    s = _ASSIGNMENT_PREFIX.sub("", s)
    percent = False
    scale = 1
    for _ in range(3):  # units, %, degrees and currency can come in any order: "$5.00 USD", "50 %"
        before = s
        s, more = _strip_units(s)
        scale *= more
        s, n_pct = _PERCENT_SUFFIX.subn("", s)
        percent = percent or n_pct > 0
        s = _DEGREE_SUFFIX.sub("", s)
        s = _CURRENCY_PREFIX.sub("", _CURRENCY_SUFFIX.sub("", s)).strip()
        if s.startswith("-") and _CURRENCY_PREFIX.match(s[1:].lstrip()):  # "-$5"
            s = "-" + _CURRENCY_PREFIX.sub("", s[1:].lstrip())
        if s == before:
            break
    parsed = _parse_core(s)
    if parsed is None:
        return None
    value, approximate = parsed
    return Number(value * scale, percent=percent, approximate=approximate)


def _close(a: Fraction, b: Fraction, approximate: bool, places: int, tolerance: Tolerance | None) -> bool:
    if a == b:
        return True
    if tolerance is not None:  # the caller's stated tolerance replaces the rounding rule
        return tolerance.close(a, b)
    # A decimal like 0.333333 stands for 1/3; compare at `places` decimals like math-verify's
    # float_rounding. Exact inputs (integers, fractions) must match exactly: 1000000 != 1000001.
    return approximate and round(a, places) == round(b, places)


def numbers_equal(gold: Number, pred: Number, places: int = 6, tolerance: Tolerance | None = None) -> bool:
    """Compare two parsed numbers (within ``tolerance`` when one is given, see ``tolerance.py``).

    The percent rule: when exactly one side has a % sign, it matches either reading of itself
    (``50%`` matches ``50`` and ``0.5``); when both or neither have one, values compare directly.

        >>> numbers_equal(parse_number("50"), parse_number("50%"))
        True
        >>> numbers_equal(parse_number("0.5"), parse_number("50"))
        False
        >>> numbers_equal(parse_number("1/3"), parse_number("0.333333"))
        True
    """
    approximate = gold.approximate or pred.approximate
    if gold.percent == pred.percent:
        return _close(gold.value, pred.value, approximate, places, tolerance)
    pct, other = (gold, pred) if gold.percent else (pred, gold)
    return any(_close(v, other.value, approximate, places, tolerance) for v in (pct.value, pct.value / 100))
