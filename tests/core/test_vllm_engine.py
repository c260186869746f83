"""The in-process vLLM engine's request building and output parsing, without a GPU.

vLLM itself needs a GPU, so a minimal module with vLLM's public names (AsyncEngineArgs,
AsyncLLMEngine.from_engine_args / get_tokenizer / generate / shutdown, SamplingParams,
RequestOutputKind, StructuredOutputsParams) stands in for it; it records what synth passes.
"""

from __future__ import annotations

import asyncio
import sys
import types
from dataclasses import dataclass, field

import pytest

from synth.engines.base import Sampling
from synth.engines.vllm_local import VLLMEngine


@dataclass
class _Choice:
    index: int
    text: str
    token_ids: list
    finish_reason: str


@dataclass
class _Output:
    prompt_token_ids: list
    outputs: list = field(default_factory=list)


class _Tokenizer:
    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert tokenize is False and add_generation_prompt is True
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"


@pytest.fixture
def fake_vllm(monkeypatch):
    calls = {"generate": [], "engine_args": None, "shutdown": 0}

    class SamplingParams:
        def __init__(self, **kw):
            self.kw = kw

    class Engine:
        @classmethod
        def from_engine_args(cls, args):
            calls["engine_args"] = args
            return cls()

        def get_tokenizer(self):  # V1: synchronous
            return _Tokenizer()

        async def generate(self, prompt, params, request_id):
            calls["generate"].append((prompt, params.kw, request_id))
            n = params.kw["n"]
            yield _Output([1, 2, 3], [_Choice(i, f"{prompt}|{i}", [7] * (i + 1), "stop") for i in reversed(range(n))])

        def shutdown(self):
            calls["shutdown"] += 1

    vllm = types.ModuleType("vllm")
    vllm.AsyncEngineArgs = lambda **kw: kw
    vllm.AsyncLLMEngine = Engine
    vllm.SamplingParams = SamplingParams
    sp = types.ModuleType("vllm.sampling_params")
    sp.RequestOutputKind = types.SimpleNamespace(FINAL_ONLY="final_only")
    sp.StructuredOutputsParams = lambda **kw: ("structured", kw)
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sp)
    return calls


def test_chat_renders_template_and_builds_sampling_params(fake_vllm):
    async def go():
        engine = VLLMEngine("org/model", tensor_parallel_size=2, max_num_seqs=512)
        async with engine:
            out = await engine.chat([{"role": "user", "content": "hi"}],
                                    Sampling(temperature=0.6, max_tokens=300, seed=9), n=3,
                                    json_schema={"type": "object"})
        return engine, out

    engine, out = asyncio.run(go())
    assert fake_vllm["engine_args"] == {"model": "org/model", "tensor_parallel_size": 2, "max_num_seqs": 512}
    prompt, kw, _ = fake_vllm["generate"][0]
    assert prompt == "<user>hi<assistant>"
    assert kw["n"] == 3 and kw["max_tokens"] == 300 and kw["seed"] == 9 and kw["output_kind"] == "final_only"
    assert kw["structured_outputs"] == ("structured", {"json": {"type": "object"}})
    assert [c.text for c in out] == [f"{prompt}|0", f"{prompt}|1", f"{prompt}|2"]  # index order
    assert [c.seed for c in out] == [9, 10, 11] and [c.completion_tokens for c in out] == [1, 2, 3]
    assert engine.capabilities.native_n and engine.stats.prompt_tokens == 3 and engine.stats.completion_tokens == 6
    assert fake_vllm["shutdown"] == 1


def test_raw_completion_passes_the_prompt_untouched(fake_vllm):
    async def go():
        async with VLLMEngine("m") as engine:
            return await engine.complete("Step 1: 2+2=4\nStep 2:", Sampling(max_tokens=5, seed=1), n=1)

    out = asyncio.run(go())
    prompt, kw, _ = fake_vllm["generate"][0]
    assert prompt == "Step 1: 2+2=4\nStep 2:" and "structured_outputs" not in kw
    assert out[0].text == prompt + "|0"


def test_a_dead_engine_stops_the_run_and_a_failed_request_fails_one_row(fake_vllm):
    from synth.errors import EngineUnavailable, RequestFailed

    class EngineDeadError(Exception):  # vLLM V1's name for an engine core that has died
        pass

    async def go(error):
        engine = VLLMEngine("m")
        async with engine:
            async def broken(prompt, params, request_id):
                raise error
                yield  # an async generator, like vLLM's

            engine._engine.generate = broken
            await engine.complete("x", Sampling(max_tokens=5, seed=1))

    with pytest.raises(EngineUnavailable, match=r"the in-process vLLM engine died \(EngineDeadError: core gone\)"):
        asyncio.run(go(EngineDeadError("core gone")))
    with pytest.raises(RequestFailed, match="vLLM request failed: prompt too long"):
        asyncio.run(go(ValueError("prompt too long")))
