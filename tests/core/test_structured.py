"""JSON answers: parsed, repaired, asked again in a request that can change the answer, tallied; schema sent
only when enabled."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from synth.engines.base import Sampling
from synth.engines.openai_http import OpenAIEngine
from synth.llm import LLM
from synth.store import RunStore
from synth.structured import StructuredOutputError, chat_json, parse_json, summary
from tests.recipes.helpers import sent
from tests.servers import ScriptedServer


class Pair(BaseModel):
    question: str
    answer: str


@pytest.mark.parametrize("text, value, repaired", [
    ('{"a": 1}', {"a": 1}, False),
    ('<think>let me see {"a": 0}</think>\n```json\n{"a": 1}\n```', {"a": 1}, True),
    ('Here it is: {"a": [1, 2,], "b": "x"} hope that helps', {"a": [1, 2], "b": "x"}, True),
    ('{"question": "什么是保费？", "answer": "投保人支付的费用', {"question": "什么是保费？", "answer": "投保人支付的费用"}, True),
])
def test_parse_json_recovers_what_models_really_write(text, value, repaired):
    assert parse_json(text) == (value, repaired)


@pytest.mark.parametrize("text", ["I cannot answer that.", ""])
def test_parse_json_refuses_text_without_json(text):
    with pytest.raises(ValueError):
        parse_json(text)


def ask(server, *, json_schema=True, retries=2, store_dir=None, **sampling):
    async def go():
        async with OpenAIEngine(server.base_url, max_retries=0) as engine:
            store = RunStore(store_dir, "t") if store_dir else None
            llm = LLM(engine, store, Sampling(max_tokens=64), json_schema=json_schema)
            try:
                obj, _ = await chat_json(llm, [{"role": "user", "content": "pair"}], Pair, retries=retries,
                                         **sampling)
            except StructuredOutputError as exc:
                obj = exc
            finally:
                if store:
                    store.close()
            return obj, llm.structured, llm.cache_stats

    return asyncio.run(go())[:2] if store_dir is None else asyncio.run(go())


def test_an_invalid_answer_is_retried_with_another_seed():
    seeds = []

    def answer(kind, body):
        if "pair" not in body["messages"][-1]["content"]:
            return '{"a": 1}'  # the engine's capability probe
        seeds.append(body["seed"])
        return '{"question": "q"}' if len(seeds) == 1 else '{"question": "q", "answer": "a"}'

    with ScriptedServer(answer) as server:
        obj, tally = ask(server)
        bodies = [b for b in sent(server, "chat") if "pair" in b["messages"][-1]["content"]]
    assert obj == Pair(question="q", answer="a")
    assert len(bodies) == 2 and seeds[0] != seeds[1]
    stats = summary(tally)
    assert stats["answers"] == 2 and stats["invalid_answers"] == 1 and stats["retries"] == 1
    assert stats["parse_failure_rate"] == 0.5 and stats["failed_calls"] == 0


def test_answers_that_never_parse_fail_the_call_with_the_reason():
    with ScriptedServer(lambda kind, body: "no json here") as server:
        err, tally = ask(server, retries=1)
    assert isinstance(err, StructuredOutputError) and "no valid JSON after 2 answers" in str(err)
    assert summary(tally)["call_failure_rate"] == 1.0


@pytest.mark.parametrize("enabled", [True, False])
def test_the_schema_is_sent_only_when_enabled(enabled):
    with ScriptedServer(lambda kind, body: '{"question": "q", "answer": "a"}') as server:
        ask(server, json_schema=enabled)
        bodies = [b for b in sent(server, "chat") if b["messages"][-1]["content"] == "pair"]
    constrained = [b for b in bodies if "response_format" in b or "structured_outputs" in b]
    assert bool(constrained) is enabled


def greedy_server(first: str, later: str) -> ScriptedServer:
    """A greedy server: its answer is a function of the messages and the temperature, never of the seed
    (at temperature 0 real servers ignore it). `first` answers the original question at temperature 0."""
    def answer(kind, body):
        if "pair" not in body["messages"][-1]["content"]:
            return '{"a": 1}'  # the engine's capability probe
        unchanged = body["temperature"] == 0 and body["messages"] == [{"role": "user", "content": "pair"}]
        return first if unchanged else later

    return ScriptedServer(answer)


def test_a_greedy_retry_changes_the_request_so_the_answer_can_change(tmp_path):
    with greedy_server('{"question": "q"}', '{"question": "q", "answer": "a"}') as server:
        obj, tally, cache = ask(server, temperature=0.0, store_dir=tmp_path / "cache")
        bodies = [b for b in sent(server, "chat") if "pair" in b["messages"][-1]["content"]]
        again, _, cache_again = ask(server, temperature=0.0, store_dir=tmp_path / "cache")
        asked_again = len([b for b in sent(server, "chat") if "pair" in b["messages"][-1]["content"]])
    assert obj == again == Pair(question="q", answer="a") and summary(tally)["retries"] == 1
    first, retry = bodies
    assert first["temperature"] == 0 and retry["temperature"] >= 0.7  # greedy decoding ignores the seed
    assert "answer: Field required" in retry["messages"][-1]["content"]  # told what was wrong
    # the retry is a request of its own in the cache, and a re-run is answered from it
    assert (cache.misses, cache_again.hits, cache_again.misses, asked_again) == (2, 2, 0, 2)


def test_retries_keep_a_higher_temperature_the_caller_chose():
    with greedy_server("no json", "no json") as server:
        err, _ = ask(server, temperature=1.1, retries=1)
        temperatures = [b["temperature"] for b in sent(server, "chat") if "pair" in b["messages"][-1]["content"]]
    assert isinstance(err, StructuredOutputError) and temperatures == [1.1, 1.1]
