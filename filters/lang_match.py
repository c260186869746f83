"""Keep answers written in the language of the question (or a required one).

Models drift into English when asked in Chinese, and the reverse after Chinese-heavy tuning; mixed
and wrong-language answers are a common defect of multilingual and zh vertical data (recipes.md §6.4:
`language`, `lang_match`, drop on mismatch). Languages come from synth.text.detect_language: script
for mostly-CJK text (exact on a few characters), py3langid (langid.py's bundled naive-Bayes model,
97+ languages, offline) for the rest, after code, URLs and formulas are removed. An answer is dropped
only when each text is implausible in the other's language (probability below `tolerance`), so close
pairs the identifier confuses (es/gl, id/ms) and English terms inside Chinese answers pass.

A question that names the language to answer in ("请用中文回答", "answer in French", "用英语写一封信",
"翻译成英语") makes that language a requirement, whatever the question's own language; other
translation requests ("how do you say … in French", "translate this into a formula") are not checked.
Language ID is a verdict only where it is confident: between scripts (Chinese/Japanese/Korean against
Latin, decided by the script itself) always; between languages of one script only when the identifier's
best guess has at least `min_confidence` and the answer has a line of at least `min_words` words. Short
and list-like texts ("Fiat, Ford, Honda.", "Pig - Mammal") are where py3langid reads English as
Norwegian or Latin: on the Alpaca rows such reads were most of lang-match's drops. An answer to a
question in a Latin-script language that switches into Chinese for `switch_chars` characters in a row is
dropped too (a model drifting mid-answer). Not implemented: fastText LID (its model is a download).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import field_validator

from synth.filter import Decision, Filter, FilterOptions, option
from synth.text import CJK, Language, detect_language, language_labels, strip_code

_CJK_CODES = frozenset({"zh", "ja", "ko"})


@lru_cache(maxsize=8)
def _CJK_RUN(n: int) -> re.Pattern:
    """n CJK characters in a row, CJK punctuation between them allowed."""
    return re.compile(f"(?:[{CJK}][，。、；：！？“”（）《》\\s]*){{{n},}}")

# Instructions that ask for another language on purpose without naming the one to answer in
# ("how do you say ... in French", "translate this into a formula"): not checked. A named reply
# language (NAMED_ZH, NAMED_EN) is checked instead.
EXEMPT = (r"(?i)\btranslat|\binto (?:english|chinese|french|german|spanish|japanese|korean)\b|"
          r"\bin (?:english|chinese|french|german|spanish|japanese|korean)\b|翻译|翻譯|译成|译为|"
          r"用(?:英文|英语|中文|汉语|日语|日文|法语|德语|韩语|西班牙语)|(?:英文|英语|中文|日语)(?:回答|回复|写|表达)")


LANGUAGE_NAMES = {
    "en": ("english", "英文", "英语"), "zh": ("chinese", "mandarin", "中文", "汉语", "普通话", "简体中文", "繁体中文"),
    "ja": ("japanese", "日语", "日文"), "ko": ("korean", "韩语", "韩文"), "fr": ("french", "法语", "法文"),
    "de": ("german", "德语", "德文"), "es": ("spanish", "西班牙语", "西班牙文"), "ru": ("russian", "俄语", "俄文"),
    "it": ("italian", "意大利语"), "pt": ("portuguese", "葡萄牙语"), "ar": ("arabic", "阿拉伯语"), "nl": ("dutch", "荷兰语"),
}
_NAME_CODE = {name: code for code, names in LANGUAGE_NAMES.items() for name in names}
_EN_NAMES = "|".join(n for n in _NAME_CODE if n.isascii())
_ZH_NAMES = "|".join(sorted((n for n in _NAME_CODE if not n.isascii()), key=len, reverse=True))
# "answer in French", "write it in English", "translate ... into German", "respond only in Spanish", "use English"
NAMED_EN = re.compile(r"\b(?:answer|respond|reply|write|written|explain|describe|summari[sz]e|output|rewrite|compose|"
                      r"translate|translated|render)\b[^.?!\n]{0,60}?\b(?:in|into|to)\s+(" + _EN_NAMES + r")\b"
                      r"|\b(?:use|using|only in|in)\s+(" + _EN_NAMES + r")\s+(?:only|please)\b"
                      r"|\bplease use\s+(" + _EN_NAMES + r")\b", re.I)
# 用英语写, 请用中文回答, 以英文作答, 翻译成英语, 译为中文, 中文回答
NAMED_ZH = re.compile(r"(?:用|以|使用)(" + _ZH_NAMES + r")"
                      r"|(?:翻译|翻譯|译|譯)(?:成|为|為|到)(" + _ZH_NAMES + r")"
                      r"|(" + _ZH_NAMES + r")(?:回答|回复|作答|输出|撰写|书写)")


def named_language(question: str) -> str | None:
    """The language a question asks the answer to be in, as an ISO code, or None.

    >>> named_language("请用中文回答：什么是ETF？"), named_language("Answer in French: what is a bond?")
    ('zh', 'fr')
    >>> named_language("将以下文本翻译成英语：我想去旅行。"), named_language("用英语写一封酒店预定信")
    ('en', 'en')
    >>> named_language("How do you say 'good evening' in French?"), named_language("List films that are in English.")
    (None, None)
    """
    found = NAMED_ZH.search(question) or NAMED_EN.search(question)
    if not found:
        return None
    name = next(g for g in found.groups() if g)
    return _NAME_CODE[name.lower()]


class LangMatchOptions(FilterOptions):
    language: str | None = option(None, "require this ISO 639-1 language (zh, en, de, ja, ...) instead of the question's")
    tolerance: float = option(0.05, "a text counts as possibly in a language at this identifier probability",
                              ge=0, le=1)
    min_letters: int = option(10, "texts with fewer letters (outside CJK) are not judged", ge=1)
    han_share: float = option(0.5, "weighted share of CJK characters that makes a text Chinese/Japanese/Korean",
                              gt=0, le=1)
    min_confidence: float = option(0.8, "between languages of one script, the identifier's best guess needs this "
                                   "probability to count", ge=0, le=1,
                                   source="synth (external rows: wrong reads of short English lists scored below 0.2)")
    min_words: int = option(5, "between languages of one script, an answer needs a line of this many words to be judged",
                            ge=1)
    switch_chars: int | None = option(20, "an answer to a Latin-script question with this many CJK characters in a row "
                                      "has switched language; null to allow", ge=1)
    named: bool = option(True, "a language the question names for the answer (请用中文回答, answer in French) is required")
    exempt: str | None = option(EXEMPT, "questions matching this regular expression are not checked "
                                "(translation, 'answer in English'); null to check every row")

    @field_validator("language")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in language_labels():
            raise ValueError(f"unknown language code {value!r}; use an ISO 639-1 code such as zh, en, de, ja")
        return value

    @field_validator("exempt")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression ({exc})") from None
        return value


class LangMatchFilter(Filter):
    """Reject answers whose language differs from the question's (or from `language`)."""

    name = "lang-match"
    description = "Drop answers not in the question's language (language ID, many scripts)."
    Options = LangMatchOptions
    reasons = ("lang_match_<answer>_not_<wanted>",)
    score_names = ("language",)

    def __init__(self, options=None, /, **kwargs) -> None:
        super().__init__(options, **kwargs)
        self._exempt = re.compile(self.options.exempt) if self.options.exempt else None
        # the same question comes back with every sample of it: identify it once
        self._question_language = lru_cache(maxsize=4096)(self._detect)

    def _detect(self, text: str) -> Language:
        o = self.options
        return detect_language(strip_code(text, math=True), min_letters=o.min_letters, cjk_threshold=o.han_share)

    def filter(self, record):
        o = self.options
        text = strip_code(self.answer(record), math=True)
        answer = self._detect(text)
        scores = {"language": answer.code}
        if o.language:
            want = Language(o.language, 1.0, {o.language: 1.0})
        else:
            question = self.question(record)
            code = named_language(question) if o.named else None
            if code is not None:
                want = Language(code, 1.0, {code: 1.0})
            elif self._exempt and self._exempt.search(question):
                return Decision(True, scores=scores)
            else:
                want = self._question_language(question)
        if want.code is None:
            return Decision(True, scores=scores)
        if o.switch_chars and want.code not in _CJK_CODES and _CJK_RUN(o.switch_chars).search(text):
            return Decision(False, f"lang_match_zh_not_{want.code}", scores, detail="switches into Chinese")
        if answer.code is None or answer.code == want.code:
            return Decision(True, scores=scores)
        if (answer.code in _CJK_CODES) != (want.code in _CJK_CODES):  # another script: the script decides
            return Decision(False, f"lang_match_{answer.code}_not_{want.code}", scores)
        if answer.code not in _CJK_CODES and not self._confident(answer, text):
            return Decision(True, scores=scores)  # one script, a guess the identifier is not sure of
        if answer.prob(want.code) >= o.tolerance or want.prob(answer.code) >= o.tolerance:
            return Decision(True, scores=scores)
        return Decision(False, f"lang_match_{answer.code}_not_{want.code}", scores)

    def _confident(self, lang: Language, text: str) -> bool:
        o = self.options
        longest = max((len(line.split()) for line in text.splitlines()), default=0)
        return lang.confidence >= o.min_confidence and longest >= o.min_words
