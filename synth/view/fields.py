"""What the viewer reads out of a record: its facets (verdict, taxonomy cell, source document), a
one-line summary for the row list, and its text for search.

Recipes differ in shape, so each facet is the first of a list of field paths that the record *has*
(a key present, even with a null value). Parquet gives every row of a run the same keys, so the
same path is chosen for every row, and `synth.view.tables` picks it once from the schema.

>>> facets({"verification": {"status": "incorrect"}, "cell": "c1", "chunk": {"source": "a.pdf"}})
{'verdict': 'incorrect', 'cell': 'c1', 'document': 'a.pdf'}
>>> facets({"grounding": {"supported": True}})["verdict"]
'supported'
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Field paths per facet, first present wins. A bool is shown by its pair of words.
FACET_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "verdict": (("verification", "status"), ("grounding", "supported"), ("judge", "verdict"), ("verdict",),
                ("correct",)),
    "cell": (("cell",), ("taxonomy", "cell")),
    "document": (("chunk", "source"), ("provenance", "source"), ("document",)),
}
BOOL_WORDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("grounding", "supported"): ("supported", "unsupported"),
    ("correct",): ("correct", "incorrect"),
}
TITLE_KEYS = ("instruction", "question", "problem", "prompt")
ANSWER_KEYS = ("response", "answer", "solution", "output")
SNIPPET_CHARS = 240


def has_path(record: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(record, dict) or key not in record:
            return False
        record = record[key]
    return True


def get_path(record: Any, path: tuple[str, ...]) -> Any:
    """``record[a][b]...`` or None where a key or a level is missing.

    >>> get_path({"a": {"b": 1}}, ("a", "b")), get_path({"a": None}, ("a", "b"))
    (1, None)
    """
    for key in path:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def facet_path(record: dict, facet: str) -> tuple[str, ...] | None:
    return next((p for p in FACET_PATHS[facet] if has_path(record, p)), None)


def facet_word(path: tuple[str, ...] | None, value: Any) -> str | None:
    """A facet value as the string the viewer filters on."""
    if value is None or path is None:
        return None
    if isinstance(value, bool):
        yes, no = BOOL_WORDS.get(path, ("true", "false"))
        return yes if value else no
    return str(value)


def facets(record: dict) -> dict[str, str | None]:
    """The record's verdict, taxonomy cell and source document (None where it has none)."""
    out = {}
    for name in FACET_PATHS:
        path = facet_path(record, name)
        out[name] = facet_word(path, get_path(record, path) if path else None)
    return out


def _first_message(record: dict, role: str, last: bool = False) -> str | None:
    messages = record.get("messages")
    if not isinstance(messages, list):
        return None
    picked = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == role]
    picked = [p for p in picked if isinstance(p, str)]
    return (picked[-1] if last else picked[0]) if picked else None


def _first_text(record: dict, keys: tuple[str, ...]) -> str | None:
    return next((record[k] for k in keys if isinstance(record.get(k), str) and record[k].strip()), None)


def _snippet(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS - 1] + "…"


def record_of(kind: str, entry: dict) -> dict:
    """The generated record inside an entry of a set: a kept row is one, a rejected row wraps one,
    a failed row has the seed row instead."""
    if kind == "rejected":
        return entry.get("record") if isinstance(entry.get("record"), dict) else {}
    if kind == "failed":
        return entry.get("row") if isinstance(entry.get("row"), dict) else {}
    return entry


def summary(kind: str, entry: dict, index: int) -> dict[str, Any]:
    """One line of the row list: title, answer snippet, facets, and stage / reason / error.

    >>> s = summary("rejected", {"stage": "filter:refusal", "reason": "refusal_phrase",
    ...             "record": {"messages": [{"role": "user", "content": "你好"},
    ...                                     {"role": "assistant", "content": "抱歉"}]}}, 3)
    >>> s["i"], s["title"], s["answer"], s["stage"], s["reason"]
    (3, '你好', '抱歉', 'filter:refusal', 'refusal_phrase')
    """
    record = record_of(kind, entry)
    title = _first_text(record, TITLE_KEYS) or _first_message(record, "user")
    if title is None and kind == "failed":
        title = next((v for v in record.values() if isinstance(v, str) and v.strip()), None)
    answer = _first_text(record, ANSWER_KEYS) or _first_message(record, "assistant", last=True)
    out: dict[str, Any] = {"i": index, "id": record.get("id") or entry.get("row_key"), "title": _snippet(title),
                           "answer": _snippet(answer), **facets(record)}
    if kind == "rejected":
        out["stage"], out["reason"] = entry.get("stage"), entry.get("reason")
    if kind == "failed":
        out["error"] = _snippet(entry.get("error"))
    return out


def text_leaves(value: Any) -> Iterator[str]:
    """Every string value inside a record (keys are not text).

    >>> list(text_leaves({"a": "x", "b": [{"c": "y"}, 3], "d": None}))
    ['x', 'y']
    """
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from text_leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from text_leaves(v)


def matches(entry: dict, query: str) -> bool:
    """Whether any text of the entry contains `query`, ignoring case.

    >>> matches({"messages": [{"role": "user", "content": "什么是指数基金？"}]}, "指数基金")
    True
    >>> matches({"messages": []}, "messages")
    False
    """
    q = query.lower()
    return any(q in leaf.lower() for leaf in text_leaves(entry))


def search_text(entry: dict) -> str:
    """The entry's text in lower case, for the static page's search (JavaScript's toLowerCase)."""
    return "\n".join(leaf.lower() for leaf in text_leaves(entry))
