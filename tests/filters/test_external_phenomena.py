"""The phenomena of issue 22 on inputs whose right answer is known: a named reply language, confidence of
language ID on short and list-like text, truncation from sentence structure, length relative to the
question, apologies that are no refusals, chat turns glued after the answer, final-answer on chat rows."""

from __future__ import annotations

import pytest

from synth import plugins
from synth.filter import as_decision
from synth.filters.lang_match import named_language
from synth.stages.filter import FilterStage


def rec(question: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}


def verdict(name: str, question: str, answer: str, **options):
    v = as_decision(plugins.load(plugins.FILTERS, name)(**options).filter(rec(question, answer)), name)
    return True if v.keep else (False, v.reason)


@pytest.mark.parametrize("question,code", [
    ("请用中文回答：What is an index fund?", "zh"), ("Answer in French: what is a bond?", "fr"),
    ("用英语写一封酒店预定信。", "en"), ("将以下文本翻译成英语：我想去旅行。", "en"), ("请将以下句子译为中文：Hello.", "zh"),
    ("Please respond only in Spanish.", "es"), ("以日语回答这个问题。", "ja"),
    ("How do you say 'good evening' in French?", None),     # the language is the subject, not the reply's
    ("List films that are in English and in the public domain.", None), ("什么是指数基金？", None),
])
def test_named_reply_language(question, code):
    assert named_language(question) == code


@pytest.mark.parametrize("question,answer,expected", [
    ("请用英文回答：什么是指数基金？", "指数基金是跟踪某个市场指数的基金。", (False, "lang_match_zh_not_en")),
    ("请用英文回答：什么是指数基金？", "An index fund is a fund that tracks a market index.", True),
    ("Answer in Chinese: what is an ETF?", "An ETF is a fund traded on an exchange like a stock.", (False, "lang_match_en_not_zh")),
    ("将以下文本翻译成英语：我想去旅行。", "我想去旅行。", (False, "lang_match_zh_not_en")),   # echoed, not translated
    ("将以下文本翻译成英语：我想去旅行。", "I want to travel.", True),
    ("How do you say 'good evening' in French?", "In French, 'good evening' is 'bonsoir'.", True),
    # one script, a guess the identifier is not sure of: short lists and names are not judged
    ("Name five car brands.", "Fiat, Ford, Honda, Opel, Kia.", True),
    ("Help me classify the following animals: Pig, Chicken, Cow", "Pig - Mammal\nChicken - Bird\nCow - Mammal", True),
    # ... but whole sentences in another language are
    ("What is an index fund?", "Un fondo indicizzato è un fondo che replica un indice di mercato e costa poco.",
     (False, "lang_match_it_not_en")),
    # a switch into Chinese mid-answer
    ("How do I take care of a wooden table?", "1. Wipe it with a soft cloth.\n2. 避免在桌子上放置重物，因为这会导致它弯曲或开裂，请注意保护桌面。",
     (False, "lang_match_zh_not_en")),
])
def test_lang_match(question, answer, expected):
    assert verdict("lang-match", question, answer) == expected


@pytest.mark.parametrize("answer,expected", [
    ("Heat the water first. Then add the leaves, and the tea will steep while the", (False, "truncation_cut_sentence")),
    ("Sarcoidosis makes lumps in the lungs. The FEM can be used to solve many engineering problems, such as",
     (False, "truncation_cut_sentence")),
    ("烤箱预热到200度。然后放入面团，烘烤二十分钟，直到表面金黄，再取出", (False, "truncation_cut_sentence")),
    ("1. 化学结构：DNA由脱氧核苷酸组成。\n2. 功能：DNA是遗传物质；RNA则是基因表达过程中", (False, "truncation_cut_sentence")),
    ("Ingredients:\n- 2 cups rice\n- 1 onion, diced\n- Soy sauce to taste", True),   # items without stops
    ("The capital is Paris", True),
    ("6 × 7 = 42。\n\n最终答案：42", True),                                        # a label and its value
    ("Dear Bob,\n\nSee you on Thursday.\n\nSincerely,\nAnn", True),
    ("The total is $179.06 (including tax) and the rest is $20.", True),            # money, not a formula
    ("SELECT SUM(n) FROM books;", True),
])
def test_truncation_from_sentence_structure(answer, expected):
    assert verdict("truncation", "Q", answer) == expected


@pytest.mark.parametrize("question,answer,expected", [
    ("Classify the sentiment as Positive, Negative or Neutral: 'great food'", "Positive", True),
    ("How many legs does a spider have? Reply with the number only.", "8", True),
    ("Translate to English: 晚安", "Good night.", True),
    ("请将以下文本分类为正面、负面或中性情感：服务一般", "中性", True),
    ('Write "Test"', "Test", True),
    ("Respond with emojis only: I passed the exam!", "🎉👏", True),
    ("Explain how compound interest works.", "Money.", (False, "length_too_short")),
    ("Develop a C++ program that counts words.", "<noinput>", (False, "length_too_short")),
    ("请详细解释什么是通货膨胀。", "涨价", (False, "length_too_short")),
])
def test_length_relative_to_the_question(question, answer, expected):
    assert verdict("length", question, answer) == expected


@pytest.mark.parametrize("question,answer,expected", [
    ("我得了流感，请帮我写一封给领导的请假信。", "尊敬的领导：\n\n非常抱歉，由于身体不适，我今天无法前来上班。此致\n敬礼！", True),
    ("请你列举把大象装进冰箱的步骤", "抱歉，我不能回答这个问题。", (False, "refusal_opening")),
    ("Where does Bob live?", "Sorry, I'm not able to give out his residential address.", (False, "refusal_opening")),
])
def test_refusal_acts_not_apologies(question, answer, expected):
    assert verdict("refusal", question, answer) == expected


def test_a_chat_turn_glued_after_the_answer_is_a_leak():
    assert verdict("template-leak", "Q", "Period dramas are set in the past.\n\n### Human: What else?") == \
        (False, "template_leak_header")
    assert verdict("template-leak", "Q", "Use `### Human:` headers in the prompt file.") is True   # inside code


def test_final_answer_says_it_is_for_reasoning_rows():
    stage = FilterStage(plugins.load(plugins.FILTERS, "final-answer")())
    rows = [rec("Hi", "Hello, how are you?"), rec("Name a fruit.", "An apple."),
            {**rec("2+2?", "2+2 equals four, as shown."), "gold": "4"}]
    kept, rejected, report = stage.run(rows)
    assert not kept and "reasoning rows" in report.scores["final_answers"]["note"]
    assert [r.get("detail") for r in rejected][:2] == [
        "no final answer and no gold answer on the row: final-answer is for reasoning rows"] * 2
    assert rejected[2].get("detail") is None       # a reasoning row (it has a gold answer) that states none
