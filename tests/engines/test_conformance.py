"""One engine test suite for every engine: the embedded llama.cpp server over HTTP (default run),
a real `vllm serve` over HTTP and vLLM in-process (`pytest -m vllm`, vLLM for CPU here).

What recipes rely on, whatever serves the model: n samples in order with seeds s, s+1, …; the same
seed gives the same text (the request cache and resume depend on it); sample i of an n-request is
the text a single request with seed s+i gets (so a cache hit for some samples and a request for the
rest give the same data); max_tokens and stop are honoured; JSON answers follow a schema; raw
completions continue the prompt; concurrent requests all complete; token counts add up.

The model writes nonsense: these tests check structure and bookkeeping, never content. Engines are
started once per session in one event loop running in a thread (vLLM's in-process engine is bound to
the loop it started in, and starting it takes a minute).
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from synth.engines.base import Sampling
from synth.engines.openai_http import OpenAIEngine

# an enum, not a free string: a tiny model's free string can run on until max_tokens cuts the JSON
SCHEMA = {"type": "object", "properties": {"answer": {"type": "integer"}, "unit": {"enum": ["eggs", "boxes"]}},
          "required": ["answer", "unit"]}
STORY = [{"role": "user", "content": "Write a long story about a lighthouse keeper and the sea."}]


class Loop:
    """An event loop in a thread: engines live in it for the session, tests submit coroutines."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 900.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="session")
def loop():
    lp = Loop()
    yield lp
    lp.close()


def _make(kind: str, request):
    if kind == "embedded":
        return OpenAIEngine(request.getfixturevalue("llm_server"), max_in_flight=4)
    if kind == "vllm-server":
        from tests.conftest import VLLM_SERVED

        return OpenAIEngine(request.getfixturevalue("vllm_server"), VLLM_SERVED, max_in_flight=16)
    from synth.engines.vllm_local import VLLMEngine

    return VLLMEngine(request.getfixturevalue("vllm_model"), enforce_eager=True, dtype="float32",
                      max_model_len=2048, max_num_seqs=16)


@pytest.fixture(scope="session", params=["embedded", pytest.param("vllm-server", marks=pytest.mark.vllm),
                                         pytest.param("vllm-inprocess", marks=pytest.mark.vllm)])
def engine(request, loop):
    eng = _make(request.param, request)
    loop.run(eng.start())
    yield eng
    loop.run(eng.close())


def test_n_samples_come_in_order_with_consecutive_seeds(engine, loop):
    out = loop.run(engine.chat(STORY, Sampling(temperature=1.0, max_tokens=8, seed=100), n=3))
    assert [c.seed for c in out] == [100, 101, 102]
    assert all(c.text and c.finish_reason in ("stop", "length") and 1 <= c.completion_tokens <= 8 for c in out)
    assert len({c.text for c in out}) > 1  # three seeds, not one sample copied


def test_same_seed_same_text_and_sample_i_equals_seed_s_plus_i(engine, loop):
    sampling = Sampling(temperature=1.0, max_tokens=12, seed=7)
    first = loop.run(engine.chat(STORY, sampling, n=2))
    again = loop.run(engine.chat(STORY, sampling, n=2))
    single = loop.run(engine.chat(STORY, Sampling(temperature=1.0, max_tokens=12, seed=8)))
    assert [c.text for c in again] == [c.text for c in first]
    assert single[0].text == first[1].text and single[0].seed == 8


def test_max_tokens_and_stop_are_honoured(engine, loop):
    (cut,) = loop.run(engine.chat(STORY, Sampling(temperature=0.0, max_tokens=4, seed=1)))
    assert cut.finish_reason == "length" and cut.completion_tokens <= 4
    (long,) = loop.run(engine.chat(STORY, Sampling(temperature=0.0, max_tokens=64, seed=1)))
    assert long.text.startswith(cut.text)  # greedy: the same opening, cut sooner
    word = long.text.split()[3]
    (stopped,) = loop.run(engine.chat(STORY, Sampling(temperature=0.0, max_tokens=64, seed=1, stop=(word,))))
    assert word not in stopped.text and stopped.finish_reason == "stop" and long.text.startswith(stopped.text)


def test_json_answers_follow_the_schema(engine, loop):
    ask = [{"role": "user", "content": "A box holds 12 eggs. How many eggs are in 3 boxes? Reply in JSON."}]
    out = loop.run(engine.chat(ask, Sampling(temperature=0.7, max_tokens=96, seed=3), n=2, json_schema=SCHEMA))
    for c in out:
        value = json.loads(c.text, strict=False)
        assert isinstance(value["answer"], int) and value["unit"] in ("eggs", "boxes")


def test_raw_completion_continues_the_prompt(engine, loop):
    prompt = "<|im_start|>user\nCount from one to ten.<|im_end|>\n<|im_start|>assistant\nOne, two, three,"
    out = loop.run(engine.complete(prompt, Sampling(temperature=0.0, max_tokens=8, seed=1), n=2))
    assert len(out) == 2 and out[0].text == out[1].text  # greedy: the seed does not matter
    assert out[0].text.strip() and not out[0].text.startswith("<|im_start|>")


def test_concurrent_requests_all_complete_and_tokens_add_up(engine, loop):
    before = (engine.stats.requests, engine.stats.completion_tokens)

    async def many():
        return await asyncio.gather(*(engine.chat(STORY, Sampling(temperature=1.0, max_tokens=6, seed=s))
                                      for s in range(200, 208)))

    outs = loop.run(many())
    assert [o[0].seed for o in outs] == list(range(200, 208))
    assert engine.stats.requests - before[0] == 8
    assert engine.stats.completion_tokens - before[1] == sum(o[0].completion_tokens for o in outs) > 0
    assert all(o[0].prompt_tokens > 0 for o in outs)
