"""Reward functions for RL trainers: an answer scored against a checker spec (`verifier` on every doc-quiz record and RL row).

verl (`compute_score`) and TRL (`trl_reward`) import them from here. The same checks that verify the data score a policy's answers: ``score(verifier, completion) -> 1.0 | 0.0``,
never raising. A completion may think first (``<think>…</think>`` is dropped) and may end with
"Answer: …" / "答案：…"; the text after the last such label is the answer, else the last line.

Kinds:

- ``exact_span``: the masked span of a cloze item; equal after folding (width, case, whitespace,
  quotes: synth.grounding's normalisation), or equivalent by synth.verify.check (numbers, units);
- ``choice``: option letters; ``choices`` lists the correct ones (``answer``: them as text), the prediction must name exactly that
  set (single answer: synth.verify.find_choice; an option written out counts as its letter);
- ``bool``: ``answer`` "true" / "false"; predictions in English or Chinese (正确/错误, 对/错, 是/否, √/×);
- ``equivalence``: a short answer compared by synth.verify.check (numbers with units, dates, names).

>>> v = {"kind": "choice", "answer": "B, D", "choices": ["B", "D"], "options": [{"letter": "A", "text": "x"}]}
>>> score(v, "B, D"), score(v, "答案：B、D"), score(v, "B"), score(v, "A, B, D")
(1.0, 1.0, 0.0, 0.0)
>>> score({"kind": "bool", "answer": "false"}, "<think>the text says 8 hours</think>错误")
1.0
>>> score({"kind": "exact_span", "answer": "120℃"}, "Answer: 120 ℃"), score({"kind": "exact_span", "answer": "120℃"}, "150℃")
(1.0, 0.0)
"""

from __future__ import annotations

import re

from synth.grounding.fold import normalize

_THINK = re.compile(r"<think>.*?</think>", re.S)
_LABEL = re.compile(r"(?:final answer|answer|答案|回答)\s*(?:is|为|是)?\s*[:：]?\s*", re.I)
_LETTERS = re.compile(r"^[\s(（\[]*([A-Z])(?:[\s)）\].]*(?:[,，、;；/和及]|and|\s)+[\s(（\[]*([A-Z]))*[\s)）\].。]*$")
_TRUE = {"true", "t", "yes", "correct", "right", "正确", "对", "是", "√", "✓", "true.", "对的", "正确。"}
_FALSE = {"false", "f", "no", "incorrect", "wrong", "错误", "错", "否", "×", "✗", "false.", "错的", "错误。", "不正确", "不对"}
# a prediction that qualifies a value the gold states plainly ("2小时以上", "about 5 bar") is another answer
_QUALIFIER = re.compile(r"以上|以下|以内|不到|不足|至少|至多|最多|最少|超过|大约|约|左右|不|没|"
                        r"\b(?:more|less|fewer|at least|at most|about|approximately|around|over|under|up to|"
                        r"not|no|never|roughly|nearly|almost)\b", re.I)


def final_answer(completion: str) -> str:
    """The answer part of a completion: after the last "Answer:" / "答案：" label, else its last line."""
    text = _THINK.sub("", completion or "")
    text = re.sub(r"^.*</think>", "", text, flags=re.S).strip()
    labels = list(_LABEL.finditer(text))
    if labels:
        text = text[labels[-1].end():]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    out = lines[-1] if lines and not labels else (lines[0] if lines else "")
    return out.strip().strip("*").strip()


def letters(text: str) -> set[str] | None:
    """The set of option letters a short answer names ("B, D", "B、D", "(A) and (C)"), else None."""
    s = text.strip().upper()
    if not re.fullmatch(r"[\sA-Z(（)）\[\].,，、;；/和及]*", s) or len(s) > 40:
        return None
    words = re.findall(r"[A-Z]+", s)
    if any(len(w) > 1 and w != "AND" for w in words):  # "NOT B", "AB": not a list of letters
        return None
    return {w for w in words if len(w) == 1} or None


def _bool(text: str) -> bool | None:
    s = text.strip().strip("。.!！").casefold()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


def score(verifier: dict, completion: str | None) -> float:
    """1.0 when ``completion`` answers the item right by ``verifier``, else 0.0; never raises."""
    try:
        return 1.0 if _correct(verifier, completion or "") else 0.0
    except Exception:  # noqa: BLE001 - a reward must not stop training
        return 0.0


def _correct(verifier: dict, completion: str) -> bool:
    kind = verifier.get("kind")
    answer = final_answer(completion)
    if not answer:
        return False
    gold = verifier.get("answer")
    if kind == "bool":
        want = gold if isinstance(gold, bool) else _bool(str(gold))
        return want is not None and _bool(answer) is want
    if kind == "choice":
        want = {str(g).upper() for g in verifier.get("choices") or letters(str(gold)) or ()}
        got = letters(answer)
        if got is None:
            by_text = {normalize(o["text"]): o["letter"] for o in verifier.get("options") or []}
            named = by_text.get(normalize(answer))
            if named is None and len(want) == 1:
                from synth.verify import find_choice

                named = find_choice(answer)
            got = {named} if named else None
        return got == want
    if kind in ("exact_span", "equivalence"):
        if normalize(answer).strip("。.") == normalize(str(gold)).strip("。."):
            return True
        if {m.group().casefold() for m in _QUALIFIER.finditer(answer)} - \
                {m.group().casefold() for m in _QUALIFIER.finditer(str(gold))}:
            return False
        from synth.verify import check

        return check(str(gold), answer, use_math_verify=False).correct
    return False


def _verifier_of(data_source: str | None, ground_truth, extra_info: dict | None) -> dict:
    spec = (extra_info or {}).get("verifier")
    if isinstance(spec, str):
        import json

        spec = json.loads(spec)
    if isinstance(spec, dict):
        return spec
    fmt = str(data_source or "").rsplit("/", 1)[-1]
    kind = {"cloze": "exact_span", "mcq": "choice", "true_false": "bool"}.get(fmt, "equivalence")
    return {"kind": kind, "answer": str(ground_truth), "choices": sorted(letters(str(ground_truth)) or ())
            if kind == "choice" else []}


def compute_score(data_source, solution_str, ground_truth, extra_info=None) -> float:
    """verl's custom reward signature (``custom_reward_function.path`` = this file, ``name`` =
    ``compute_score``) over the ``rl`` export's columns: the checker spec from ``extra_info.verifier``,
    else the kind from ``data_source`` (synth/doc-quiz/<format>) and ``ground_truth``.

    >>> compute_score("synth/doc-quiz/mcq", "Answer: C", "C"), compute_score("synth/doc-quiz/true_false", "错误", "false")
    (1.0, 1.0)
    """
    try:
        return score(_verifier_of(data_source, ground_truth, extra_info), solution_str)
    except Exception:  # noqa: BLE001 - a reward must not stop training
        return 0.0


def trl_reward(prompts, completions, verifier=None, **columns) -> list[float]:
    """A TRL ``GRPOTrainer`` reward function over the ``rl`` export (its ``verifier`` column arrives as a
    keyword list); completions may be strings or conversational ``[{role, content}]`` lists.

    >>> trl_reward(["q"], [[{"role": "assistant", "content": "B"}]], verifier=[{"kind": "choice", "answer": "B"}])
    [1.0]
    """
    out = []
    for i, completion in enumerate(completions):
        if isinstance(completion, list):
            completion = (completion[-1] or {}).get("content", "") if completion else ""
        spec = (verifier or [None] * len(completions))[i] or {}
        out.append(score(spec, completion))
    return out
