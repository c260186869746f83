"""An engine that answers nothing: it records every request for `synth run --dry-run`."""

from __future__ import annotations

from synth.engines.base import Capabilities, Completion, Engine, Sampling


class DryRunEngine(Engine):
    kind = "dry-run"

    def __init__(self) -> None:
        super().__init__("dry-run")
        self.capabilities = Capabilities(models=["dry-run"], native_n=True, json_schema="response_format",
                                         completions=True, server="dry-run")
        self.calls: list[dict] = []

    def _record(self, kind: str, body, sampling: Sampling, n: int) -> list[Completion]:
        text = body if isinstance(body, str) else "\n".join(m.get("content", "") for m in body)
        self.calls.append({"kind": kind, "body": body, "n": n, "max_tokens": sampling.max_tokens,
                           "prompt_tokens_est": max(1, len(text) // 4)})  # ~4 characters per token
        return [Completion(text="", finish_reason="dry_run") for _ in range(n)]

    async def chat(self, messages, sampling, *, n=1, json_schema=None):
        return self._record("chat", messages, sampling, n)

    async def complete(self, prompt, sampling, *, n=1):
        return self._record("complete", prompt, sampling, n)
