"""Read the answer out of what a model wrote: a bare answer, a whole solution, or ``<think>…</think>``.

``check`` takes either. A prediction is read, in this order:

1. a text that stops inside ``<think>`` has no answer; otherwise only what follows ``</think>``
   counts (the thinking is searched for a marked answer when nothing follows it);
2. an explicit marker (``\\boxed``, ``####``, 答案, "final answer", "the answer is", "Answer:",
   "la réponse est") gives the answer: the box, else the marker written last;
3. a plain value (``72 clips``, ``三百``, ``x = 5``) or plain words are compared as they are;
4. prose (a sentence, several lines) gives the value it ends on: its last math span or number;
5. anything else (LaTeX, lists, expressions) is compared as it is.

Everywhere, a value named only to be ruled out ("6, not 5", 不是 5, "et non 5") is dropped first.

``pattern`` on the result records which extraction was used (``None``: the text as given).

    >>> read_prediction("First 2 + 3 = 5.\\nAnswer: 2x + 3")
    Reading(answer='2x + 3', pattern='answer_colon', detail=None)
    >>> read_prediction("<think>9 + 4 =")
    Reading(answer=None, pattern='none', detail='the text stops inside <think>: no final answer')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from synth.text import count_cjk
from synth.verify.extract import drop_rejected, find_last_value, find_marked, split_thinking

_WORD = re.compile(r"(?<![\\a-zA-Z])[^\W\d_]{2,}")


class Reading(NamedTuple):
    """The answer to compare (``None``: there is none), how it was found, and why not when not."""

    answer: str | None
    pattern: str | None
    detail: str | None = None


def is_prose(text: str) -> bool:
    """A sentence or several lines, not an answer: ``In April she sold 48 clips.``, 所以一共有十五个球。

        >>> is_prose("12 apples"), is_prose("x^2 + 2x + 1 for all real x"), is_prose("他一共走了 18 千米。")
        (False, False, True)
    """
    s = text.strip()
    if "\n" in s:
        return True
    cjk = count_cjk(s)
    if cjk >= 4:
        return cjk >= 6 or s[-1:] in "。！？"
    return len(_WORD.findall(s)) >= 4


def read_prediction(text: str, is_value: Callable[[str], bool] = lambda s: False) -> Reading:
    """Find the answer to compare in ``text``; ``is_value`` says a text is an answer as it stands."""
    thinking, response, finished = split_thinking(text)
    if not finished:
        return Reading(None, "none", "the text stops inside <think>: no final answer")
    marked = find_marked(response)
    if marked:
        return Reading(marked.answer, marked.pattern)
    body = response.strip()
    if thinking is not None and not body:
        marked = find_marked(thinking)
        if marked:
            return Reading(marked.answer, marked.pattern)
        return Reading(None, "none", "nothing after </think> and no marked answer in the thinking")
    if not is_value(body) and is_prose(body):
        last = find_last_value(body)
        if last:
            return Reading(last.answer, last.pattern)
    kept = drop_rejected(body)
    if kept != body:  # "It is 6, not 5.": what is left after the ruled-out value
        last = find_last_value(kept) if _WORD.search(kept) else None
        return Reading(last.answer, last.pattern) if last else Reading(kept.strip(" ,，.;；。"), "rejected_dropped")
    return Reading(body, "after_thinking") if thinking is not None else Reading(text, None)


def read_gold(text: str) -> Reading:
    """A gold *solution* (GSM8K's ``… #### 72``, MATH's boxed solution) gives its marked answer.

        >>> read_gold("48 / 2 = 24 in May.\\n#### 72")
        Reading(answer='72', pattern='hash', detail=None)
    """
    marked = find_marked(text)
    return Reading(marked.answer, marked.pattern) if marked else Reading(text, None)
