from __future__ import annotations

import pytest

from synth.verify import extract_answer


@pytest.mark.parametrize(
    ("text", "answer", "pattern"),
    [
        (r"Thus $\boxed{\frac{1}{2}}$.", r"\frac{1}{2}", "boxed"),
        (r"\boxed{\frac{\sqrt{3}}{\left(2+\frac{1}{2}\right)}}", r"\frac{\sqrt{3}}{\left(2+\frac{1}{2}\right)}", "boxed"),
        (r"The set is \boxed{\{1, 2\}}", r"\{1, 2\}", "boxed"),  # escaped braces are not nesting
        (r"First \boxed{3}, corrected: \boxed{4}", "4", "boxed"),  # the last box wins
        (r"ok \boxed{5} then truncated \boxed{\frac{1}{", "5", "boxed"),  # an unclosed box is skipped
        (r"\fbox{42}", "42", "fbox"),
        (r"so \boxed 7.", "7", "boxed"),
        ("Natalia sold 48/2 = 24 clips.\n#### 72", "72", "hash"),
        ("#### 1,000\n", "1,000", "hash"),
        ("所以答案是 12。", "12", "zh_answer"),
        ("最终答案：$\\frac{3}{4}$", "\\frac{3}{4}", "zh_answer"),
        ("答案为 B", "B", "zh_answer"),
        ("The answer is 3.5. That is all.", "3.5", "answer_is"),
        ("So the final answer is (C) because it fits.", "(C)", "answer_is"),
        ("The answer is $x = 2$.", "x = 2", "answer_is"),
        ("We get 3 and 4.\nAnswer: 7", "7", "answer_colon"),
        ("**Final Answer:** 12 apples", "12 apples", "answer_colon"),
        ("Some steps.\n\n# Answer\n\n17", "17", "answer_colon"),
        ("She has 3 + 4 = 7 apples, then gives away 2, leaving 5.", "5", "last_number"),
        ("The share is -0.25 of it", "-0.25", "last_number"),
        ("It costs 1,250 dollars.", "1,250", "last_number"),
        ("No numbers here.", None, "none"),
        # several written markers: the last one wins (a box would still beat them)
        ("The answer is 5. Wait, 5 + 2 = 7.\nThe answer is 7.", "7", "answer_is"),
        ("So the answer is 5.\nChecking again... Final answer: 7", "7", "answer_colon"),
        ("答案是 5。检查后发现漏了两个，最终答案：7", "7", "zh_answer"),
        ("Final Answer: The final answer is $10$. I hope it is correct.", "10", "answer_is"),
        # other languages
        ("On additionne 30 et 12.\nLa réponse est 42.", "42", "answer_is"),
        ("Réponse : 8 pommes", "8 pommes", "answer_colon"),
        ("Die Antwort ist 12.", "12", "answer_is"),
        # no marker: the value the text ends on
        (r"so the ratio is $\frac{3}{4}$.", r"\frac{3}{4}", "last_math"),
        ("It costs $5, and the tax is $2.", "2", "last_number"),  # dollar signs are not math here
        ("所以盒子里一共有十五个球。", "十五", "last_number"),
        ("所以她一共走了 18 千米。", "18", "last_number"),  # 千米 is a unit, not a numeral
        # reasoning models
        ("<think>Is it 4? No: 2 + 3 = 5.</think>The answer is 5.", "5", "answer_is"),
        ("<think>maybe \\boxed{4}</think>\n\nSo it is 5.", "5", "last_number"),  # after </think> wins
        ("<think>the answer is \\boxed{6}</think>", "6", "boxed"),  # nothing after: the thinking's marker
        ("Reasoning without an opening tag.</think> \\boxed{8}", "8", "boxed"),
        ("<think>There are 9 cats and 4 more, so 9 + 4 =", None, "none"),  # cut off while thinking
        ("", None, "none"),
        (None, None, "none"),
    ],
)
def test_extract_answer(text, answer, pattern):
    assert tuple(extract_answer(text)) == (answer, pattern)


def test_boxed_wins_over_later_markers():
    text = r"The answer is $\boxed{10}$. Answer: 11"
    assert extract_answer(text).answer == "10"
