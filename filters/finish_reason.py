"""Drop generations that were cut off or came back empty.

A response that stopped at `max_tokens` (`finish_reason == "length"`) is truncated mid-thought and
teaches a model to stop mid-sentence; vLLM's `repetition` finish reason marks a degenerate loop. Both
are dropped, as is an answer that is empty after stripping whitespace.
"""

from __future__ import annotations

from synth.filter import Filter, assistant_text


class FinishReasonFilter(Filter):
    """Keep a record only if its generation finished normally and produced text.

    Args:
        drop: finish reasons that reject a record (default: length, repetition).
        allow_empty: keep records whose answer is empty (default False).
    """

    name = "finish-reason"
    description = "Drop truncated (finish_reason=length), looping or empty generations."

    def __init__(self, drop: list[str] | tuple[str, ...] = ("length", "repetition"), allow_empty: bool = False) -> None:
        self.drop = set(drop)
        self.allow_empty = allow_empty

    def filter(self, record):
        reason = (record.get("generation") or {}).get("finish_reason")
        if reason in self.drop:
            return False, f"finish_reason_{reason}"
        if not self.allow_empty and not assistant_text(record).strip():
            return False, "finish_reason_empty"
        return True
