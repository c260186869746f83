"""The parsers behind the fast paths: numbers, Chinese numerals, option letters."""

from __future__ import annotations

from fractions import Fraction

import pytest

from synth.verify import find_choice, gold_choice, numbers_equal, parse_chinese_number, parse_number


@pytest.mark.parametrize(
    ("text", "value", "percent"),
    [
        ("1,234,567", 1234567, False),
        ("1 000", 1000, False),
        (r"\$1{,}000.50", Fraction(200100, 200), False),
        ("-$5", -5, False),
        ("12.5%", Fraction(25, 2), True),
        (r"50\%", 50, True),
        (r"\frac{-3}{4}", Fraction(-3, 4), False),
        (r"\dfrac34", Fraction(3, 4), False),
        ("6.02e23", 602 * 10**21, False),
        (r"3 \times 10^{-2}", Fraction(3, 100), False),
        ("2.5 million", 2_500_000, False),
        (r"90^{\circ}", 90, False),
        ("x = -4", -4, False),
        ("12 km/h", 12, False),
        ("15个", 15, False),
    ],
)
def test_parse_number(text, value, percent):
    number = parse_number(text)
    assert number is not None and number.value == value and number.percent == percent


@pytest.mark.parametrize(
    "text",
    ["3,5", "2x", "5x", r"\sqrt{2}", "3 pi", "(1, 2)", "1/0", "1e999999999", "9" * 1000, "5 feet 3", "", "abc"],
)
def test_not_a_plain_number(text):
    assert parse_number(text) is None


def test_percent_rule():
    n = parse_number
    assert numbers_equal(n("50%"), n("50")) and numbers_equal(n("50%"), n("0.5"))
    assert numbers_equal(n("0.5"), n("50%")) and numbers_equal(n("50%"), n("50 percent"))
    assert not numbers_equal(n("0.5"), n("50")) and not numbers_equal(n("50%"), n("5"))


def test_rounding_applies_only_to_decimals():
    n = parse_number
    assert numbers_equal(n("2/3"), n("0.666667"))
    assert not numbers_equal(n("2/3"), n("0.67"))
    assert not numbers_equal(n("1000000"), n("1000001"))  # exact inputs compare exactly


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("三百二十五", 325), ("两千零五", 2005), ("一万二千", 12000), ("一万二", 12000), ("三百五", 350),
        ("一千零一", 1001), ("十五", 15), ("二十", 20), ("一亿二千万", 120_000_000), ("二〇二四", 2024),
        ("〇", 0), ("负三", -3), ("三点一四", Fraction(157, 50)), ("二分之一", Fraction(1, 2)),
        ("3万", 30000), ("1.5亿", 150_000_000), ("壹佰贰拾叁", 123), ("三百五十元", 350), ("3千米", 3),
    ],
)
def test_chinese_numbers(text, value):
    assert parse_chinese_number(text).value == value


def test_chinese_percent_and_non_numbers():
    assert parse_chinese_number("百分之五十").percent
    assert parse_chinese_number("北京") is None and parse_chinese_number("12") is None


def test_option_letters():
    assert [gold_choice(t) for t in ["B", "(C)", "D.", r"\text{(A)}", "b", "x", "AB"]] == ["B", "C", "D", "A", None, None, None]
    assert find_choice("option b") == "B"
    assert find_choice("答案：D") == "D" and find_choice("应选C") == "C"
    assert find_choice("(B) 42") == "B" and find_choice("B. 42") == "B"
    assert find_choice("(A) or (B)") is None and find_choice("the answer is a bit unclear") is None
