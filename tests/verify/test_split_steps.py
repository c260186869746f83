from __future__ import annotations

from synth.verify import split_steps


def test_step_markers_keep_the_preamble():
    text = "Let's solve it.\nStep 1: 3 + 4 = 7.\nStep 2: 7 * 2 = 14.\nSo the answer is 14."
    assert split_steps(text) == ["Let's solve it.", "Step 1: 3 + 4 = 7.", "Step 2: 7 * 2 = 14.\nSo the answer is 14."]


def test_numbered_lines():
    text = "1. Add the apples: 3 + 4 = 7.\n2. Double it: 14.\n3) Subtract 4: 10."
    assert split_steps(text) == ["1. Add the apples: 3 + 4 = 7.", "2. Double it: 14.", "3) Subtract 4: 10."]


def test_a_decimal_at_line_start_is_not_a_step_marker():
    text = "1.5 kg of flour.\n2.5 kg of sugar."
    assert split_steps(text) == ["1.5 kg of flour.", "2.5 kg of sugar."]  # split by lines, not markers


def test_chinese_steps_on_one_line_and_on_many():
    assert split_steps("第一步：先算单价。第二步：再算总价。") == ["第一步：先算单价。", "第二步：再算总价。"]
    assert split_steps("第1步 求和\n第2步 求平均") == ["第1步 求和", "第2步 求平均"]


def test_paragraphs_then_lines_then_sentences():
    assert split_steps("First part.\nstill first.\n\nSecond part.") == ["First part.\nstill first.", "Second part."]
    assert split_steps("a = 1\nb = 2\n") == ["a = 1", "b = 2"]
    assert split_steps("He has 3.5 kg. She has 2 kg! Total? 5.5 kg.") == ["He has 3.5 kg.", "She has 2 kg!", "Total?", "5.5 kg."]
    assert split_steps("先求和。再求平均。") == ["先求和。", "再求平均。"]


def test_empty_and_single():
    assert split_steps("") == [] and split_steps(None) == [] and split_steps("  \n ") == []
    assert split_steps("just one") == ["just one"]
