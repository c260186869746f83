"""Keep answers written in the language of the question (or a required one).

Models drift into English when asked in Chinese, and the reverse after Chinese-heavy tuning; mixed
and wrong-language answers are a common defect of multilingual and zh vertical data (recipes.md §6.4:
`language`, `lang_match`, drop on mismatch). Languages come from synth.text.detect_language: script
for mostly-CJK text (exact on a few characters), py3langid (langid.py's bundled naive-Bayes model,
97+ languages, offline) for the rest, after code, URLs and formulas are removed. An answer is dropped
only when each text is implausible in the other's language (probability below `tolerance`), so close
pairs the identifier confuses (es/gl, id/ms) and English terms inside Chinese answers pass. Texts
with too few letters to tell, and requests to translate or to answer in a named language, are kept.
Not implemented: fastText LID (its model is a download).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import field_validator

from synth.filter import Filter, FilterOptions, Verdict, option
from synth.text import Language, detect_language, language_labels, strip_code

# Instructions that ask for another language on purpose (translation, "answer in English").
EXEMPT = (r"(?i)\btranslat|\binto (?:english|chinese|french|german|spanish|japanese|korean)\b|"
          r"\bin (?:english|chinese|french|german|spanish|japanese|korean)\b|翻译|翻譯|译成|译为|"
          r"用(?:英文|英语|中文|汉语|日语|日文|法语|德语|韩语|西班牙语)|(?:英文|英语|中文|日语)(?:回答|回复|写|表达)")


def script_language(text: str, han_share: float = 0.5) -> str | None:
    """The language of `text` as an ISO code ('zh', 'en', 'de', ...), None when there is too little to tell."""
    return detect_language(strip_code(text, math=True), cjk_threshold=han_share).code


def question_text(record: dict) -> str:
    """The record's question (kept for code written against the first filter contract)."""
    from synth.filter import question_text as view

    return view(record)


class LangMatchOptions(FilterOptions):
    language: str | None = option(None, "require this ISO 639-1 language (zh, en, de, ja, ...) instead of the question's")
    tolerance: float = option(0.05, "a text counts as possibly in a language at this identifier probability",
                              ge=0, le=1)
    min_letters: int = option(10, "texts with fewer letters (outside CJK) are not judged", ge=1)
    han_share: float = option(0.5, "weighted share of CJK characters that makes a text Chinese/Japanese/Korean",
                              gt=0, le=1)
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
        answer = self._detect(self.answer(record))
        scores = {"language": answer.code}
        if o.language:
            want = Language(o.language, 1.0, {o.language: 1.0})
        else:
            question = self.question(record)
            if self._exempt and self._exempt.search(question):
                return Verdict(True, scores=scores)
            want = self._question_language(question)
        if want.code is None or answer.code is None or answer.code == want.code:
            return Verdict(True, scores=scores)
        if answer.prob(want.code) >= o.tolerance or want.prob(answer.code) >= o.tolerance:
            return Verdict(True, scores=scores)
        return Verdict(False, f"lang_match_{answer.code}_not_{want.code}", scores)
