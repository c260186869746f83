"""JSON answers: parsed, repaired, retried with another seed, tallied; schema sent only when enabled."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from synth.engines.base import Sampling
from synth.engines.openai_http import OpenAIEngine
from synth.llm import LLM
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


def ask(server, *, json_schema=True, retries=2):
    async def go():
        async with OpenAIEngine(server.base_url, max_retries=0) as engine:
            llm = LLM(engine, None, Sampling(max_tokens=64), json_schema=json_schema)
            try:
                obj, _ = await chat_json(llm, [{"role": "user", "content": "pair"}], Pair, retries=retries)
            except StructuredOutputError as exc:
                obj = exc
            return obj, llm.structured

    return asyncio.run(go())


def test_an_invalid_answer_is_retried_with_another_seed():
    seeds = []

    def answer(kind, body):
        if body["messages"][-1]["content"] != "pair":
            return '{"a": 1}'  # the engine's capability probe
        seeds.append(body["seed"])
        return '{"question": "q"}' if len(seeds) == 1 else '{"question": "q", "answer": "a"}'

    with ScriptedServer(answer) as server:
        obj, tally = ask(server)
        bodies = [b for b in sent(server, "chat") if b["messages"][-1]["content"] == "pair"]
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
