"""Keep answers within a length band; drop empty ones.

Self-Instruct / Alpaca keep instructions of more than 3 and at most 150 words; OpenMathInstruct
keeps solutions of at least 200 characters and at most 1024 tokens; Evol-Instruct drops responses
that are only punctuation and stop words. Length is counted in units (synth.text): words for spaced
scripts and characters for CJK, where one character carries about one word of meaning, so one
threshold serves English and Chinese. The floor is relative to what the question asks for: a question
that asks for a word, a number, a label or a choice ("reply with the number only", "classify ... as
positive or negative", "翻译成英语", "是哪个") gets short answers ("12", "Positive", "中性", "Good night."),
so `min_units` applies only to questions that ask for more (explain, describe, write, list, a program; 解释,
介绍, 写一篇 …); a question that asks for neither is judged by `min_units` only when the answer has no
word at all. Not implemented: the stop-word half of Evol-Instruct's rule.
"""

from __future__ import annotations

import re

from synth.filter import QUESTION_FIELDS, Decision, Filter, FilterOptions, answer_text, option
from synth.text import count_units

_CONTENT = re.compile(r"[^\W_]|[\U0001F300-\U0001FAFF\u2600-\u27BF]")  # a letter or digit of any script, or an emoji
# questions that ask for a short answer: a value, a label, a choice, a translation, a yes/no
SHORT_FORM = re.compile(
    r"(?i)\b(?:only|just)\b[^.?!\n]{0,30}\b(?:number|answer|word|name|letter|value|result|label|category|code)s?\b"
    r"|\b(?:reply|respond|answer|output)\b[^.?!\n]{0,20}\b(?:only|directly|with (?:a|one|the) (?:word|number|letter|name))\b"
    r"|\bin (?:one|a single|two|three) words?\b|\byes or no\b|\btrue or false\b|\bemojis?\b"
    r"|\b(?:write|say|print|output|repeat|type)\s+[\"“'][^\"”'\n]{1,40}[\"”']"
    r"|\b(?:classify|categori[sz]e|label|identify|choose|pick|select|which|translate|rate|grade|guess|name (?:a|one|the))\b"
    r"|\bhow (?:many|much|old|long|far)\b|\bwhat (?:is|was) the (?:name|capital|result|value|answer|sum|total)\b"
    r"|只(?:需|要|用)?(?:回答|输出|给出|写)|直接(?:回答|输出|给出)|一个词|一句话|是否|是不是|对不对|分类|归类|判断|选择|选出|"
    r"翻译|译成|多少|几个|哪个|哪一|哪些|是谁|叫什么")
# questions that ask for an extended answer
EXTENDED = re.compile(
    r"(?i)\b(?:explain|describe|discuss|elaborate|write|compose|draft|create|generate|design|develop|implement|"
    r"build|code|program|script|essay|article|story|poem|letter|email|outline|plan|summari[sz]e|analy[sz]e|"
    r"compare|list|steps|recipe|guide|tutorial|make|provide)\b|\bwhy\b|\bhow (?:do|does|can|to|should|would)\b"
    r"|解释|说明|描述|介绍|论述|分析|比较|阐述|写|编写|撰写|创作|生成|设计|列举|列出|步骤|方案|计划|为什么|如何|怎么|怎样")


def length_units(text: str) -> int:
    """Words of spaced text plus CJK characters: 'hello world' -> 2, '你好世界' -> 4."""
    return count_units(text)


class LengthOptions(FilterOptions):
    min_units: int = option(3, "fewest words (CJK: characters) an answer may have", ge=0,
                            source="Self-Instruct / Alpaca (more than 3 words)")
    max_units: int | None = option(4096, "most words (CJK: characters) an answer may have; null for no limit",
                                   ge=1, source="synth (about OpenMathInstruct's 1024 tokens x 4)")
    field: str | None = option(None, "record field to measure instead of the answer (e.g. instruction)")
    relative: bool = option(True, "apply min_units only where the question asks for an extended answer (explain, "
                            "write, list, a program); short answers to closed questions (classify, translate, "
                            "'the number only') pass", source="synth (external rows: 17 short right answers dropped)")


class LengthFilter(Filter):
    """Reject empty answers, and answers shorter than `min_units` or longer than `max_units`."""

    name = "length"
    description = "Drop empty, too short or too long answers (CJK characters count as words)."
    Options = LengthOptions
    reasons = ("length_empty", "length_too_short", "length_too_long")
    score_names = ("length",)

    def filter(self, record):
        o = self.options
        if o.field in QUESTION_FIELDS and o.field not in record:
            text = self.question(record)  # a chat row: its question stands in for the instruction column
        else:
            text = answer_text(record, o.field) if o.field else self.answer(record)
        n = count_units(text)
        scores = {"length": n}
        if not _CONTENT.search(text):
            return Decision(False, "length_empty", scores)
        if n < o.min_units and self._wants_more(record):
            return Decision(False, "length_too_short", scores)
        if o.max_units is not None and n > o.max_units:
            return Decision(False, "length_too_long", scores)
        return Decision(True, scores=scores)

    def _wants_more(self, record) -> bool:
        """Whether the short floor applies: always without `relative` or when measuring another field;
        else only for a question that asks for an extended answer and not for a short one."""
        if not self.options.relative or self.options.field:
            return True
        question = self.question(record)
        if not question.strip():
            return True
        return EXTENDED.search(question) is not None and SHORT_FORM.search(question) is None
