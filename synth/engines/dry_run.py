"""An engine that answers nothing: it counts every request for `synth run --dry-run`.

Totals only, plus the first few requests as examples, so a dry run over 50k document chunks stays
small in memory.
"""

from __future__ import annotations

from synth.engines.base import Capabilities, Completion, Engine, Sampling
from synth.text import count_cjk


def estimate_tokens(text: str) -> int:
    """~1 token per CJK character (synth.text), ~4 characters per token otherwise.

    >>> estimate_tokens("abcdefgh"), estimate_tokens("资本充足率")
    (2, 5)
    """
    cjk = count_cjk(text)
    return max(1, cjk + (len(text) - cjk) // 4)


class DryRunEngine(Engine):
    kind = "dry-run"

    def __init__(self, keep_examples: int = 8) -> None:
        super().__init__("dry-run")
        self.capabilities = Capabilities(models=["dry-run"], native_n=True, json_schema="response_format",
                                         completions=True, server="dry-run")
        self.keep_examples = keep_examples
        self.calls: list[dict] = []  # the first `keep_examples` requests
        self.totals = {"requests": 0, "samples": 0, "prompt_tokens_est": 0, "max_completion_tokens": 0}

    def _record(self, kind: str, body, sampling: Sampling, n: int) -> list[Completion]:
        text = body if isinstance(body, str) else "\n".join(m.get("content", "") for m in body)
        prompt_tokens = estimate_tokens(text)
        t = self.totals
        t["requests"] += 1
        t["samples"] += n
        t["prompt_tokens_est"] += prompt_tokens * n
        t["max_completion_tokens"] += sampling.max_tokens * n
        if len(self.calls) < self.keep_examples:
            self.calls.append({"kind": kind, "body": body, "n": n, "max_tokens": sampling.max_tokens,
                               "prompt_tokens_est": prompt_tokens})
        return [Completion(text="", finish_reason="dry_run") for _ in range(n)]

    async def chat(self, messages, sampling, *, n=1, json_schema=None):
        return self._record("chat", messages, sampling, n)

    async def complete(self, prompt, sampling, *, n=1):
        return self._record("complete", prompt, sampling, n)
