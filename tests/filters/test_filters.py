"""Each filter on fixed inputs whose verdict and reason are known (English and Chinese); see also test_table.py."""

from __future__ import annotations

import pytest

from synth import plugins
from synth.errors import ConfigError
from synth.filter import as_decision
from synth.filters.length import length_units
from synth.filters.repetition import duplicated_ngram_share


def rec(question: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
            "generation": {"finish_reason": "stop"}}


def make(name: str, **options):
    return plugins.load(plugins.FILTERS, name)(**options)


GOPHER_LINES = [
    "Interest rates rose sharply last spring across most major economies.", "Bread rises because yeast releases gas.",
    "The museum opens at nine and closes at five on weekdays.", "Rivers carve valleys over millions of years.",
    "A good night of sleep improves memory and mood.", "Tomatoes grow best in warm, sunny gardens.",
    "Most comets orbit far beyond the planet Neptune.", "Carpenters measure twice and cut once to save wood."]
LOOP_EN = "The answer is 5. " * 40
LOOP_ZH = "答案是五。" * 60
GOOD_LONG = ("First compute the monthly interest rate by dividing the annual rate of six percent by twelve, "
             "which gives half a percent. Next, multiply the outstanding principal of ten thousand dollars by "
             "that rate to find the interest due this month: fifty dollars. Subtract the interest from the fixed "
             "payment of three hundred dollars; the remaining two hundred fifty reduces the principal. Finally, "
             "repeat with the new balance of nine thousand seven hundred fifty to get next month's split.")


@pytest.mark.parametrize("name,options,question,answer,expected", [
    ("refusal", {}, "How do I bake bread?", "I'm sorry, but I can't help with that.", (False, "refusal_opening")),
    ("refusal", {}, "如何办理护照？", "抱歉，我无法回答这个问题。", (False, "refusal_opening")),
    ("refusal", {}, "Q", "Here is the plan. Unfortunately the data is old, I apologize for that.",
     (False, "refusal_short_answer")),
    ("refusal", {}, "Q", "Preheat the oven to 220 C and knead the dough for ten minutes.", True),
    ("refusal", {}, "Q", "Bread basics. " + "word " * 90 + "I apologize for the long list.", True),
    ("length", {"min_units": 3}, "Explain how a bond's price moves with rates.", "Yes.", (False, "length_too_short")),
    ("length", {"min_units": 3, "relative": False}, "Q", "Yes.", (False, "length_too_short")),
    ("length", {"min_units": 3}, "Q", "是的，可以。", True),
    ("length", {"max_units": 5}, "Q", "one two three four five six", (False, "length_too_long")),
    ("lang-match", {}, "什么是指数基金？", "An index fund tracks a market index.", (False, "lang_match_en_not_zh")),
    ("lang-match", {}, "什么是指数基金？", "指数基金是跟踪某个市场指数的基金，例如沪深300。", True),
    ("lang-match", {}, "What is an ETF?", "ETF是交易所交易基金。", (False, "lang_match_zh_not_en")),
    ("lang-match", {}, "What is an ETF?", "An ETF (交易所交易基金) trades on an exchange like a stock.", True),
    ("lang-match", {"language": "zh"}, "What is an ETF?", "An exchange-traded fund.", (False, "lang_match_en_not_zh")),
    ("repetition", {}, "Q", LOOP_EN, (False, "repetition_loop")),
    ("repetition", {}, "Q", LOOP_ZH, (False, "repetition_loop")),
    ("repetition", {}, "Q", "\n".join(["1 / 1 = 1"] * 30), (False, "repetition_loop")),
    # Gopher's rules, on request: 8 distinct lines, each twice in another order (not a loop), over 100 words
    ("repetition", {"gopher": True}, "Q", "\n".join(GOPHER_LINES + GOPHER_LINES[::-1]), (False, "repetition_duplicate_lines")),
    ("repetition", {}, "Q", "\n".join(GOPHER_LINES + GOPHER_LINES[::-1]), True),
    ("repetition", {}, "Q", GOOD_LONG, True),
    ("repetition", {}, "Q", "short loop short loop short loop", True),
])
def test_filter_verdicts(name, options, question, answer, expected):
    verdict = as_decision(make(name, **options).filter(rec(question, answer)), name)
    assert (verdict.keep if expected is True else (verdict.keep, verdict.reason)) == expected


def test_helpers():
    assert length_units("hello world") == 2 and length_units("你好世界") == 4 and length_units("GDP增长5%") == 4
    assert duplicated_ngram_share("a b c d e a b c d e".split(), 5) == 1.0
    assert duplicated_ngram_share("a b c d e f g h i j".split(), 5) == 0.0


def test_bad_option_is_a_config_error():
    with pytest.raises(ConfigError, match=r"filter 'lang-match': bad options: language: .*unknown language code 'xx'"):
        make("lang-match", language="xx")
    with pytest.raises(ConfigError, match=r"filter 'length': bad options: minimum: unknown key"):
        make("length", minimum=3)
    assert make("lang-match", language="fr").options.language == "fr"  # any language the identifier knows
