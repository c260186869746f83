r"""Find the final answer in a model's solution, and split a solution into steps.

Patterns, most explicit first (the first that matches wins; within one, the last occurrence):

==================  ==========================================================
``boxed``           ``\boxed{...}`` / ``\fbox{...}``, nested and escaped braces
``hash``            ``#### 42`` (GSM8K)
``zh_answer``       ``答案是 / 答案为 / 答案： / 最终答案``
``answer_is``       "The (final) answer is ..."
``answer_colon``    "Answer: ..." / "**Answer:** ..." / a ``# Answer`` heading (PRM800K)
``last_number``     the last number in the text
``none``            nothing found
==================  ==========================================================

    >>> extract_answer(r"so $x = \boxed{\frac{1}{\{2\}}}$.")
    Extraction(answer='\\frac{1}{\\{2\\}}', pattern='boxed')
    >>> extract_answer("48 + 24 = 72 clips.\n#### 72")
    Extraction(answer='72', pattern='hash')
"""

from __future__ import annotations

import re
from typing import NamedTuple

from synth.verify.normalize import matching_brace

_BOXED = re.compile(r"\\(boxed|fbox)(?![a-zA-Z])\s*")
_HASH = re.compile(r"####\s*([^\n]+)")
_ZH = re.compile(r"(?:最终答案|答案)\s*(?:应该|应)?\s*(?:是|为|[：:])\s*[：:]?\s*([^\n]+)")
_ANSWER_IS = re.compile(r"(?:the\s+)?(?:final\s+)?answer\s+(?:is|=)\s*[:：]?\s*([^\n]+)", re.IGNORECASE)
_ANSWER_COLON = re.compile(
    r"(?:^|\n)[ \t]*(?:[#*]+[ \t]*)?(?:final[ \t]+)?answer[ \t]*(?:\*\*)?[ \t]*[:：](?:\*\*)?[ \t]*([^\n]+)",
    re.IGNORECASE,
)
_ANSWER_HEADING = re.compile(r"(?:^|\n)[ \t]*#+[ \t]*(?:final[ \t]+)?answer[ \t]*\n+[ \t]*([^\n]+)", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?|-?\.\d+")
# Where a sentence ends inside an "answer is" line: ". " (not a decimal point), 。, or "because".
_SENTENCE_END = re.compile(r"(?<!\d)\.(?:\s|$)|\.\s|。|；|;|\s+(?:because|since|as)\s", re.IGNORECASE)


class Extraction(NamedTuple):
    """The extracted answer (``None`` when nothing was found) and the pattern that found it."""

    answer: str | None
    pattern: str


def _last_boxed(text: str) -> Extraction | None:
    """The content of the last well-formed ``\\boxed{}`` / ``\\fbox{}`` (``\\boxed 5`` too)."""
    for m in reversed(list(_BOXED.finditer(text))):
        if m.end() < len(text) and text[m.end()] == "{":
            close = matching_brace(text, m.end())
            if close != -1:  # an unclosed box (truncated output) is skipped
                return Extraction(text[m.end() + 1 : close].strip(), m.group(1))
        else:
            token = re.match(r"[^\s$]+", text[m.end() :])
            if token:
                return Extraction(token.group(0).rstrip(".,"), m.group(1))
    return None


def _tidy(answer: str) -> str:
    """Cut an answer phrase at the end of its sentence and drop wrapping markup."""
    m = _SENTENCE_END.search(answer)
    if m:
        answer = answer[: m.start()]
    answer = answer.strip().strip("*").strip()
    if answer.startswith("$") and answer.count("$") == 2 and answer.endswith("$"):
        answer = answer.strip("$").strip()
    return answer.rstrip(".,;:。，").strip()


def extract_answer(text: str | None) -> Extraction:
    """Extract the final answer from a solution.

        >>> extract_answer("所以小明一共有 12 个苹果。答案是：12个")
        Extraction(answer='12个', pattern='zh_answer')
        >>> extract_answer("The answer is $3.5$. Done.")
        Extraction(answer='3.5', pattern='answer_is')
        >>> extract_answer("She pays 3 * 4 = 12 dollars, then 12 - 5 = 7.")
        Extraction(answer='7', pattern='last_number')
    """
    if not text:
        return Extraction(None, "none")
    boxed = _last_boxed(text)
    if boxed and boxed.answer:
        return boxed
    for name, pattern in (
        ("hash", _HASH),
        ("zh_answer", _ZH),
        ("answer_is", _ANSWER_IS),
        ("answer_colon", _ANSWER_HEADING),
        ("answer_colon", _ANSWER_COLON),
    ):
        found = pattern.findall(text)
        if found:
            answer = _tidy(found[-1])
            if answer:
                return Extraction(answer, name)
    numbers = _NUMBER.findall(text)
    if numbers:
        return Extraction(numbers[-1].rstrip(",").replace(" ", ""), "last_number")
    return Extraction(None, "none")
