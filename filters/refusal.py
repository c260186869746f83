"""Drop answers that refuse or deflect instead of answering, and answers with AI disclaimers.

Follows the Evol-Instruct elimination rule (Xu et al. 2023, arXiv 2304.12244: an answer containing
"sorry" and shorter than 80 words is a failed evolution) and the phrase lists used to clean
ShareGPT-style data (ShareGPT_Vicuna_unfiltered drops every conversation with "as an AI language
model"), with Chinese phrasings for the zh use cases. A refusal phrase drops short answers, or any
answer that *opens* with it; an AI disclaimer ("As an AI language model, ...", "作为一个人工智能，...")
drops any answer, since SFT would teach it. Phrases name the act, not the word: "I can't stress
enough", "很抱歉听到你生病了" or an apology letter that was asked for ("非常抱歉给您带来不便") are kept. Not implemented: model-based refusal classifiers.
"""

from __future__ import annotations

import re

from synth.filter import Filter, FilterOptions, compile_patterns, option
from synth.text import count_units

_VERBS_EN = ("help|assist|provide|comply|fulfill|fulfil|answer|do that|do this|create|generate|write|share|give|"
             "support|engage|offer|discuss|browse|access|complete|respond|perform|process|produce|tell you|"
             "predict|recommend|verify|view|see|open|continue|participate")
REFUSALS_EN = (
    r"\b(?:i'm|i am) (?:so |very |truly |really )?sorry\b(?! to hear| for your loss| about your| that you)",
    r"\bsorry,? but\b",
    r"\bi apologi[sz]e\b",
    rf"\bi(?: can ?not| can't| am unable to|'m unable to| am not able to|'m not able to| won't be able to|"
    rf" will not be able to| must decline to| have to decline to)(?: \w+)? (?:{_VERBS_EN})\b",
    r"\bi (?:can ?not|can't|won't|will not) (?:help|assist) with\b",
    r"\bit (?:is|would be) (?:not appropriate|inappropriate) for me\b",
    r"\bi(?:'m| am) not (?:comfortable|able to help)\b",
    r"\b(?:that's|that is|this is|it's|it is) not something i (?:can|am able to|'m able to) (?:help|assist|do|provide)",
)
_HELP_ZH = (r"(?:为你|为您|帮你|帮您|向你|向您|给你|给您)?(?:提供|回答|帮助|协助|满足|完成|处理|生成|讨论|给出|参与|访问|浏览|"
            r"创作|编写|执行|预测|透露|分享|回复|推荐|告诉|教)")
REFUSALS_ZH = (
    # an apology is a refusal only with the act in the same sentence: "非常抱歉，由于身体不适…" opens a leave
    # letter, "很抱歉，我无法回答" refuses
    r"(?:抱歉|对不起|不好意思)[，,]?\s*(?:我|本人)?(?:无法|不能|没法|不会|不可以|不便)" + _HELP_ZH,
    r"我(?:无法|不能|没法|没有办法|不可以|不便|不会)" + _HELP_ZH,
    r"很遗憾[，,]?\s*我(?:无法|不能)",
)
DISCLAIMERS_EN = (
    r"\bas an ai(?: language model| assistant| model| chatbot)?\s*[,，]",
    r"\bas a (?:large )?language model\b",
    r"\bi(?:'m| am) (?:just |only |merely )?(?:an ai|a large language model|a language model|an artificial intelligence)"
    r"\b(?!\s+(?:researcher|engineer|scientist|enthusiast|student|developer|startup|company))",
    r"\bmy (?:knowledge|training) (?:cutoff|cut-off|data only)\b",
    r"\bas of my (?:last|latest) (?:update|knowledge update|training)\b",
    r"\bi (?:don't|do not) have (?:personal )?(?:opinions|feelings|emotions|beliefs|preferences)\b",
)
DISCLAIMERS_ZH = (
    r"作为(?:一个|一名|一款)?(?:ai|人工智能)(?:语言模型|助手|模型|聊天机器人)?\s*[,，]",
    r"我(?:只|仅仅|只不过)?是(?:一个|一款|一名)?(?:ai|人工智能)(?:语言模型|助手|模型|聊天机器人)",
    r"我的(?:知识|训练数据)(?:截止|更新)",
    r"截至我的(?:知识|训练)",
    r"我(?:并)?没有(?:个人的?)?(?:观点|感情|情感|意见|偏好)",
)


class RefusalOptions(FilterOptions):
    max_words: int = option(80, "answers with fewer units (words; CJK characters) and a refusal phrase are dropped",
                            ge=0, source="Evol-Instruct (sorry and fewer than 80 words)")
    opening_chars: int = option(40, "a refusal phrase starting within this many leading characters drops any answer",
                                ge=0)
    disclaimers: bool = option(True, "drop answers with an AI disclaimer anywhere",
                               source="ShareGPT_Vicuna_unfiltered cleaning ('as an AI language model')")
    phrases: list[str] = option([], "extra refusal phrases (regular expressions, matched on lower-cased text)")


class RefusalFilter(Filter):
    """Reject refusals (a phrase in a short answer, or at its start) and AI disclaimers (anywhere)."""

    name = "refusal"
    description = "Drop refusals and AI disclaimers (English and Chinese phrase lists)."
    Options = RefusalOptions
    reasons = ("refusal_opening", "refusal_short_answer", "refusal_ai_disclaimer")

    def __init__(self, options=None, /, **kwargs) -> None:
        super().__init__(options, **kwargs)
        compile_patterns(self.name, "phrases", self.options.phrases)
        self._refusal = re.compile("|".join((*REFUSALS_EN, *REFUSALS_ZH, *self.options.phrases)))
        self._disclaimer = re.compile("|".join((*DISCLAIMERS_EN, *DISCLAIMERS_ZH)))

    def filter(self, record):
        text = self.answer(record).lower().replace("’", "'")
        if self.options.disclaimers:
            found = self._disclaimer.search(text)
            if found:
                return False, "refusal_ai_disclaimer"
        match = self._refusal.search(text)
        if match is None:
            return True
        if match.start() < self.options.opening_chars:
            return False, "refusal_opening"
        if count_units(text) < self.options.max_words:
            return False, "refusal_short_answer"
        return True
