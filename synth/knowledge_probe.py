"""The knowledge probe: what the model being trained (the student) already knows of a text.

After GraphGen (Chen et al. 2025, arXiv 2505.20416): a writer model states facts of the text and a
minimally negated copy of each (one number, name or relation changed); the student is asked whether
each statement is true, and its comprehension loss on the text is the mean cross-entropy of the right
answer. Generation then spends its questions where the loss is high (doc-qa's `probe` option).

Two ways to read the student, and the result says which was used (`method`):
- `logprobs`: one greedy request per statement with `top_logprobs`, P(yes) = the mass of the yes-tokens
  over yes + no among the first token's likeliest (vLLM, llama.cpp and OpenAI give them); loss =
  mean -ln P(right answer).
- `accuracy` (servers without logprobs): `samples` sampled answers per statement, P(right) = the share
  answering right; loss = 1 - that mean share (an error rate, not a cross-entropy).
`error` is 1 - mean P(right) either way, in [0, 1]; chance is 0.5.
"""

from __future__ import annotations

import asyncio
import math
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from synth.structured import StructuredOutputError, chat_json

STATEMENTS = {
    "en": "Read the text below. Write {n} short statements of facts it states, each understandable without the "
          "text, and for each a false version that changes exactly one detail (a number, name, date or "
          "relation) and nothing else.\n\nText:\n{text}\n\nAnswer as one JSON object: "
          '{{"pairs": [{{"true": "...", "false": "..."}}]}}',
    "zh": "阅读下面的资料。写出资料中陈述的 {n} 条简短事实（脱离资料也能看懂），并为每条写一个错误版本：只改动一个细节"
          "（数字、名称、日期或关系），其余不变。\n\n资料：\n{text}\n\n只输出一个 JSON 对象："
          '{{"pairs": [{{"true": "...", "false": "..."}}]}}',
}
ASK = {"en": "Is the following statement true? Answer yes or no.\n\n{statement}",
       "zh": "下面的说法正确吗？只回答“是”或“否”。\n\n{statement}"}
SYSTEM = {"en": "Answer with one word: yes or no.", "zh": "只用一个字回答：是 或 否。"}
YES = {"yes", "y", "true", "是", "对", "正确"}
NO = {"no", "n", "false", "否", "不", "错", "不是", "错误", "不对"}


class Pair(BaseModel):
    true: str = Field(min_length=1, max_length=1000)
    false: str = Field(min_length=1, max_length=1000)


class Pairs(BaseModel):
    pairs: list[Pair] = Field(max_length=50)


def _word(token: str) -> str:
    return re.sub(r"[\s\W_]+", "", token.lower())


def p_true_from_logprobs(top: dict[str, float]) -> float | None:
    """P(yes) over yes + no among a token's likeliest alternatives; None when neither is among them.

    >>> round(p_true_from_logprobs({"Yes": math.log(0.6), " no": math.log(0.2), "Maybe": math.log(0.2)}), 3)
    0.75
    """
    yes = sum(math.exp(lp) for t, lp in top.items() if _word(t) in YES)
    no = sum(math.exp(lp) for t, lp in top.items() if _word(t) in NO)
    return yes / (yes + no) if yes + no > 0 else None


def says_true(text: str) -> bool | None:
    """A sampled answer read as yes (True), no (False) or neither (None)."""
    words = re.findall(r"[a-zA-Z]+|[\u4e00-\u9fff]{1,2}", text.strip())
    first = words[0].lower() if words else ""
    if first in YES or first[:1] in YES:
        return True
    if first in NO or first[:1] in NO:
        return False
    return None


async def statements(writer, text: str, lang: str, n: int, *, retries: int = 2) -> list[tuple[str, bool]]:
    """`n` true statements of `text` and their minimal negations, as (statement, is_true)."""
    got, _ = await chat_json(writer, [{"role": "user", "content": STATEMENTS[lang].format(n=n, text=text)}], Pairs,
                             retries=retries, temperature=0.0)
    pairs = [p for p in got.pairs if p.true.strip() and p.false.strip() and p.true.strip() != p.false.strip()][:n]
    return [(p.true.strip(), True) for p in pairs] + [(p.false.strip(), False) for p in pairs]


async def probe(writer, student, text: str, lang: str, *, n: int = 3, samples: int = 4,
                method: Literal["auto", "logprobs", "accuracy"] = "auto", top_logprobs: int = 5) -> dict[str, Any]:
    """The student's comprehension of `text`: {method, statements, loss, error, accuracy}; method `none`
    (and no loss) when the writer gave no usable statements."""
    try:
        items = await statements(writer, text, lang, n)
    except StructuredOutputError:
        items = []
    if not items:
        return {"method": "none", "statements": 0, "loss": None, "error": None, "accuracy": None}
    use_logprobs = method == "logprobs" or (method == "auto" and await student.supports_logprobs())
    if use_logprobs and not await student.supports_logprobs():
        use_logprobs = False  # asked for logprobs where the server has none: say accuracy was used
    p_right = await asyncio.gather(*(_p_right(student, s, truth, lang, use_logprobs, samples, top_logprobs)
                                     for s, truth in items))
    mean_right = sum(p_right) / len(p_right)
    loss = sum(-math.log(max(p, 1e-6)) for p in p_right) / len(p_right) if use_logprobs else 1 - mean_right
    return {"method": "logprobs" if use_logprobs else "accuracy", "statements": len(items),
            "loss": round(loss, 4), "error": round(1 - mean_right, 4),
            "accuracy": round(sum(p > 0.5 for p in p_right) / len(p_right), 4) if use_logprobs
            else round(mean_right, 4)}


async def _p_right(student, statement: str, truth: bool, lang: str, use_logprobs: bool, samples: int,
                   top_logprobs: int) -> float:
    messages = [{"role": "system", "content": SYSTEM[lang]},
                {"role": "user", "content": ASK[lang].format(statement=statement)}]
    if use_logprobs:
        (c,) = await student.chat(messages, temperature=0.0, max_tokens=1, top_logprobs=top_logprobs)
        top = (c.logprobs or [{}])[0].get("top") or {}
        p_true = p_true_from_logprobs(top)
        if p_true is None:  # neither word among the likeliest: read the text, else no knowledge at all
            said = says_true(c.text)
            p_true = 0.5 if said is None else float(said)
    else:
        answers = await student.chat(messages, n=samples, temperature=1.0, max_tokens=4)
        said = [says_true(a.text) for a in answers]
        p_true = sum(1.0 if s else 0.5 if s is None else 0.0 for s in said) / len(said)
    return p_true if truth else 1 - p_true
