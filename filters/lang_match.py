"""Keep answers written in the language of the question (or a required one).

Small and large models alike drift into English when asked in Chinese, and the reverse after
Chinese-heavy tuning; mixed-language answers are a common defect of zh vertical data. The check is
script-based (share of Han characters among letters), which separates Chinese from English
reliably without a model; it does not tell apart languages that share a script. Not implemented:
fastText language identification for other languages.
"""

from __future__ import annotations

import re

from synth.filter import Filter, assistant_text

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def script_language(text: str, han_share: float = 0.5) -> str | None:
    """'zh' when Han characters make up at least `han_share` of letters, 'en' for Latin, None if no letters."""
    han, latin = len(_HAN.findall(text)), len(_LATIN.findall(text))
    # a Han character carries about as much as 3 Latin letters: weigh them so mixed text is judged fairly
    total = han * 3 + latin
    if total == 0:
        return None
    return "zh" if han * 3 / total >= han_share else "en"


def question_text(record: dict) -> str:
    for message in record.get("messages") or []:
        if message.get("role") == "user":
            return message.get("content") or ""
    return str(record.get("instruction") or record.get("problem") or "")


class LangMatchFilter(Filter):
    """Reject answers whose script language differs from the question's (or from `language`).

    Args:
        language: require this language ("zh" or "en") instead of the question's.
        han_share: weighted share of Han characters that makes a text Chinese.
    """

    name = "lang-match"
    description = "Drop answers not in the question's language (Chinese vs English, by script)."

    def __init__(self, language: str | None = None, han_share: float = 0.5) -> None:
        if language not in (None, "zh", "en"):
            raise TypeError(f"language must be 'zh' or 'en', not {language!r}")
        self.language = language
        self.han_share = han_share

    def filter(self, record):
        want = self.language or script_language(question_text(record), self.han_share)
        got = script_language(assistant_text(record), self.han_share)
        if want is None or got is None or want == got:
            return True
        return False, f"lang_match_{got}_not_{want}"
