"""Whole solutions as the prediction: the final answer is read first, and the verdict says how."""

from __future__ import annotations

import pytest

from synth.verify import check, check_many
from synth.verify.solution import is_prose, read_prediction


def reasoning_output(thinking_lines: int, final: str) -> str:
    """A reasoning model's output: long thinking full of other numbers, then a short answer."""
    lines = [f"Attempt {i}: {i} rows of {i + 7} seats would be {i * (i + 7)}, not what we need." for i in range(thinking_lines)]
    return "<think>\n" + "\n".join(lines) + "\n</think>\n\n" + final


def test_long_reasoning_output_with_a_box_just_works():
    text = reasoning_output(60, r"The hall seats $\boxed{391}$ people.")
    assert len(text) > 3000
    verdict = check("391", text)
    assert (verdict.status, verdict.method, verdict.extraction) == ("correct", "exact", "boxed")
    assert check("390", text).status == "incorrect"  # 390 is never the final answer


def test_a_number_met_while_thinking_is_not_the_answer():
    text = reasoning_output(10, r"So $\boxed{17}$.")
    assert "Attempt 3: 3 rows of 10 seats would be 30" in text
    assert check("30", text).status == "incorrect"


def test_output_cut_off_while_thinking_has_no_answer():
    verdict = check("13", "<think>\n9 cats and 4 more: 9 + 4 = 13")
    assert (verdict.status, verdict.extraction) == ("no_answer", "none")
    assert "<think>" in verdict.detail


def test_the_last_explicit_marker_wins_and_is_recorded():
    text = "The answer is 5.\nWait, I missed two boxes: 5 + 2 = 7.\nFinal answer: 7"
    assert check("7", text).extraction == "answer_colon" and check("7", text).correct
    assert check("5", text).status == "incorrect"


def test_an_answer_line_with_an_expression_is_read_whole():
    verdict = check("2x+3", "Differentiate term by term.\nAnswer: 3 + 2x")
    assert (verdict.status, verdict.method, verdict.extraction) == ("correct", "math_verify", "answer_colon")


@pytest.mark.parametrize(
    ("gold", "text", "status", "extraction"),
    [
        ("18", "小红先走了 6 千米，又走了 12 千米，所以她一共走了 18 千米。", "correct", "last_number"),
        ("15", "所以盒子里一共有十五个球。", "correct", "last_number"),
        ("45", "每盒 9 支，5 盒一共 9×5=45 支。答案：45 支", "correct", "zh_answer"),
        ("42", "On additionne 30 et 12.\nLa réponse est 42.", "correct", "answer_is"),
        ("41", "On additionne 30 et 12.\nLa réponse est 42.", "incorrect", "answer_is"),
        ("72", "In April she sold 48 clips and in May 24, so 48 + 24 = 72 in all.", "correct", "last_number"),
    ],
)
def test_sentences_in_three_languages(gold, text, status, extraction):
    verdict = check(gold, text)
    assert (verdict.status, verdict.extraction) == (status, extraction)


def test_a_gold_solution_gives_its_marked_answer():
    verdict = check("Half of 48 is 24 clips in May.\n#### 72", "72 clips")
    assert (verdict.status, verdict.gold_extraction, verdict.extraction) == ("correct", "hash", None)
    assert "gold_extraction" in verdict.to_dict() and "extraction" not in verdict.to_dict()


def test_plain_answers_are_not_read_as_prose():
    for answer in ["72 clips", "三百二十五", "x = 5", "(1, 2)", "2.5 million", "no solution"]:
        assert read_prediction(answer, lambda s: False).pattern is None, answer
    assert not is_prose("12 apples") and is_prose("He walked 18 km in all today.")


def test_check_many_keeps_each_pairs_own_extraction():
    # one math-verify comparison for the three (same answers), three ways of finding them
    pairs = [(r"\sqrt{8}", r"Answer: 2\sqrt{2}"), (r"\sqrt{8}", r"so it is \boxed{2\sqrt{2}}."), (r"\sqrt{8}", r"2\sqrt{2}")]
    verdicts = check_many(pairs)
    assert [v.extraction for v in verdicts] == ["answer_colon", "boxed", None]
    assert {(v.status, v.method) for v in verdicts} == {("correct", "math_verify")}


@pytest.mark.parametrize(
    ("gold", "pred", "order", "status"),
    [
        ("(1, 2)", "(2, 1)", "tuples", "incorrect"),
        ("1, 2", "2, 1", "tuples", "correct"),
        ("1, 2, 3", "3, 2, 1", "all", "incorrect"),
        ("1, 2, 3", "1,2,3", "all", "correct"),
        (r"\{1, 2\}", "2, 1", "all", "correct"),  # braces always mean a set
        ("(1, 2, 3)", "(3, 1, 2)", "none", "correct"),
        ("(1, 2, 3)", "(3, 1, 4)", "none", "incorrect"),
    ],
)
def test_order_policy(gold, pred, order, status):
    assert check(gold, pred, order=order).status == status


def test_an_unknown_order_policy_is_refused():
    with pytest.raises(ValueError, match="order must be one of tuples, all, none"):
        check("1", "1", order="sorted")
