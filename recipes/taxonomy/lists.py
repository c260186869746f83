"""Ask a model for a list of `n` short texts (topics, personas, questions) as JSON.

JSON rather than a numbered list in plain text: items have exact boundaries (a case-analysis question
can span lines; Chinese lists number with 一、/（1）/①), and where the engine takes a schema the item
count is constrained too (`minItems` = `maxItems` = n). The answer is validated leniently: items are
cleaned (list markers, blank lines), duplicates dropped, the first `n` kept; fewer than `min_items`
distinct items is a failed answer that `synth.structured.chat_json` asks again (told the problem, sampled).

>>> clean_items(["1. 征信", " 征信 ", "", "- LPR 是什么？", "LPR是什么?", "1.5倍杠杆的风险"])
['征信', 'LPR 是什么？', '1.5倍杠杆的风险']
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import BaseModel, Field, create_model, field_validator

from synth.structured import chat_json

# "1. ", "- ", "1、", "（2）", "三、", "③" at the start; not the "1.5" of "1.5倍" or the "-" of "-5%"
_MARKER = re.compile(r"^\s*(?:[-*•·]\s|\d{1,3}[.)]\s|\d{1,3}、|[（(]\d{1,3}[)）]|[一二三四五六七八九十]+、|[①-⑳])\s*")


def _norm(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def clean_items(items: list[Any]) -> list[str]:
    """Strip list markers and spaces, drop empty items and duplicates (ignoring case, spacing and
    punctuation), keep the order."""
    out, seen = [], set()
    for item in items:
        text = " ".join(_MARKER.sub("", str(item)).split()) if item is not None else ""
        key = _norm(text)
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return out


def list_model(key: str, n: int, min_items: int) -> type[BaseModel]:
    """A pydantic model `{key: [str]}` whose schema asks for exactly `n` items and whose validation
    accepts `min_items` or more distinct ones."""

    def check(cls, value: list[Any]) -> list[str]:
        items = clean_items(value)
        if len(items) < min_items:
            raise ValueError(f"asked for {n} distinct items, got {len(items)}")
        return items[:n]

    field = (list[str], Field(..., json_schema_extra={"minItems": n, "maxItems": n}))
    return create_model(f"{key.title()}List", __validators__={"check": field_validator(key)(classmethod(check))},
                        **{key: field})


async def ask_list(llm, messages: list[dict], key: str, n: int, *, min_items: int = 1,
                   **sampling: Any) -> tuple[list[str], Any]:
    """(up to `n` distinct items, the completion); raises StructuredOutputError after retries."""
    obj, completion = await chat_json(llm, messages, list_model(key, n, min_items), **sampling)
    return getattr(obj, key), completion
