"""The parsers behind the fast paths: numbers, Chinese numerals, option letters."""

from __future__ import annotations

from fractions import Fraction

import pytest

from synth.verify import find_choice, gold_choice, gold_option, numbers_equal, parse_chinese_number, parse_number


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
    ["3, 5", "1,2,3", "2x", "5x", r"\sqrt{2}", "3 pi", "(1, 2)", "1/0", "1e999999999", "9" * 1000, "5 feet 3", "",
     "abc", "1,23,4"],
)
def test_not_a_plain_number(text):
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3,5", Fraction(7, 2)), ("0,250", Fraction(1, 4)), ("1,2345", Fraction(12345, 10000)),
        ("1234,5", Fraction(2469, 2)), ("1.234,5", Fraction(2469, 2)), ("1 234,5", Fraction(2469, 2)),
        ("1'234,5", Fraction(2469, 2)), ("12,75 €", Fraction(51, 4)), ("-0,75", Fraction(-3, 4)),
        (r"3{,}14", Fraction(157, 50)), ("1.234.567", 1234567),
        # a comma before exactly three digits groups thousands, as in math-verify
        ("1,234", 1234), ("12,500", 12500), (r"1{,}000", 1000), ("1,000,000", 1000000),
    ],
)
def test_decimal_commas_and_thousands(text, value):
    assert parse_number(text).value == value


@pytest.mark.parametrize(
    ("text", "value"),
    [(r"\$1,\!000", 1000), (r"\$12,\!345.60", Fraction(61728, 5)), (r"\$2\,400", 2400), (r"\$10\!000", 10000),
     (r"\$1{,}000", 1000), ("3,50 $", Fraction(7, 2))],
)
def test_math_style_money(text, value):
    assert parse_number(text).value == value


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
        ("2,5元", Fraction(5, 2)), ("1,200元", 1200),
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


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("A is too small and C counts the corners twice, which leaves B.", "B"),
        ("Not (A): it overcounts. Not (C) either. (D) fits.", "D"),
        ("A triangle has three sides, so B.", "B"),  # "A" the article is not an option
        ("I think it's D.", "D"),
        ("It can't be A or C, so the answer must be B", "B"),
        ("At first I picked B, but actually the answer is C.", "C"),
        ("排除 A 和 B，正确的是 C。", "C"),
        ("B、C、D 都不符合题意，故选 A。", "A"),
        ("选项B正确", "B"),
        ("La bonne réponse est C : A et B sont exclues.", "C"),
        ("On élimine A et D, donc B.", "B"),
        ("It is either B or C.", None),
        ("A, B and C are all wrong.", None),  # ruling out is not choosing
    ],
)
def test_option_letters_in_prose(text, letter):
    assert find_choice(text) == letter


@pytest.mark.parametrize(
    "template",
    ["The answer is {x}, not {g}.", "{g} looks right, but the correct choice is {x}.", "答案是 {x}，不是 {g}。",
     "排除 {g}，选 {x}。", "La réponse est {x}, pas {g}.", "On élimine {g}, donc {x}."],
)
def test_a_rejected_gold_letter_never_counts(template):
    for g in "ABCD":
        for x in "ABCD".replace(g, ""):
            assert find_choice(template.format(g=g, x=x)) == x, template.format(g=g, x=x)


def test_gold_options_with_text():
    assert gold_option("B. 3/4") == ("B", "3/4") and gold_option("(C) 12 cm") == ("C", "12 cm")
    assert gold_option("C. 二十") == ("C", "二十") and gold_option("B") == ("B", None)
    assert gold_option("x") is None and gold_option("3/4") is None
