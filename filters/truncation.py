"""Drop answers that were cut off: by the engine's report, or, without one, by what the text shows.

`finish_reason == "length"` is the engine saying it stopped at `max_tokens` (Self-Instruct and Curator
drop these; recipes.md §6.4 `truncated`). Rows from elsewhere often carry no finish reason, so then
the text is read: an odd number of code fences (OpenMathInstruct drops broken code blocks), a bracket
or quote opened near the end and never closed, a last line that stops on a comma, a colon, a bare
list marker or a heading, or on a word that cannot end a sentence ("the", "and", "of"; 的, 和, 因为).
A missing full stop alone is not a cut: "The capital is Paris" is a whole answer. But an answer that
ends its sentences with full stops and whose last line then stops without one, inside a sentence (a
comma or an earlier sentence on that line, or a long run of words; in Chinese a ，/、 or an earlier
。 on that line), was stopped mid-sentence: "…heavy traffic. The route then", "…菜品方面，他们的麻辣烫
和水煮鱼都非". Lists whose items carry no full stop, titles, signatures, poems and single lines are not
read this way. `text_checks` chooses when the text is read (auto: only without a finish reason).
"""

from __future__ import annotations

import re
from typing import Literal

from synth.filter import Decision, Filter, FilterOptions, finish_reason, option
from synth.text import strip_code

_FENCE_LINE = re.compile(r"(?m)^[ \t]*(?:```|~~~)")
_PAIRS = {"(": ")", "[": "]", "{": "}", "（": "）", "【": "】", "《": "》", "「": "」", "『": "』", "“": "”", "‘": "’"}
_CLOSERS = {v: k for k, v in _PAIRS.items()}
_LOW_OPENERS = {"„": "“"}  # German „…“: the closing mark is English's opening one
_LIST_MARKER = re.compile(r"^\s*(?:\d+[.)、]|[-*•+]|[（(]?\d+[)）]|[一二三四五六七八九十]+、)\s*$")
_HEADING = re.compile(r"^\s*#{1,6}\s+(?![-\d$\\])\S")  # not GSM8K's "#### 42"
_OPEN_END = re.compile(r"[,，、:：；\-–—(（\[【《「“]\s*$")  # ";" ends a statement of code (SELECT ...;)
CONNECTORS_EN = frozenset(
    "the a an and or of to in with for from by as at on that which is are was were be but because if than such "
    "this these those their its our your my into onto over under between while when where whose will would can "
    "could should must may might has have had not very more most nor so both either neither via per like".split())
CONNECTORS_ZH = ("因为", "所以", "如果", "例如", "比如", "包括", "以及", "但是", "并且", "或者", "而且", "首先", "其次",
                 "然后", "由于", "虽然", "的", "和", "与", "及", "或", "在", "把", "被", "对", "从", "向", "并", "而",
                 "但", "将", "让", "跟", "于", "以", "即")
_LAST_WORD = re.compile(r"\b([A-Za-z]+)$")
# sentence structure: where sentences end, and what can close one
_SENT_END = re.compile(r"[.!?。！？…][\"'”’」』）)\]]*$")
_SENT_INNER = re.compile(r"[.!?](?=\s)|[。！？]")
_CLAUSE_MARK = re.compile(r"[,，、;；:：]")
_CURRENCY = re.compile(r"\$(?=\d)")  # $179.06 is money, not the start of a formula
_LINK = re.compile(r"(https?://[^\s)\]>]+)")  # a URL, without the bracket that closes a Markdown link
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
_ITEM = re.compile(r"^\s*(?:\d+[.)、]|[-*•+]|[（(]?\d+[)）]|[一二三四五六七八九十]+、)\s*")
_CLOSING_TAIL = re.compile(r"[\"'”’」』）)\]>*_~`|]$|[\U0001F300-\U0001FAFF\u2600-\u27BF]$")
_CODE_OR_MATH_END = re.compile(r"(?:```|~~~|`|\$|\\\]|\\\)|https?://\S+)\s*$")


def unclosed_bracket(text: str) -> int:
    """Position of the last bracket or curly quote left open (-1 if all close); strays closers are ignored,
    so list items like "1)" do not count."""
    stack: list[int] = []
    for i, ch in enumerate(text):
        if stack and _LOW_OPENERS.get(text[stack[-1]]) == ch:
            stack.pop()
        elif ch in _PAIRS or ch in _LOW_OPENERS:
            stack.append(i)
        elif ch in _CLOSERS:
            for depth in range(len(stack) - 1, -1, -1):
                if text[stack[depth]] == _CLOSERS[ch]:
                    del stack[depth:]
                    break
    return stack[-1] if stack else -1


class TruncationOptions(FilterOptions):
    text_checks: Literal["auto", "always", "never"] = option(
        "auto", "read the text for cuts: auto (only when the row has no finish reason), always, never")
    bracket_window: int = option(200, "a bracket left open within this many final characters is a cut", ge=1)


class TruncationFilter(Filter):
    """Reject answers stopped at max_tokens, or that read as cut off (fence, bracket, sentence, list)."""

    name = "truncation"
    description = "Drop cut-off answers: finish_reason=length, or from the text (open fence, bracket, cut sentence/list)."
    Options = TruncationOptions
    reasons = ("truncation_finish_reason", "truncation_code_fence", "truncation_bracket", "truncation_cut_list",
               "truncation_cut_sentence")

    def filter(self, record):
        reason = finish_reason(record)
        if reason == "length":
            return False, "truncation_finish_reason"
        mode = self.options.text_checks
        if mode == "never" or (mode == "auto" and reason is not None):
            return True
        return self.from_text(self.answer(record).rstrip())

    def from_text(self, text: str) -> bool | tuple[bool, str] | Decision:
        if not text:
            return True  # empty answers are the length filter's business
        if len(_FENCE_LINE.findall(text)) % 2:
            return False, "truncation_code_fence"
        if _CODE_OR_MATH_END.search(text):
            return True  # ends with a closed code block or a formula: the prose before it says nothing
        prose = strip_code(_LINK.sub(" ", _CURRENCY.sub("USD ", text)), math=True).rstrip()
        if not prose:
            return True
        open_at = unclosed_bracket(prose)
        if open_at >= 0 and len(prose) - open_at <= self.options.bracket_window:
            return Decision(False, "truncation_bracket", detail=prose[open_at:open_at + 40])
        last = prose.splitlines()[-1].strip() if prose.splitlines() else ""
        if _LIST_MARKER.match(last) or _HEADING.match(last) or _OPEN_END.search(last):
            return Decision(False, "truncation_cut_list" if _LIST_MARKER.match(last) or _HEADING.match(last)
                           or last.endswith((":", "：")) else "truncation_cut_sentence", detail=last[-40:])
        word = _LAST_WORD.search(last)
        if word and word.group(1).lower() in CONNECTORS_EN:
            return Decision(False, "truncation_cut_sentence", detail=last[-40:])
        if last.endswith(CONNECTORS_ZH):
            return Decision(False, "truncation_cut_sentence", detail=last[-40:])
        if _stops_mid_sentence(prose):
            return Decision(False, "truncation_cut_sentence", detail=last[-40:])
        return True


def _stops_mid_sentence(prose: str) -> bool:
    """The answer ends its sentences with full stops, and its last line stops inside one.

    >>> _stops_mid_sentence("Take the bus. It is cheap, and the route then goes past the old")
    True
    >>> _stops_mid_sentence("先称好面粉。然后揉面十分钟，直到面团光滑，再放入")
    True
    >>> _stops_mid_sentence("Fruits:\\n- Apple\\n- Banana split with cream"), _stops_mid_sentence("The capital is Paris")
    (False, False)
    """
    lines = [line.strip() for line in prose.splitlines() if line.strip()]
    if not lines:
        return False
    last = lines[-1]
    if _SENT_END.search(last) or _CLOSING_TAIL.search(last) or _LIST_MARKER.match(last):
        return False
    item = _ITEM.match(last)
    body = last[item.end():] if item else last
    cjk = len(_CJK_CHAR.findall(body)) > len(body.split())
    # the answer's own habit: do its other sentences (earlier lines, earlier sentences of this line) end with a stop?
    earlier = lines[:-1]
    inner = _SENT_INNER.search(body) is not None
    if item and not inner:  # a list item without a sentence in it: only if its sibling items end with full stops
        siblings = [line for line in earlier if _ITEM.match(line)]
        if not siblings or sum(bool(_SENT_END.search(s)) for s in siblings) < 0.8 * len(siblings):
            return False
    punctuates = inner or (earlier and sum(bool(_SENT_END.search(line)) for line in earlier) >= 0.5 * len(earlier))
    if not punctuates:
        return False
    tail = re.split(r"[.!?。！？]\s*", body)[-1]
    last_clause = _CLAUSE_MARK.split(tail)[-1]  # "最终答案：42", "Cause: funds" end on a value, not mid-clause
    if cjk:
        size = len(_CJK_CHAR.findall(tail))
        return size >= 4 and len(_CJK_CHAR.findall(last_clause)) >= 3 and (
            inner or _CLAUSE_MARK.search(tail) is not None or size >= 15)
    words = len(tail.split())
    return words >= 4 and len(last_clause.split()) >= 2 and (
        inner or _CLAUSE_MARK.search(tail) is not None or words >= 12)
