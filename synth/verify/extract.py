r"""Find the final answer in a model's solution.

Reasoning models think first: in ``<think>…</think> answer`` only the part after ``</think>`` is
read (the thinking is searched for explicit markers only when nothing follows it), and a text that
stops inside ``<think>`` has no answer. Then, most explicit first:

==================  ==========================================================
``boxed``           the last ``\boxed{...}`` / ``\fbox{...}``, nested and escaped braces
``boxes``           the last run of boxes joined as one list (``\boxed{2} and \boxed{5}``, one box per
                    part: ``\boxed{4} \text{ for part (a) and } \boxed{7}``), read as ``2, 5``
``hash``            ``#### 42`` (GSM8K)
``zh_answer``       ``答案是 / 答案为 / 答案： / 最终答案``
``answer_is``       "The (final) answer is ...", "La réponse est ...", "Die Antwort ist ..."
``answer_colon``    "Answer: ..." / "**Final Answer:** ..." / "Réponse : ..." / a ``# Answer`` heading
``last_math``       no marker: the last ``$...$`` / ``\(...\)`` span, when it ends the text's last number
``last_number``     no marker: the last number (Arabic, or Chinese numerals before a measure word)
``none``            nothing found
==================  ==========================================================

A box beats the written markers; among the written markers (``hash`` … ``answer_colon``) the one
written *last* wins, so "The answer is 5. Wait, … The final answer is 7." gives 7. Boxes separated by
reasoning (not by a comma, "and", "or", ``\quad`` or a part label) revise each other: the last wins.

    >>> extract_answer(r"so $x = \boxed{\frac{1}{\{2\}}}$.")
    Extraction(answer='\\frac{1}{\\{2\\}}', pattern='boxed')
    >>> extract_answer("48 + 24 = 72 clips.\n#### 72")
    Extraction(answer='72', pattern='hash')
    >>> extract_answer("<think>Is it 4? No: 2 + 3 = 5.</think>The answer is 5.")
    Extraction(answer='5', pattern='answer_is')
"""

from __future__ import annotations

import re
from typing import NamedTuple

from synth.verify.normalize import matching_brace

_BOXED = re.compile(r"\\(boxed|fbox)(?![a-zA-Z])\s*")
_TEXT_MARKERS = (
    ("hash", re.compile(r"####\s*([^\n]+)")),
    ("zh_answer", re.compile(r"(?:最终答案|答案)\s*(?:应该|应)?\s*(?:是|为|[：:])\s*[：:]?\s*([^\n]+)")),
    (
        "answer_is",
        re.compile(
            r"(?:(?:the\s+)?(?:final\s+|correct\s+)?answer"
            r"|(?:la\s+)?(?:bonne\s+)?réponse(?:\s+finale)?|(?:die\s+)?(?:richtige\s+)?antwort"
            r"|(?:la\s+)?respuesta(?:\s+correcta|\s+final)?)"
            r"\s*(?:(?:is|ist|est|es|lautet)\b|=)\s*[:：]?\s*([^\n]+)",
            re.IGNORECASE,
        ),
    ),
    (
        "answer_colon",
        re.compile(
            r"(?:^|\n)[ \t]*#+[ \t]*(?:final[ \t]+)?(?:answer|réponse|antwort)[ \t]*\n+[ \t]*([^\n]+)"  # "# Answer"
            r"|(?:(?:^|\n)[ \t]*(?:[#*]+[ \t]*)?(?:final[ \t]+)?(?:answer|réponse(?:[ \t]+finale)?|antwort|respuesta)"
            r"|\bfinal[ \t]+answer|\bréponse[ \t]+finale)"  # "Final answer:" also mid-line
            r"[ \t]*(?:\*\*)?[ \t]*[:：](?:\*\*)?[ \t]*([^\n]+)",
            re.IGNORECASE,
        ),
    ),
)
MARKED = frozenset({"boxed", "fbox", "boxes"} | {name for name, _ in _TEXT_MARKERS})
_MARKER_WORDS = re.compile(r"\\boxed|\\fbox|####|答案|answer|réponse|antwort|respuesta", re.IGNORECASE)
_NUMBER = re.compile(
    r"-?\\[dt]?frac\s*(?:\{\s*-?\d+(?:\.\d+)?\s*\}|\d)\s*(?:\{\s*\d+(?:\.\d+)?\s*\}|\d)"  # \frac{3}{4} is one number
    r"|-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?|-?\.\d+"
)
_ZH_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
_ZH_DIGIT = "零〇一二两三四五六七八九十"  # a number starts with one of these: 千米 is a unit, not 1000
# A run of Chinese numerals counts when a measure word, a unit or the end of a sentence follows it
# (十五个, 三本, 二十元): 一共 and 统一 are words, not numbers.
_ZH_NUMBER = re.compile(
    rf"(?<![{_ZH_NUMERAL}\d])(?:百分之)?(?:[{_ZH_NUMERAL}]+分之)?[{_ZH_DIGIT}][{_ZH_NUMERAL}]*(?:点[{_ZH_NUMERAL}]+)?"
    r"(?=[个只本元条张支件名位人次天米克岁块台辆头匹棵朵把杯斤吨倍页道题]|[。！；，,.!;]|\s*$)"
)
_MATH_SPAN = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|\$([^$]+?)\$", re.DOTALL)
_PROSE_IN_MATH = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{2,}\s+[a-zA-Z]{2,}")  # "$5, and the tax is $2": prices
# Where a sentence ends inside an "answer is" line: ". " (not a decimal point), "? ", 。, or "because".
_SENTENCE_END = re.compile(
    r"(?<!\d)\.(?:\s|$)|\.\s|\?(?:\s|$)|。|；|;|\s+(?:because|since|as|car|puisque|weil|porque)\s", re.IGNORECASE
)
# A value named only to be ruled out: "6, not 5", "不是 5", "6 et non 5", "rather than 1/2".
_REJECTED_VALUE = re.compile(
    r"(?:\bnot|n't|\bnever|\brather\s+than|\binstead\s+of|\bet\s+non|\bpas|\bnon|不是|而不是|而非|并非|不等于)"
    r"\s*(?:(?:equal\s+to|be|égale?\s+à)\s+)?(?:\\?\$\s*)?-?\d+(?:[.,/]\d+)*(?:\s*\$)?",
    re.IGNORECASE,
)
_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_CJK_ONLY = re.compile(r"[\u4e00-\u9fff]+")
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)
# Between two boxes of one list of answers: separators, part labels and a few words, in en/fr/de/es/zh.
_TEXT_WRAPPER = re.compile(r"\\(?:text|textbf|textrm|mathrm|mbox)\s*\{([^{}]*)\}")
_GAP_MARKUP = re.compile(r"\$+|\\[\[\]()]|\\q?quad|\\[,;:! ]|~|\\\\|&|\*\*")
_GAP_LABEL = re.compile(r"\(\s*(?:[a-h]|[ivx]{1,4}|\d{1,2})\s*\)|(?<![\w])(?:[a-h]|[ivx]{1,4}|\d{1,2})\)")
_GAP_WORD = re.compile(r"[^\W\d_]+")
_GAP_NAME = re.compile(r"(?:\\?[a-z](?:_\{?\w+\}?)?)\s*=\s*$")  # "$ or $x = " before the next box
_GAP_JOINERS = {"and", "or", "et", "ou", "und", "oder", "y", "o", "和", "与", "及", "或", "以及", "或者"}
_GAP_WORDS = _GAP_JOINERS | {
    "for", "part", "parts", "in", "the", "case", "respectively", "pour", "la", "partie", "für", "teil", "para",
    "parte", "el", "bzw", "resp", "also", "as", "well", "第", "问", "小题",
}


class Extraction(NamedTuple):
    """The extracted answer (``None`` when nothing was found) and the pattern that found it."""

    answer: str | None
    pattern: str


class Thinking(NamedTuple):
    """A reasoning model's output cut in two (``thinking`` is ``None`` when there are no tags)."""

    thinking: str | None
    response: str
    finished: bool


def split_thinking(text: str) -> Thinking:
    """Cut ``<think>…</think>`` off; the opening tag may be missing (it is often in the chat template).

        >>> split_thinking("<think>hmm, 3?</think> 4")
        Thinking(thinking='hmm, 3?', response=' 4', finished=True)
        >>> split_thinking("<think>so far 9 + 4 =").finished
        False
    """
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        head = text[: closes[-1].start()]
        opened = _THINK_OPEN.search(head)
        return Thinking(head[opened.end() :] if opened else head, text[closes[-1].end() :], True)
    opened = _THINK_OPEN.search(text)
    if opened:
        return Thinking(text[opened.end() :], "", False)
    return Thinking(None, text, True)


def _boxes(text: str) -> list[tuple[int, int, str, str]]:
    """Every well-formed ``\\boxed{}`` / ``\\fbox{}`` (``\\boxed 5`` too): (start, end, content, command).

    An unclosed box (a truncated output) is skipped.
    """
    found = []
    for m in _BOXED.finditer(text):
        if m.end() < len(text) and text[m.end()] == "{":
            close = matching_brace(text, m.end())
            if close != -1 and text[m.end() + 1 : close].strip():
                found.append((m.start(), close + 1, text[m.end() + 1 : close].strip(), m.group(1)))
        else:
            token = re.match(r"[^\s$]+", text[m.end() :])
            if token:
                found.append((m.start(), m.end() + token.end(), token.group(0).rstrip(".,"), m.group(1)))
    return found


def joins_answers(gap: str) -> bool:
    r"""Is the text between two boxes a separator of one list of answers?

    ``, `` ``; `` ``and`` ``or`` ``\quad`` ``\text{ for part (b) and }`` 、 和 ``et`` ``und`` ``y`` join;
    whitespace alone, a sentence or a line of reasoning do not (the later box revises the earlier).

        >>> joins_answers(r" \quad \text{and} \quad "), joins_answers(" no, wait: "), joins_answers("\n\n")
        (True, False, False)
    """
    if len(gap) > 80:
        return False
    g = _TEXT_WRAPPER.sub(r" \1 ", gap)
    g = _GAP_MARKUP.sub(" ", g).casefold()
    separated = bool(re.search(r"[,;，；、]|\\q?quad", gap)) or any(w in _GAP_JOINERS for w in _GAP_WORD.findall(g))
    rest = _GAP_NAME.sub(" ", _GAP_LABEL.sub(" ", g))
    rest = re.sub(r"[,;，；、:：]", " ", rest)
    return separated and all(w in _GAP_WORDS for w in rest.split())


def _last_boxed(text: str) -> Extraction | None:
    """The last box, or the last run of boxes joined as one list of answers (``\\boxed{1}, \\boxed{2}``)."""
    boxes = _boxes(text)
    if not boxes:
        return None
    run = [boxes[-1]]
    for box in reversed(boxes[:-1]):
        if not joins_answers(text[box[1] : run[0][0]]):
            break
        run.insert(0, box)
    answers = list(dict.fromkeys(content for _, _, content, _ in run))  # the same box twice is one answer
    if len(answers) == 1:
        return Extraction(answers[0], run[-1][3])
    return Extraction(", ".join(answers), "boxes")


def drop_rejected(text: str) -> str:
    """Blank out the values a text names only to rule them out.

        >>> drop_rejected("It is 6, not 5.")
        'It is 6, .'
    """
    return _REJECTED_VALUE.sub("", text) if _REJECTED_VALUE.search(text) else text


def _tidy(answer: str) -> str:
    """Cut an answer phrase at the end of its sentence and drop wrapping markup."""
    m = _SENTENCE_END.search(answer)
    if m:
        answer = answer[: m.start()]
    answer = answer.strip().strip("*").strip().lstrip(",，;；:： ")
    if answer.startswith("$") and answer.count("$") == 2 and answer.endswith("$"):
        answer = answer.strip("$").strip()
    return answer.rstrip(".,;:。，").strip()


def find_marked(text: str) -> Extraction | None:
    """The answer behind an explicit marker (box first, then the last written marker), or ``None``.

        >>> find_marked("So the answer is 5.\\nChecking again... Final answer: 7")
        Extraction(answer='7', pattern='answer_colon')
        >>> find_marked("La réponse est 42.")
        Extraction(answer='42', pattern='answer_is')
    """
    if not _MARKER_WORDS.search(text):
        return None
    text = drop_rejected(text)
    boxed = _last_boxed(text)
    if boxed:
        return boxed
    found: list[tuple[int, str, str]] = []
    for name, pattern in _TEXT_MARKERS:
        m = pattern.search(text)
        while m:  # overlapping: "答案是 5。…最终答案：7" on one line holds two markers
            phrase = next((g for g in m.groups() if g is not None), "")
            answer = _tidy(phrase)
            if answer:
                found.append((m.start(m.lastindex or 1), name, answer))
            m = pattern.search(text, m.start() + 1)
    if not found:
        return None
    _, name, answer = max(found)
    return Extraction(answer, name)


def find_last_value(text: str) -> Extraction | None:
    r"""No marker: the value the text ends on, a math span or a number.

        >>> find_last_value(r"so the ratio is $\frac{3}{4}$.")
        Extraction(answer='\\frac{3}{4}', pattern='last_math')
        >>> find_last_value("所以盒子里一共有十五个球。")
        Extraction(answer='十五', pattern='last_number')
    """
    candidates: list[tuple[int, str, str]] = []
    text = drop_rejected(text)
    numbers = list(_NUMBER.finditer(text))
    if numbers:
        candidates.append((numbers[-1].end(), numbers[-1].group().rstrip(",").replace(" ", ""), "last_number"))
    zh = list(_ZH_NUMBER.finditer(text))
    if zh:
        candidates.append((zh[-1].end(), zh[-1].group(), "last_number"))
    for m in reversed(list(_MATH_SPAN.finditer(text))):
        span = next(g for g in m.groups() if g is not None).strip()
        if span and not _PROSE_IN_MATH.search(span):
            candidates.append((m.end(), span.rstrip(".,;"), "last_math"))
            break
    if not candidates:
        return None
    _, answer, pattern = max(candidates, key=lambda c: c[0])
    return Extraction(answer, pattern)


_PHRASE_WORD = re.compile(r"(?<![\\a-zA-Z])[^\W\d_]{3,}|[\u4e00-\u9fff]")
_MATH_WORDS = {"frac", "sqrt", "pi", "sin", "cos", "tan", "log", "ln", "cdot", "times", "infty", "mid", "text"}
_RESULT = re.compile(r"=\s*$")


def value_in_phrase(phrase: str) -> str | None:
    r"""The value a worded answer states: ``Il a payé 150 €`` gives ``150 €``, 每段长 (\frac{3}{4}) 米 gives
    ``\frac{3}{4}``; ``None`` for maths (``x^2 + 1 for x > 0``) or a phrase with several values.

    One value (a fraction counts as one), or the result of a written sum (``5 + 2 = 7 toys``), and
    any unit after it; a ruled-out value ("12, not 15") is dropped first.

        >>> value_in_phrase("Il a payé 150 € au total"), value_in_phrase("每段长 (\\frac{3}{4}) 米")
        ('150 €', '\\frac{3}{4}')
        >>> value_in_phrase("x^2 + 1 for x > 0") is None
        True
    """
    text = drop_rejected(phrase)
    words = [w for w in _PHRASE_WORD.findall(text) if w.lower() not in _MATH_WORDS]
    if not words or re.search(r"[\^_<>]|\\(?!frac|dfrac|tfrac|text|mathrm|,|!|;|\$)", text):
        return None
    numbers = list(_NUMBER.finditer(text))
    zh = list(_ZH_NUMBER.finditer(text)) if not numbers else []
    found = numbers or zh
    if not found:
        return None
    last = found[-1]
    if len(found) > 1 and not _RESULT.search(text[: last.start()]):
        return None
    unit = re.match(r"\s*\)?\s*((?:[^\W\d_]+|[€$£¥%°])(?:/[^\W\d_]+)?)?", text[last.end() :])
    value = last.group().rstrip(",")
    if numbers and unit and unit.group(1) and not _CJK_ONLY.fullmatch(unit.group(1)):
        return f"{value} {unit.group(1)}"
    return value


def extract_answer(text: str | None) -> Extraction:
    """Extract the final answer from a solution.

        >>> extract_answer("所以小明一共有 12 个苹果。答案是：12个")
        Extraction(answer='12个', pattern='zh_answer')
        >>> extract_answer("The answer is $3.5$. Done.")
        Extraction(answer='3.5', pattern='answer_is')
        >>> extract_answer("She pays 3 * 4 = 12 dollars, then 12 - 5 = 7.")
        Extraction(answer='7', pattern='last_number')
        >>> extract_answer("<think>There are 9 cats, so 9 + 4 =")
        Extraction(answer=None, pattern='none')
    """
    if not text:
        return Extraction(None, "none")
    thinking, response, finished = split_thinking(text)
    if not finished:
        return Extraction(None, "none")  # cut off while thinking: no answer was given
    found = find_marked(response) or find_last_value(response)
    if found is None and thinking and not response.strip():
        found = find_marked(thinking)
    return found or Extraction(None, "none")
