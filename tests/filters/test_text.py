"""synth.text: units, CJK detection, code stripping and language identification across scripts."""

from __future__ import annotations

import pytest

from synth.text import count_units, detect_language, has_cjk, strip_code


def test_units_and_cjk():
    assert count_units("The fund tracks 沪深300 index.") == 3 + 2 + 1 + 1  # 3 words, 沪 深, "300", "index."
    assert count_units("") == 0 and not has_cjk("plain text") and has_cjk("カタカナ")


def test_strip_code_leaves_prose():
    text = "See `x <|im_end|>` and https://example.com/a?b.\n```\n<|im_start|>\n```\nThen $a^2$ ends."
    assert "<|" not in strip_code(text) and "example.com" not in strip_code(text)
    assert "$a^2$" in strip_code(text) and "$a^2$" not in strip_code(text, math=True)
    assert strip_code("before\n```python\nprint(1)") == "before\n "  # an unclosed fence takes the rest


@pytest.mark.parametrize("text,code", [
    ("指数基金是跟踪某个市场指数的基金。", "zh"),
    ("東京スカイツリーがおすすめです。", "ja"),
    ("서울에서 가장 유명한 관광지는 경복궁입니다.", "ko"),
    ("Paris is the capital and largest city of France.", "en"),
    ("Paris est la capitale et la plus grande ville de France.", "fr"),
    ("Berlin ist die Hauptstadt und größte Stadt Deutschlands.", "de"),
    ("Москва — столица и крупнейший город России.", "ru"),
    ("القاهرة هي عاصمة مصر وأكبر مدنها.", "ar"),
    ("नई दिल्ली भारत की राजधानी है और एक बड़ा शहर है।", "hi"),
    ("กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย", "th"),
])
def test_detect_language_many_scripts(text, code):
    assert detect_language(text).code == code


def test_detect_language_abstains_on_too_little_text():
    assert detect_language("OK").code is None and detect_language("42 + 7").code is None
    assert detect_language("好").code == "zh"  # script decides CJK on a single character


def test_one_prompt_language_wherever_synth_picks_one():
    """Mixed, Japanese and Korean texts get the same prompt language in the recipes, the judge and the
    JSON repair note (all through synth.text.prompt_language), not one per module (issue 20 item 1)."""
    from synth.filter import make_filter
    from synth.recipes.doc_qa.chunks import read_chunk
    from synth.text import prompt_language

    texts = {"请解释 Python 的 list comprehension": "zh", "Explain 定投 in one line, please.": "en",
             "設備の点検手順を説明してください。": "en", "설비 점검 절차": "en", "个人理财 / 储蓄": "zh",
             "Cardiology / Heart failure": "en"}
    judge = make_filter("judge", {})
    for text, lang in texts.items():
        assert prompt_language(text) == lang, text
        assert read_chunk({"text": text}, "text", "auto")[2] == lang, text  # doc-qa and doc-quiz
        system = judge.messages({"instruction": text, "response": "ok"})[0]["content"]
        assert (system == judge.messages({"instruction": "你好，请回答", "response": "ok"})[0]["content"]) == \
            (lang == "zh"), text
