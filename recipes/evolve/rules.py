"""Evol-Instruct's elimination rules (Xu et al. 2023, arXiv 2304.12244, §3 "Elimination Evolving").

An evolution fails when

1. it brings no information gain over its parent: an LLM equality check, in the recipe
   (`no_information_gain`);
2. the answer shows the model struggled: it contains "sorry" and is shorter than 80 words
   (`sorry_short`). Chinese: 抱歉 or 无法 and shorter than 120 characters. 80 words × 1.5 characters
   per word; the four translated pairs of examples/seeds/{en,zh}/instructions.jsonl have 45 Chinese
   characters for 32 English words (1.4), and the rule only needs the order of magnitude;
3. the answer is only punctuation and stop words (`stopwords_only`);
4. the evolved instruction copies words of the evolving prompt: "#Given Prompt#", "#Rewritten
   Prompt#", "given prompt", "rewritten prompt", "created prompt" and the markers of our Chinese
   templates (`copied_template`).

The WizardLM repository does not ship these rules; distilabel implements 2–4 and leaves out 1.

>>> copies_template("Rewritten Prompt: list three fruits"), copies_template("列出三种水果")
(True, False)
>>> sorry_short("Sorry, I cannot help with that."), sorry_short("抱歉，我无法回答。"), sorry_short("利率是 3%。")
(True, True, False)
>>> stopwords_only("It is, and the ... of it!"), stopwords_only("这个。的了！"), stopwords_only("Paris.")
(True, True, False)
"""

from __future__ import annotations

import re

from synth.filters.length import length_units
from synth.text import has_cjk

TEMPLATE_WORDS = (
    "#the given prompt#", "#given prompt#", "#rewritten prompt#", "#created prompt#",
    "given prompt", "rewritten prompt", "created prompt",
    # the markers of templates/*_zh.j2
    "#给定提示#", "#改写后的提示#", "#创作的提示#", "给定提示", "改写后的提示", "创作的提示",
)
SORRY_EN = re.compile(r"\bsorry\b", re.I)
SORRY_ZH = re.compile("抱歉|无法")

# Function words only: an answer made of nothing else says nothing. Short on purpose: a word missing
# here keeps an answer, a content word wrongly listed would drop one.
STOP_EN = frozenset("""
a an the and or but if then else so as of at by for with about into onto from to in on off out over under
up down is am are was were be been being do does did done have has had having it its it's this that these
those there here i me my we us our you your he him his she her they them their what which who whom whose
when where why how not no yes all any some such only own same too very can could will would shall should
may might must just than also again once ok okay well oh ah um uh hmm etc
""".split())
STOP_ZH = ("这个", "那个", "这些", "那些", "我们", "你们", "他们", "她们", "它们", "什么", "怎么", "因为",
           "所以", "但是", "而且", "然后", "如果", "就是", "还是", "或者", "以及", "的", "了", "是", "在",
           "和", "与", "及", "也", "都", "就", "还", "又", "而", "或", "着", "过", "吧", "吗", "呢", "啊",
           "呀", "哦", "嗯", "么", "之", "其", "这", "那", "我", "你", "他", "她", "它", "有", "个", "把", "被")
_STOP_ZH = re.compile("|".join(sorted(STOP_ZH, key=len, reverse=True)))
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def copies_template(instruction: str) -> bool:
    """Rule 4: the evolved instruction contains a marker or phrase of the evolving prompt."""
    text = instruction.casefold()
    return any(word in text for word in TEMPLATE_WORDS)


def sorry_short(response: str, max_words: int = 80, max_chars_zh: int = 120) -> bool:
    """Rule 2: "sorry" in fewer than `max_words` words, or 抱歉/无法 in fewer than `max_chars_zh`
    units (CJK characters plus words, as the `length` filter counts)."""
    if SORRY_EN.search(response) and len(response.split()) < max_words:
        return True
    return bool(SORRY_ZH.search(response)) and length_units(response) < max_chars_zh


def stopwords_only(response: str) -> bool:
    """Rule 3: nothing but punctuation, spaces and stop words (an empty answer included)."""
    rest = _STOP_ZH.sub(" ", response)
    for word in _WORD.findall(rest):
        if has_cjk(word) or word.casefold() not in STOP_EN:
            return False
    return True
