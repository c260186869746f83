"""The one async interface every recipe talks to, whatever serves the model.

An engine turns a chat (messages) or a raw prompt into `n` completions. Servers differ in what they
support (native `n`, JSON schema, raw completions, logprobs); engines detect that once and adapt here,
so recipes never branch on the server.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

JsonSchemaStyle = Literal["response_format", "json_object_schema", "structured_outputs", "none"]


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters of one request (the same meaning as OpenAI / vLLM)."""

    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int | None = None
    stop: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies and is ~10x slower, and this runs per request
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens,
                "seed": self.seed, "stop": list(self.stop) if self.stop else None}


@dataclass
class Completion:
    """One generated sample."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seed: int | None = None
    cached: bool = False
    reasoning: str | None = None  # a reasoning model's thinking, when the server splits it out (vLLM)
    # asked with logprobs: per generated token {"token", "logprob", "top": {token: logprob}} (OpenAI's
    # choices[].logprobs.content[] with its top_logprobs); None when not asked or not given
    logprobs: list[dict[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"text": self.text, "finish_reason": self.finish_reason, "prompt_tokens": self.prompt_tokens,
               "completion_tokens": self.completion_tokens, "seed": self.seed, "reasoning": self.reasoning}
        if self.logprobs is not None:  # only then, so the cache entries of other requests stay as they were
            out["logprobs"] = self.logprobs
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any], *, cached: bool = False) -> Completion:
        return cls(text=d["text"], finish_reason=d.get("finish_reason"), prompt_tokens=d.get("prompt_tokens", 0),
                   completion_tokens=d.get("completion_tokens", 0), seed=d.get("seed"), cached=cached,
                   reasoning=d.get("reasoning"), logprobs=d.get("logprobs"))


@dataclass
class Capabilities:
    """What the serving side supports; filled by probing (or known for the embedded server)."""

    models: list[str] = field(default_factory=list)
    native_n: bool = False
    json_schema: JsonSchemaStyle = "none"
    completions: bool = False
    logprobs: bool = False
    metrics: bool = False
    server: str = "unknown"
    version: str | None = None  # the server's own version, where it says (vLLM's /version)


@dataclass
class EngineStats:
    """Running totals, read by the progress display and the manifest."""

    requests: int = 0  # every request the server saw: retries and capability probes included
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Engine(ABC):
    """Base class: `chat` and `complete` return `n` completions in sample order."""

    kind: str = "base"

    def __init__(self, model: str | None = None) -> None:
        self.model = model or ""
        self.capabilities = Capabilities()
        self.stats = EngineStats()

    async def start(self) -> None:
        """Connect / start the server and detect capabilities."""

    async def supports_logprobs(self) -> bool:
        """Whether `chat(..., top_logprobs=N)` returns token logprobs; engines that can probe override it."""
        return self.capabilities.logprobs

    async def close(self) -> None:
        """Release every resource (always called, also on errors)."""

    @abstractmethod
    async def chat(self, messages: list[dict[str, str]], sampling: Sampling, *, n: int = 1,
                   json_schema: dict | None = None) -> list[Completion]:
        """Answer a conversation `n` times; sample i uses seed `sampling.seed + i`. An engine whose
        `supports_logprobs()` is true also takes `top_logprobs=N` (each Completion's `logprobs`)."""

    @abstractmethod
    async def complete(self, prompt: str, sampling: Sampling, *, n: int = 1) -> list[Completion]:
        """Continue raw `prompt` text `n` times (no chat template applied)."""

    def describe(self) -> str:
        return f"{self.kind}:{self.model}"

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def greedy_copies(first: Completion, seeds: list[int | None]) -> list[Completion]:
    """n greedy samples are one sample n times (vLLM refuses n > 1 at temperature 0): copy it, one per seed."""
    return [first] + [Completion(text=first.text, finish_reason=first.finish_reason, prompt_tokens=first.prompt_tokens,
                                 completion_tokens=first.completion_tokens, seed=s, reasoning=first.reasoning)
                      for s in seeds[1:]]


def sample_seeds(seed: int | None, n: int) -> list[int | None]:
    """Seeds of the n samples: s, s+1, ... (vLLM gives child i of an n-request seed s+i too)."""
    return [None if seed is None else seed + i for i in range(n)]
