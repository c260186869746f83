"""Multiple-choice letters: ``B``, ``(B)``, ``答案：B``, ``option b``, and letters in prose.

A gold answer is a choice when it is a single capital letter A–J (``B``, ``(B)``, ``B.``), possibly
followed by the option's text (``B. 3/4``, ``(C) 12 cm``); a lowercase ``e`` or ``x`` stays math.

A prediction commits to the letter it *chooses*; letters it rules out do not count, in English,
Chinese or French ("not A", "A and C are wrong", 排除 A, 不是 A, "on élimine A", "pas A"):

1. the last letter behind an explicit choice ("the answer is C", "correct option: C", 答案是 C,
   选 C, "la réponse est C", "C is correct", C 正确);
2. else the last one behind a conclusion ("so C", "which leaves C", 所以 C, 故 C, "donc C");
3. else the one letter named that is not ruled out; several: no commitment.

    >>> gold_choice("(C)"), gold_option("B. 3/4")
    ('C', ('B', '3/4'))
    >>> find_choice("The correct option is (b) because ...")
    'B'
    >>> find_choice("A is too small and C counts twice, which leaves B.")
    'B'
    >>> find_choice("答案是 C，不是 A。"), find_choice("On élimine A et D, donc B.")
    ('C', 'B')
"""

from __future__ import annotations

import re

from synth.verify.normalize import clean

_GOLD = re.compile(r"\(?\s*([A-J])\s*\)?[.:)]?")
_GOLD_WITH_TEXT = re.compile(r"(?:[(（]\s*([A-J])\s*[)）]|([A-J])\s*[.:：、)）])\s*(\S.*)", re.DOTALL)
# "B Bertrand", "C 12 cm": a letter, a space, then the option's text (not "A triangle", "I think").
# A and I are English words ("A Tale of Two Cities"): never read this way.
_GOLD_SPACED = re.compile(r"([B-HJ])\s+(?=[A-Z0-9$\\(\[\u4e00-\u9fff-])(\S.*)", re.DOTALL)
_BARE = re.compile(r"\(?\s*([A-J])\s*\)?[.:)]?", re.IGNORECASE)
# A letter written as a variable: an operator or a digit right next to it.
_MATH_BEFORE_LETTER = re.compile(r"(?:[*×·^/=_+\-]|\\cdot|\\times)\s*$|\d$")
_MATH_AFTER_LETTER = re.compile(r"\s*(?:[*×·^/=_+]|\\cdot|\\times)|-\s*\d|\d")
# A prediction written as an option: "B) 0.26", "C. 1-i", "(D) 12 cm" (the text names no other letter).
_PRED_OPTION = re.compile(r"(?:[(（]\s*([A-J])\s*[)）]|([A-J])\s*[.:：、)）])\s*(\S.*)", re.DOTALL)

# A letter: in parentheses (any case), a standalone capital, or a lowercase one ending the text.
_MENTION = re.compile(
    r"[(（]\s*(?P<paren>[A-Ja-j])\s*[)）]|(?<![A-Za-z0-9])(?P<cap>[A-J])(?![A-Za-z0-9'’])"
    r"|(?<![A-Za-z0-9])(?P<low>[a-j])(?=[.)]?\s*$)"
)
# "A" and "I" are also English words: before a lowercase word they count only when it is a verb.
_LETTER_VERBS = {
    "is", "was", "are", "were", "and", "or", "has", "fits", "gives", "would", "does", "can", "cannot",
    "also", "matches", "works", "seems", "looks", "est", "et", "ou", "ist", "und", "oder", "y", "o", "es",
}
_JOIN = re.compile(r"\s*(?:,|、|，|/|&|\band\b|\bor\b|\bet\b|\bou\b|和|与|及|或)\s*")
_CLAUSE = r"[^.,;:!?。，；：！？\n]"
_COMMIT_BEFORE = re.compile(
    r"(?:\b(?:answer|option|choice)\s+(?:is|would be|should be|must be)"
    r"|\b(?:correct|right|best|final)\s+(?:answer|option|choice)(?:\s+is)?"
    r"|\b(?:answer|option|choice)\s*[:：]|\bI\s+(?:choose|pick|picked|chose|select|go with)|\b(?:choose|select)"
    r"|(?:bonne\s+)?réponse(?:\s+(?:correcte|finale))?\s*(?:est|serait|:)|\bje\s+choisis|\bon\s+choisit"
    r"|respuesta(?:\s+correcta)?\s+es|antwort\s+ist"
    r"|(?:正确|最终)?(?:答案|选项)\s*(?:应该|应)?\s*(?:是|为|选)?|正确的(?:是|为)|应选|故选|所以选|因此选|选择|选)"
    r"\s*[:：]?\s*$",
    re.IGNORECASE,
)
_COMMIT_AFTER = re.compile(
    r"^\s*(?:项|选项)?\s*(?:is\s+(?:the\s+)?(?:correct|right|answer)|fits|works|est\s+(?:la\s+)?(?:bonne|correcte|juste)"
    r"|(?:是)?正确|是对的|对)",
    re.IGNORECASE,
)
_CONCLUDE_BEFORE = re.compile(
    r"(?:\b(?:so|thus|hence|therefore|leaves|leaving|only)|\bdonc|\bd'où|\breste|所以|因此|故|只有|剩下|则)"
    r"\s*[,:，：]?\s*(?:(?:the\s+)?(?:answer|option)\s+)?$",
    re.IGNORECASE,
)
_REJECT_BEFORE = re.compile(
    rf"(?:\bnot|n't|\brule[sd]?\s+out|\bruling\s+out|\beliminat\w*|\bexclud\w*|\bexcept|\binstead\s+of|\brather\s+than"
    rf"|\bpas|\bnon|\bexclu\w*|\bélimin\w*|\bsauf|排除|不是|不选|除了|非){_CLAUSE}{{0,12}}$",
    re.IGNORECASE,
)
_REJECT_AFTER = re.compile(
    r"^\s*(?:(?:is|are|was|were|seems?|looks?)\s+)?(?:(?:also|both|all|clearly|obviously|then)\s+)?"
    r"(?:wrong|incorrect|false|impossible|out\b|ruled\s+out|eliminated|excluded|not\b|too\s+\w+)"
    r"|^\s*(?:项|选项)?\s*(?:也|都|均|明显|显然)?\s*(?:不对|错|不正确|不符合|不成立|不行|排除|可排除)"
    r"|^\s*(?:(?:est|sont)\s+)?(?:aussi\s+)?(?:faux|fausses?|exclues?|éliminée?s?|incorrecte?s?|impossibles?)",
    re.IGNORECASE,
)


def gold_option(text: str) -> tuple[str, str | None] | None:
    """``(letter, option text or None)`` when the gold answer is an option, else ``None``.

        >>> gold_option("B"), gold_option("(C) 12 cm"), gold_option("x")
        (('B', None), ('C', '12 cm'), None)
    """
    s = clean(text)
    m = _GOLD.fullmatch(s)
    if m:
        return m.group(1), None
    m = _GOLD_WITH_TEXT.fullmatch(s)
    if m:
        return m.group(1) or m.group(2), m.group(3).strip()
    m = _GOLD_SPACED.fullmatch(s)
    if m and not _MATH_AFTER_LETTER.match(s[1:]):
        return m.group(1), m.group(2).strip()
    return None


def gold_choice(text: str) -> str | None:
    """The letter if ``text`` is an option (``B``, ``(B)``, ``B. 3/4``), else ``None``."""
    option = gold_option(text)
    return option[0] if option else None


def _mentions(s: str) -> list[tuple[int, int, str]]:
    found = []
    for m in _MENTION.finditer(s):
        letter = m.group("paren") or m.group("cap") or m.group("low")
        if not m.group("paren") and (_MATH_BEFORE_LETTER.search(s[: m.start()]) or _MATH_AFTER_LETTER.match(s[m.end() :])):
            continue  # D*3, 2D, D^2, x = D: a variable in an expression, not an option
        if m.group("cap") in ("A", "I"):
            word = re.match(r"\s+([a-z][\w']*)", s[m.end() :])
            if word and word.group(1) not in _LETTER_VERBS:
                continue  # "A triangle has", "I think": words
        found.append((m.start(), m.end(), letter.upper()))
    return found


def _groups(s: str, mentions: list[tuple[int, int, str]]) -> list[tuple[int, int, list[str]]]:
    """Letters joined by "and" / "or" / commas / 和 / et form one group: "A and C are wrong"."""
    groups: list[tuple[int, int, list[str]]] = []
    for start, end, letter in mentions:
        if groups and _JOIN.fullmatch(s[groups[-1][1] : start]):
            groups[-1] = (groups[-1][0], end, groups[-1][2] + [letter])
        else:
            groups.append((start, end, [letter]))
    return groups


def find_choice(text: str) -> str | None:
    """The choice letter a prediction commits to, or ``None`` (lenient: for model answers).

        >>> find_choice("b"), find_choice("(A) or (B)"), find_choice("The answer is C, not B.")
        ('B', None, 'C')
    """
    s = clean(text)
    m = _BARE.fullmatch(s)
    if m:
        return m.group(1).upper()
    m = _PRED_OPTION.fullmatch(s)
    if m and len(s) <= 200 and "\n" not in s and not any(
        letter != (m.group(1) or m.group(2)) for _, _, letter in _mentions(m.group(3))
    ):
        return m.group(1) or m.group(2)  # the option written out
    commits, conclusions, kept = [], [], set()
    for start, end, letters in _groups(s, _mentions(s)):
        before, after = s[max(0, start - 60) : start], s[end : end + 40]
        if _REJECT_BEFORE.search(before) or _REJECT_AFTER.match(after):
            continue
        if _COMMIT_BEFORE.search(before) or _COMMIT_AFTER.match(after):
            commits.append(letters)
        elif _CONCLUDE_BEFORE.search(before):
            conclusions.append(letters)
        kept.update(letters)
    for chosen in (commits, conclusions):
        if chosen:
            last = set(chosen[-1])
            return last.pop() if len(last) == 1 else None
    return kept.pop() if len(kept) == 1 else None
