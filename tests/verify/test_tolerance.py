r"""A tolerance stated beside a pair (``check(..., rel_tol=, abs_tol=)``): numbers, list items (one bound
per gold answer, as OlympiadBench's judge states them), math-verify's numeric fallback, and the policy
named on the verdict. The OlympiadBench pairs are the ones its eval/scoring_examples.json labels under a
precision; the others are written here."""

from __future__ import annotations

import pytest

from synth.errors import ConfigError, ToleranceError
from synth.verify import WorkerPool, check, check_many

COS = r"\cos ^{10}(\frac{\pi}{10})"  # 0.605463...


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool(size=1)
    yield pool
    pool.close()


def test_without_a_tolerance_the_policy_is_unchanged_and_not_named():
    verdict = check("1/3", "0.333333")
    assert verdict.correct and verdict.tolerance is None and "tolerance" not in verdict.to_dict()
    assert not check("1000000", "1000001").correct
    assert not check(r"7 \times 10^{35}", r"7.1 \cdot 10^{35}").correct


@pytest.mark.parametrize(("kwargs", "status", "detail"), [
    ({"abs_tol": 1e34}, "correct", "equal within abs_tol=1e+34"),
    ({"abs_tol": [1e33]}, "incorrect", "further apart than abs_tol=1e+33"),
    ({"rel_tol": 0.015}, "correct", "equal within rel_tol=0.015"),
    ({"rel_tol": 0.01}, "incorrect", "further apart than rel_tol=0.01"),
])
def test_numbers_within_the_stated_bound(kwargs, status, detail):
    verdict = check(r"7 \times 10^{35}", r"7.1 \cdot 10^{35}", **kwargs)
    assert (verdict.status, verdict.method, verdict.detail) == (status, "number", detail)
    assert verdict.tolerance == detail.split(" ")[-1] and verdict.to_dict()["tolerance"] == verdict.tolerance


def test_a_tolerance_replaces_the_six_places_rounding_and_keeps_the_percent_rule():
    assert check("1/3", "0.333333", rel_tol=1e-9).detail == "further apart than rel_tol=1e-09"
    assert check("1/3", "0.3333", abs_tol=1e-4).correct
    assert check("50%", "0.499", abs_tol=0.001).correct and not check("50%", "0.49", abs_tol=0.001).correct
    assert check("18", "$18.00", abs_tol=0.5).detail is None  # equal values: nothing to explain


def test_list_items_each_held_to_their_gold_answers_bound():
    gold, pred = r"7 \times 10^{35}, 0.002", r"0.001, 7.1 \cdot 10^{35}"
    verdict = check(gold, pred, abs_tol=[1e34, 0.001])  # OlympiadBench: one precision per answer
    assert (verdict.status, verdict.method, verdict.order, verdict.tolerance) == \
        ("correct", "list", "tuples", "abs_tol=[1e+34, 0.001]")
    assert "as a multiset (order='tuples', abs_tol=[1e+34, 0.001])" in verdict.detail
    assert not check(gold, pred, abs_tol=[0.001, 1e34]).correct  # the bounds belong to the gold's answers in order
    assert check("0.003, 5.233", "0.002, 5.234", abs_tol=0.001).correct  # one bound: every answer
    assert not check("0.003, 5.233", "0.002, 5.236", abs_tol=[0.001]).correct


def test_math_verify_is_held_to_the_bound_where_both_sides_are_one_number(pool):
    for inline in (True, False):
        near = check(COS, "0.6054", abs_tol=1e-4, pool=pool, inline=inline)
        assert (near.status, near.method, near.tolerance) == ("correct", "math_verify", "abs_tol=0.0001")
        assert near.detail == "equal within the tolerance"
        far = check(COS, "0.6054", abs_tol=1e-5, pool=pool, inline=inline)
        assert (far.status, far.detail) == ("incorrect", "further apart than the tolerance")
    assert not check(COS, "0.6054", pool=pool).correct  # no tolerance: math-verify's 6 places
    symbolic = check("x^2 + 1", "1 + x^2", abs_tol=0.1, pool=pool)  # not a number: math-verify decides
    assert symbolic.correct and symbolic.detail is None and symbolic.tolerance is None


def test_check_many_holds_every_pair_to_the_bound():
    verdicts = check_many([("2", "2.05"), ("2", "2.2"), ("2", "2.05")], abs_tol=0.1)
    assert [v.status for v in verdicts] == ["correct", "incorrect", "correct"]
    assert {v.tolerance for v in verdicts} == {"abs_tol=0.1"}


def test_bad_tolerances_are_refused_naming_the_argument():
    with pytest.raises(ToleranceError, match="abs_tol must be a number >= 0"):
        check("1", "1.1", abs_tol=-1)
    with pytest.raises(ToleranceError, match="rel_tol must be a number >= 0"):
        check("1", "1.1", rel_tol=[])
    with pytest.raises(ToleranceError, match="abs_tol gives 3 tolerances but the gold '1, 2' has 2 answers"):
        check("1, 2", "2.5, 1", abs_tol=[0.1, 0.1, 0.1])


def test_a_list_of_one_bound_fits_a_one_answer_gold(pool):
    assert check("5", "5.1", abs_tol=[0.2]).tolerance == "abs_tol=0.2"
    assert not check("5", "5.1", rel_tol=[0.01]).correct and check("5", "5.1", rel_tol=[0.05]).correct
    near = check(COS, "0.6054", abs_tol=[1e-4], pool=pool)  # math-verify's numeric fallback too
    assert (near.status, near.tolerance) == ("correct", "abs_tol=0.0001")


@pytest.mark.parametrize("name", ["abs_tol", "rel_tol"])
@pytest.mark.parametrize(("gold", "pred", "bounds", "expected"), [
    ("5", "5.1", [0.2, 0.3], "gives 2 tolerances but the gold '5' has 1 answer: give one per gold answer"),
    ("5", "5, 6", [0.2, 0.3], "gives 2 tolerances but the gold '5' has 1 answer"),  # whatever the prediction
    ("x^2 + 1", "1 + x^2", [0.1, 0.1], "gives 2 tolerances but the gold 'x^2 + 1' has 1 answer"),
    ("1, 2", "3", [0.1, 0.1, 0.1], "gives 3 tolerances but the gold '1, 2' has 2 answers"),
    # refused before the shortcuts: the same text, no answer at all
    ("5", "5", [0.1, 0.2], "gives 2 tolerances but the gold '5' has 1 answer"),
    ("5", "", [0.1, 0.2], "gives 2 tolerances but the gold '5' has 1 answer"),
    ("5", None, [0.1, 0.2], "gives 2 tolerances but the gold '5' has 1 answer"),
    ("5", "<think>5", [0.1, 0.2], "gives 2 tolerances but the gold '5' has 1 answer"),
    # the gold counted alone: 3,5 is 3.5 whether the prediction is a list or not
    ("3,5", "3, 5", [0.1, 0.2], "gives 2 tolerances but the gold '3,5' has 1 answer"),
    ("3,5", "3.5", [0.1, 0.2], "gives 2 tolerances but the gold '3,5' has 1 answer"),
    # named as written, not as the value compared
    ("x = 5", "5", [0.1, 0.2], "gives 2 tolerances but the gold 'x = 5' has 1 answer"),
    ("x = 5", "x = 5.05", [0.1, 0.2], "gives 2 tolerances but the gold 'x = 5' has 1 answer"),
    ("B", "B", [0.1, 0.2], "gives 2 tolerances but the gold 'B' has 1 answer"),
])
def test_a_count_that_does_not_fit_the_gold_is_one_clear_error(name, gold, pred, bounds, expected):
    with pytest.raises(ToleranceError) as caught:
        check(gold, pred, **{name: bounds})
    message = str(caught.value)
    assert message.startswith(f"{name} {expected}") and "\n" not in message
    assert message.endswith("or a single number for all")
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, ValueError)  # old callers still catch it
    with pytest.raises(ToleranceError):
        check_many([("1", "1"), (gold, pred)], **{name: bounds})


def test_a_count_that_fits_the_gold_holds_whatever_the_prediction():
    assert check("1, 2", "1, 2", abs_tol=[0.1, 0.2]).correct  # the exact shortcut
    assert check("1, 2", "", abs_tol=[0.1, 0.2]).status == "no_answer"
    assert check("1, 2", "2.15, 1", abs_tol=[0.1, 0.2]).correct  # the gold's 2 holds 0.2, whatever the order
    assert not check("1, 2", "1.15, 2", abs_tol=[0.1, 0.2]).correct
    assert check("3,5", "3, 5", abs_tol=[0.1]).correct and check("3,5", "3.55", abs_tol=[0.1]).correct
    assert check("(C) 1, 2", "1.05, 2", abs_tol=[0.1, 0.2]).correct  # an option's text is its answers
    assert [v.status for v in check_many([("1, 2", "1, 2"), ("1, 2", None), ("3, 4", "4.1, 3")],
                                         abs_tol=[0.1, 0.2])] == ["correct", "no_answer", "correct"]
