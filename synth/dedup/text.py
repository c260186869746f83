"""Which text of a row is compared: chosen fields, chat ``messages`` flattened, nested paths."""

from __future__ import annotations

from collections.abc import Sequence

from synth.errors import InputError

# Tried in this order when no fields are given; the first row decides.
TEXT_FIELDS = ("messages", "conversations", "instruction", "input", "prompt", "question", "problem",
               "output", "response", "completion", "answer", "solution", "chosen", "text", "content")


def _get(row: dict, path: str):
    value = row
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def flatten(value) -> str:
    """Strings as they are; chat messages as their contents (system prompts left out); other lists and
    dicts recursively."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if value.get("role") == "system" or value.get("from") == "system":
            return ""  # a shared system prompt would make unrelated conversations look alike
        if "content" in value or "value" in value:  # OpenAI {role, content}; ShareGPT {from, value}
            return flatten(value.get("content", value.get("value")))
        return "\n".join(flatten(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return "\n".join(flatten(v) for v in value)
    return str(value)


def default_fields(rows: Sequence[dict], id_field: str = "id") -> list[str]:
    """A chat column alone (it holds the whole example), else the known text columns present in the
    first row, else all its string or list columns but the id."""
    if not rows:
        return []
    first = rows[0]
    for chat in ("messages", "conversations"):
        if chat in first:
            return [chat]
    known = [f for f in TEXT_FIELDS if f in first]
    if known:
        return known
    return [k for k, v in first.items() if k != id_field and isinstance(v, (str, list, dict))]


def check_fields(rows: Sequence[dict], fields: Sequence[str]) -> None:
    """InputError when a field occurs in no row (likely a typo)."""
    for f in fields:
        if not any(_get(r, f) is not None for r in rows):
            have = sorted({k for r in rows[:100] for k in r})
            raise InputError(f"field {f!r} is in no row; columns are: {', '.join(have) or '(none)'}")


def row_text(row: dict, fields: Sequence[str]) -> str:
    """The text compared for ``row``: its ``fields`` flattened and joined by newlines."""
    if len(fields) == 1:  # the common case, kept cheap: it runs once per row before any parallel work
        value = row.get(fields[0]) if "." not in fields[0] else _get(row, fields[0])
        return value if isinstance(value, str) else flatten(value)
    return "\n".join(flatten(_get(row, f)) for f in fields)


def row_id(row: dict, position: int, id_field: str):
    """The row's ``id_field`` value, else its 0-based position in the input."""
    value = row.get(id_field)
    return position if value is None else value
