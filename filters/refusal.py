"""Drop answers that refuse or deflect instead of answering.

Follows the Evol-Instruct elimination rule (Xu et al. 2023, arXiv 2304.12244: an answer containing
"sorry" and shorter than 80 words is a failed evolution) and the refusal phrase lists used to clean
ShareGPT-style data, extended with Chinese phrasings for the zh use cases. Long answers that merely
mention an apology keep passing: only short answers, or answers that *open* with a refusal, are
dropped. Not implemented: model-based refusal classifiers.
"""

from __future__ import annotations

import re

from synth.filter import Filter, assistant_text

PHRASES_EN = (
    "i'm sorry", "i am sorry", "sorry, but", "i apologize", "i cannot", "i can't", "i can not", "i'm unable",
    "i am unable", "i'm not able to", "i am not able to", "as an ai", "as a language model",
    "as an ai language model", "i don't have the ability", "i do not have access", "it is not appropriate",
)
PHRASES_ZH = ("抱歉", "对不起", "很遗憾", "我无法", "我不能", "作为一个ai", "作为一个人工智能", "作为人工智能", "我没有能力")


class RefusalFilter(Filter):
    """Reject a refusal: a refusal phrase in a short answer, or at the very start of any answer.

    Args:
        max_words: answers with fewer words (CJK characters count one each) and a refusal phrase are
            dropped (Evol-Instruct uses 80).
        opening_chars: a refusal phrase within this many leading characters drops any answer.
    """

    name = "refusal"
    description = "Drop refusals and deflections (English and Chinese phrase lists)."

    def __init__(self, max_words: int = 80, opening_chars: int = 40) -> None:
        self.max_words = max_words
        self.opening_chars = opening_chars
        self._pattern = re.compile("|".join(re.escape(p) for p in PHRASES_EN + PHRASES_ZH))

    def filter(self, record):
        text = assistant_text(record).lower().replace("’", "'")
        match = self._pattern.search(text)
        if match is None:
            return True
        if match.start() < self.opening_chars:
            return False, "refusal_opening"
        words = len(re.findall(r"[\u4e00-\u9fff]|[^\s\u4e00-\u9fff]+", text))
        if words < self.max_words:
            return False, "refusal_short_answer"
        return True
