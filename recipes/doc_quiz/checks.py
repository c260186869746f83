"""Rule checks of doc-quiz items (no model calls), cheapest first. Each returns a reason or None.

- spans: an answer, a cloze sentence, an option is *in the chunk* when its folded form (synth.grounding's
  normalisation: width, case, whitespace incl. PDF line breaks, quotes, dashes) is an exact substring;
  its offsets in the original chunk are recorded;
- give-aways: the answer (folded), or every number of it, appears in the question;
- standalone: the question points at a text its reader does not have (doc-qa's CONTEXT_DEPENDENT);
- MCQ: duplicate options, a distractor equal to a correct option, options guessable by length or
  form (only the answer carries a number, or only it lacks one);

- true/false: the altered statement must differ from the chunk's statement by a negation alone or by a
  changed number (a contradiction by construction); anything else is left to the judge.

>>> ctx = "焊接前预热温度不低于120℃，层间温度应控制在120～250℃之间。"
>>> span("120 ℃", ctx)
(10, 14)
>>> leaked("120℃", "焊接前预热温度不低于120℃吗？"), leaked("120℃", "焊接前的预热温度不低于多少？")
(True, False)
>>> alteration("Lockout is required before servicing.", "Lockout is not required before servicing.")
'negation'
>>> alteration("Lockout is required before servicing.", "Lockout is not optional before servicing.") is None
True
>>> alteration("保温时间不少于2小时。", "保温时间不少于3小时。"), alteration("保温时间为2小时。", "保温时间为3小时。")
(None, 'number')
>>> mcq_problem("How often are audits held?", ["every 12 months"], ["once a year", "when needed", "after repairs"])
'mcq_guessable_form'
>>> mcq_problem("How often are audits held?", ["every 12 months"], ["every 6 months", "every 2 years", "weekly"]) is None
True
"""

from __future__ import annotations

import difflib
import re
import unicodedata

from synth.grounding import Context, as_context, find_numbers, normalize, normalize_map
from synth.recipes.doc_qa.questions import context_dependent

_EN_NEG = {"not", "no", "never", "n't", "cannot", "none", "nor", "neither", "without"}
_ZH_NEG = set("不没未非无勿别")
# a statement with a bound ("at least 120") stays true when the number moves the lenient way
_BOUND = re.compile(r"不低于|不少于|不超过|不高于|不大于|不小于|至少|至多|最多|最少|以上|以下|以内|超过|低于|高于"
                    r"|at least|at most|no (?:more|less|fewer) than|up to|more than|less than|fewer than"
                    r"|minimum|maximum|exceed", re.I)
_STOP = {"the", "a", "an", "of", "to", "and", "or", "in", "on", "is", "are", "be", "it", "this", "that", "for",
         "的", "了", "和", "与", "或", "在", "是"}


def span(text: str, context: str | Context) -> tuple[int, int] | None:
    """(start, end) of ``text`` in the context's original characters, matched after folding; None when absent."""
    ctx = as_context(context)
    needle = normalize(text)
    if not needle:
        return None
    folded, index = normalize_map(ctx.text)
    i = folded.find(needle)
    if i < 0:
        return None
    return index[i], index[i + len(needle) - 1] + 1


def occurrences(text: str, context: str) -> int:
    needle = normalize(text)
    return normalize(context).count(needle) if needle else 0


def leaked(answer: str, question: str) -> bool:
    """The question gives its answer away: the answer's folded text, or all its numbers, are in it."""
    a, q = normalize(answer), normalize(question)
    if a and a in q:
        return True
    numbers = {m.value for m in find_numbers(answer)}
    return bool(numbers) and numbers <= {m.value for m in find_numbers(question)}


def standalone_problem(question: str) -> str | None:
    return "question_not_standalone" if context_dependent(question) else None


def trivial(answer: str) -> bool:
    """A blank nobody can get wrong or right: punctuation, one Latin letter, a stop word."""
    a = normalize(answer).strip(" .,;:，。；：、")
    return not re.search(r"[\w\u4e00-\u9fff]", a) or a in _STOP or (len(a) < 2 and a.isascii() and not a.isdigit())


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold().strip(" .。!！")
    if re.search(r"[\u4e00-\u9fff]", folded):
        return re.findall(r"[\u4e00-\u9fff]|[a-z]+|\d+(?:\.\d+)?|\S", folded)
    return re.findall(r"n't|[a-z]+|\d+(?:\.\d+)?|\S", folded.replace("n't", " n't"))


def alteration(statement: str, altered: str) -> str | None:
    """How ``altered`` contradicts ``statement`` by construction: ``negation`` (only negation words
    added or removed, their count changing parity), ``number`` (only numbers changed, and no bound such as
    "at least" that a changed number could still satisfy), else None (not provable by rule)."""
    a, b = _tokens(statement), _tokens(altered)
    if a == b:
        return None
    changed = [t for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
               if op != "equal" for t in a[i1:i2] + b[j1:j2]]
    neg = _EN_NEG | _ZH_NEG
    if changed and all(t in neg for t in changed):
        return "negation" if sum(t in neg for t in a) % 2 != sum(t in neg for t in b) % 2 else None
    if changed and all(re.fullmatch(r"\d+(?:\.\d+)?", t) for t in changed) and not _BOUND.search(statement):
        return "number"
    return None


def mcq_problem(question: str, correct: list[str], distractors: list[str]) -> str | None:
    """Rule-level faults of one MCQ (before the chunk is consulted)."""
    options = [normalize(o) for o in correct + distractors]
    if any(not o for o in options):
        return "mcq_empty_option"
    if any(normalize(d) in {normalize(c) for c in correct} for d in distractors):
        return "mcq_distractor_also_correct"
    if len(set(options)) < len(options):
        return "mcq_duplicate_option"
    if any(leaked(c, question) for c in correct):
        return "answer_leaked"
    if len(correct) == 1 and distractors:
        longest = max(len(normalize(d)) for d in distractors)
        if len(options[0]) >= 12 and len(options[0]) > 2 * longest:
            return "mcq_guessable_length"
        digits = [bool(re.search(r"\d", o)) for o in correct + distractors]
        if digits[0] != digits[1] and len(set(digits[1:])) == 1:  # only the answer has (or lacks) a number
            return "mcq_guessable_form"
    return None
