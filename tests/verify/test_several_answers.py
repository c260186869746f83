"""Answers in several parts: runs of boxes, lists and sets, ``name = value`` items, the order policy.

Inputs written here; the right answer of each is known. (The external measure of the same phenomena
is bench/answer_check_external.py, on other projects' pairs.)
"""

from __future__ import annotations

import pytest

from synth.verify import check, check_many, extract_answer
from synth.verify.extract import joins_answers
from synth.verify.multi import align, items, split_name


@pytest.mark.parametrize(
    ("text", "answer", "pattern"),
    [
        (r"So $x = \boxed{2}$ or $x = \boxed{-7}$.", "2, -7", "boxes"),
        (r"The two roots: \boxed{4}, \boxed{9}.", "4, 9", "boxes"),
        (r"\boxed{(0, 1)} \text{ in part (i), and } \boxed{(2, 5)} \text{ in part (ii)}", "(0, 1), (2, 5)", "boxes"),
        (r"\[ \boxed{p = 3} \qquad \boxed{q = 11} \]", "p = 3, q = 11", "boxes"),
        (r"(a) \boxed{12}; (b) \boxed{40}", "12, 40", "boxes"),
        ("donc \\boxed{6} et \\boxed{15}", "6, 15", "boxes"),
        ("解得 \\boxed{3} 或 \\boxed{-1}", "3, -1", "boxes"),
        # a later box after reasoning revises the earlier one: only the last counts
        (r"I get \boxed{10}. Checking again, the count double-counts one case, so \boxed{9}.", "9", "boxed"),
        (r"\boxed{10}" + "\n\n" + r"\boxed{9}", "9", "boxed"),
        (r"\boxed{9}, i.e. \boxed{9}", "9", "boxed"),  # the same answer twice is one answer
    ],
)
def test_runs_of_boxes_are_one_answer(text, answer, pattern):
    assert tuple(extract_answer(text)) == (answer, pattern)


def test_joins_answers():
    assert joins_answers(r" \quad \text{and} \quad ")
    assert joins_answers(", ")
    assert joins_answers(r"$ and $")
    assert not joins_answers(" ")  # adjacent boxes with nothing between: no list
    assert not joins_answers(". Wait, that is wrong; the answer is ")
    assert not joins_answers(" apples, and the cost is ")


def test_items_keep_numbers_and_brackets_whole():
    assert items("2, 7, 11") == ["2", "7", "11"]
    assert items(r"\{-1, 4\}") == ["-1", "4"]
    assert items("(1, 3), (2, 2)") == ["(1, 3)", "(2, 2)"]
    assert items(r"5 \text{ and } 13") == ["5", "13"]
    assert items("x = 2 or x = 3") == ["x = 2", "x = 3"]
    assert items("12,500") == [] and items("2,5") == [] and items(r"3,\!600") == []
    assert items("(1, 4]") == [] and items(r"[0, \pi)") == [] and items("(2, 3)") == []
    assert items("Lewis and Clark") == []


def test_names():
    assert split_name("t_{0} = 4") == ("t_0", "4")
    assert split_name("g(t) = t^2 - 1") == ("g(t)", "t^2 - 1")
    assert split_name("a + b = 7") == (None, "a + b = 7")
    assert split_name("t^3 = 8") == (None, "t^3 = 8")
    assert align(["u = 1", "v = 2"], ["v = 2", "u = 1"]) == (["1", "2"], ["1", "2"], True)
    assert align(["u = 1", "v = 2"], ["2", "1"]) == (["1", "2"], ["2", "1"], False)


@pytest.mark.parametrize(
    ("gold", "pred", "status"),
    [
        # several boxes against a list or a set
        ("2, -7", r"The roots are $x = \boxed{-7}$ and $x = \boxed{2}$.", "correct"),
        (r"\{4, 9\}", r"\boxed{9}, \boxed{4}", "correct"),
        ("4, 9", r"\boxed{4} and \boxed{8}", "incorrect"),
        ("4, 9", r"The answer is \boxed{4}.", "incorrect"),  # one of two
        ("4, 9", r"\boxed{4}, \boxed{9}, \boxed{16}", "incorrect"),  # one too many
        ("4", r"\boxed{4} or \boxed{9}", "incorrect"),  # hedging between two is not the answer
        ("(0, 1), (2, 5)", r"\boxed{(2, 5)} \text{ and } \boxed{(0, 1)}", "correct"),
        ("(0, 1), (2, 5)", r"\boxed{(5, 2)} \text{ and } \boxed{(0, 1)}", "incorrect"),  # a tuple stays ordered
        # a gold written as boxes
        (r"\boxed{3}, \boxed{5}", "5, 3", "correct"),
        # equations as items: by name, or values when one side has no names
        ("p = 3, q = 11", r"\boxed{q = 11} \quad \text{and} \quad \boxed{p = 3}", "correct"),
        ("p = 3, q = 11", r"\boxed{p = 11} \quad \text{and} \quad \boxed{q = 3}", "incorrect"),
        (r"t_{1} = \frac{1}{2}, t_{2} = 4", r"\boxed{4} and \boxed{0.5}", "correct"),
        (r"t_{1} = \frac{1}{2}, t_{2} = 4", r"\boxed{4} and \boxed{0.25}", "incorrect"),
        ("g(t) = t, g(t) = -t", r"\boxed{g(t) = -t} and \boxed{g(t) = t}", "correct"),
        # values that need sympy inside a list
        (r"\frac{\sqrt{2}}{2}, 3", r"\boxed{3} and \boxed{\frac{1}{\sqrt{2}}}", "correct"),
        (r"\frac{\sqrt{2}}{2}, 3", r"\boxed{3} and \boxed{\sqrt{2}}", "incorrect"),
        # a list in words
        (r"5 \text{ and } 13", "13, 5", "correct"),
        # commas inside numbers: thousands and a lone decimal comma stay numbers, beside a list 3,5 is a list
        ("4,000", "4, 000", "incorrect"),
        ("4,000", "4000", "correct"),
        ("2,5", "2, 5", "correct"),
        ("2,5", "2.5", "correct"),
        ("2, 5", "5, 2", "correct"),
    ],
)
def test_several_answers(gold, pred, status):
    verdict = check(gold, pred)
    assert verdict.status == status, verdict


@pytest.mark.parametrize(
    ("gold", "pred", "status"),
    [
        (r"v_{\max} = \frac{3}{2}", "1.5", "correct"),
        (r"v_{\max} = \frac{3}{2}", "2.5", "incorrect"),
        (r"h(w) = w^2 + 2w", "w(w + 2)", "correct"),
        (r"h(w) = w^2 + 2w", r"\boxed{h(w) = w(w+2)}", "correct"),
        (r"h(w) = w^2 + 2w", r"\boxed{h(w) = w(w-2)}", "incorrect"),
        ("y_1 = (t + 2)^2 - 1", "y_{1} = t^2 + 4t + 3", "correct"),
        ("y_1 = (t + 2)^2 - 1", "y_{1} = t^2 + 4t + 5", "incorrect"),
        ("m = 4", "n = 4", "correct"),  # one value: the name is not compared (the gold's naming is not the model's)
        (r"E_{\mathrm{k}} = 12", r"E_{k}=12", "correct"),
        (r"\frac{q}{4 \pi \varepsilon_{0} r}", r"\frac{q}{4 \pi r \varepsilon_{0}}", "correct"),  # a label subscript
    ],
)
def test_equations_and_values(gold, pred, status):
    verdict = check(gold, pred)
    assert verdict.status == status, verdict


@pytest.mark.parametrize("order", ["tuples", "all", "none"])
def test_order_policy_is_followed_and_reported(order):
    bare = check("3, 8", r"\boxed{8} and \boxed{3}", order=order)
    assert bare.status == ("incorrect" if order == "all" else "correct")
    assert bare.order == order and "answers compared" in bare.detail
    assert ("in order" in bare.detail) == (order == "all")
    pair = check("(3, 8)", "(8, 3)", order=order)
    assert pair.status == ("correct" if order == "none" else "incorrect")
    assert pair.order == order
    as_set = check(r"\{3, 8\}", "8, 3", order=order)
    assert as_set.status == "correct" and as_set.order == order  # a set is never ordered
    named = check("a = 3, b = 8", "b = 8, a = 3", order=order)
    assert named.status == "correct" and "by name" in named.detail  # names fix the order whatever the policy
    assert check("a = 3, b = 8", "a = 8, b = 3", order=order).status == "incorrect"


def test_to_dict_carries_the_policy_and_check_many_agrees():
    assert check("3, 8", "8, 3").to_dict()["order"] == "tuples"
    assert "order" not in check("3", "3.0").to_dict()
    pairs = [("3, 8", r"\boxed{8} and \boxed{3}"), (r"\frac{\sqrt{2}}{2}, 3", r"\boxed{3} and \boxed{\frac{1}{\sqrt{2}}}"),
             ("(3, 8)", "(8, 3)")]
    for order in ("tuples", "all"):
        assert [v.status for v in check_many(pairs, order=order)] == [check(g, p, order=order).status for g, p in pairs]
        assert all(v.order == order for v in check_many(pairs, order=order))
