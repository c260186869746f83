"""The filter contract: `filter(record)` returns True to keep, or (False, "<filter>_<reason>").

Filters never count or write rejects themselves; the FilterStage in synth.pipeline does. Thresholds
are keyword arguments of `__init__` with the defaults of the source they come from.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Filter:
    """Subclass, set `name` and `description`, and implement `filter`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def filter(self, record: dict[str, Any]) -> bool | tuple[bool, str]:  # pragma: no cover - abstract
        raise NotImplementedError


def assistant_text(record: dict[str, Any]) -> str:
    """The text of the last assistant message of a record (the generated answer)."""
    for message in reversed(record.get("messages") or []):
        if message.get("role") == "assistant":
            return message.get("content") or ""
    return record.get("response") or ""
