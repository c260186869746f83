"""Drop generations the engine reports as cut off or looping, and empty ones.

A response that stopped at `max_tokens` (`finish_reason == "length"`) is truncated mid-thought and
teaches a model to stop mid-sentence (Self-Instruct and Curator drop them); vLLM's `repetition`
finish reason marks a degenerate loop. Both are dropped, as is an answer that is empty after
stripping whitespace. This reads the engine's metadata only; `truncation` also reads the text.
"""

from __future__ import annotations

from synth.filter import Filter, FilterOptions, finish_reason, option


class FinishReasonOptions(FilterOptions):
    drop: list[str] = option(["length", "repetition"], "finish reasons that reject a record",
                             source="Self-Instruct / Curator (length); vLLM (repetition)")
    allow_empty: bool = option(False, "keep records whose answer is empty")


class FinishReasonFilter(Filter):
    """Keep a record only if its generation finished normally and produced text."""

    name = "finish-reason"
    description = "Drop truncated (finish_reason=length), looping or empty generations."
    Options = FinishReasonOptions
    reasons = ("finish_reason_<reason>", "finish_reason_empty")

    def filter(self, record):
        reason = finish_reason(record)
        if reason in self.options.drop:
            return False, f"finish_reason_{reason}"
        if not self.options.allow_empty and not self.answer(record).strip():
            return False, "finish_reason_empty"
        return True
