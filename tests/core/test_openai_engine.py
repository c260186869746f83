"""The HTTP engine against the real embedded server, directly and through a fault-injecting proxy."""

from __future__ import annotations

import asyncio
import json

import pytest

from synth.engines.base import Sampling
from synth.engines.openai_http import OpenAIEngine
from synth.engines.probing import json_schema_fields
from synth.engines.window import next_window, parse_vllm_load
from synth.errors import EngineUnavailable, RequestFailed, RequestRejected
from tests.servers import FaultProxy, ScriptedServer

S = Sampling(temperature=0.8, max_tokens=8, seed=11)
HELLO = [{"role": "user", "content": "Say hello."}]


def run(coro):
    return asyncio.run(coro)


async def _with(engine, fn):
    async with engine:
        return await fn(engine)


def test_chat_against_real_server_detects_llama_cpp(llm_server):
    async def go(e):
        out = await e.chat(HELLO, S)
        return e, out

    engine, out = run(_with(OpenAIEngine(llm_server), go))
    assert engine.capabilities.server == "llama-cpp-python"
    assert engine.capabilities.native_n is False
    assert len(out) == 1 and out[0].text and out[0].finish_reason in ("stop", "length")
    assert out[0].completion_tokens > 0 and engine.stats.requests == 1


def test_n_is_emulated_with_distinct_seeds_when_server_ignores_it(llm_server):
    with FaultProxy(llm_server) as proxy:
        out = run(_with(OpenAIEngine(proxy.base_url), lambda e: e.chat(HELLO, S, n=3)))
        seeds = sorted(p["body"]["seed"] for p in proxy.posts("chat/completions"))
    assert len(out) == 3 and [c.seed for c in out] == [11, 12, 13]
    assert seeds == [11, 12, 13]  # one request per sample, each with its own seed


def test_native_n_sends_one_request():
    server = ScriptedServer(lambda kind, body: f"seed {body['seed']}", native_n=True)
    with server:
        out = run(_with(OpenAIEngine(server.base_url), lambda e: e.chat(HELLO, S, n=4)))
        # the probe asks for n=2 once; the real request is a single n=4 call
        real = [b for b in server.requests("chat") if b.get("max_tokens") == 8]
    assert [c.text for c in out] == ["seed 11", "seed 12", "seed 13", "seed 14"]
    assert len(real) == 1 and real[0]["n"] == 4


def test_greedy_n_is_one_request_copied_per_seed():
    # vLLM answers n > 1 at temperature 0 with HTTP 400 ("n must be 1 when using greedy sampling")
    server = ScriptedServer(lambda kind, body: f"greedy {body.get('n', 1)}", native_n=True)
    with server:
        out = run(_with(OpenAIEngine(server.base_url),
                        lambda e: e.chat(HELLO, Sampling(temperature=0.0, max_tokens=8, seed=5), n=3)))
        real = [b for b in server.requests("chat") if b.get("max_tokens") == 8]
    assert len(real) == 1 and "n" not in real[0] and real[0]["seed"] == 5
    assert [(c.text, c.seed) for c in out] == [("greedy 1", 5), ("greedy 1", 6), ("greedy 1", 7)]


def test_json_schema_is_translated_for_llama_cpp(llm_server):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    out = run(_with(OpenAIEngine(llm_server),
                    lambda e: e.chat([{"role": "user", "content": "Name a city as JSON."}],
                                     Sampling(temperature=0, max_tokens=40, seed=1), json_schema=schema)))
    assert "city" in json.loads(out[0].text, strict=False)


def test_raw_completion(llm_server):
    out = run(_with(OpenAIEngine(llm_server), lambda e: e.complete("1, 2, 3,", S, n=2)))
    assert len(out) == 2 and all(isinstance(c.text, str) for c in out)


@pytest.mark.parametrize("fault", ["500", "drop", "stall"])
def test_transient_faults_are_retried(llm_server, fault):
    plan = lambda i, body: fault if i == 0 else "ok"  # noqa: E731
    with FaultProxy(llm_server, plan, stall_s=3) as proxy:
        engine = OpenAIEngine(proxy.base_url, timeout_s=1.5, backoff_s=0.05)
        out = run(_with(engine, lambda e: e.chat(HELLO, S)))
        assert len(proxy.posts()) == 2
    assert out[0].text and engine.stats.retries == 1


def test_4xx_is_not_retried(llm_server):
    with FaultProxy(llm_server, lambda i, b: "400") as proxy:
        with pytest.raises(RequestRejected, match="HTTP 400"):
            run(_with(OpenAIEngine(proxy.base_url, backoff_s=0.01), lambda e: e.chat(HELLO, S)))
        assert len(proxy.posts()) == 1


def test_gives_up_after_max_retries(llm_server):
    with FaultProxy(llm_server, lambda i, b: "500") as proxy:
        with pytest.raises(RequestFailed, match="after 3 attempts: HTTP 500"):
            run(_with(OpenAIEngine(proxy.base_url, max_retries=2, backoff_s=0.01), lambda e: e.chat(HELLO, S)))
        assert len(proxy.posts()) == 3


def test_unreachable_server_is_engine_unavailable():
    with pytest.raises(EngineUnavailable, match="cannot reach http://127.0.0.1:9/v1"):
        run(OpenAIEngine("http://127.0.0.1:9/v1").start())


def test_in_flight_window_bounds_concurrency():
    active, peak = [0], [0]

    def answer(kind, body):
        return "ok"

    server = ScriptedServer(answer)
    original = server.chat

    async def slow_chat(request):
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        await asyncio.sleep(0.05)
        try:
            return await original(request)
        finally:
            active[0] -= 1

    server.chat = slow_chat
    with server:
        async def many(e):
            return await asyncio.gather(*(e.chat(HELLO, Sampling(seed=i)) for i in range(20)))

        out = run(_with(OpenAIEngine(server.base_url, max_in_flight=3, probe=False), many))
    assert len(out) == 20 and peak[0] <= 3


def test_json_schema_fields_per_server_kind():
    schema = {"type": "object"}
    assert json_schema_fields("response_format", schema)["response_format"]["type"] == "json_schema"
    assert json_schema_fields("json_object_schema", schema) == {"response_format": {"type": "json_object",
                                                                                     "schema": schema}}
    assert json_schema_fields("structured_outputs", schema) == {"structured_outputs": {"json": schema}}


def test_vllm_metrics_drive_the_window():
    text = """# HELP vllm:num_requests_waiting x
vllm:num_requests_waiting{engine="0",model_name="m"} 30.0
vllm:num_requests_waiting{engine="1",model_name="m"} 10.0
vllm:num_requests_running{engine="0",model_name="m"} 64.0
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.97
"""
    load = parse_vllm_load(text)
    assert load == {"waiting": 40.0, "running": 64.0, "kv_cache": 0.97}
    assert next_window(64, 128, **load) == 51          # queueing on a full cache: back off
    assert next_window(51, 128, waiting=0, running=10, kv_cache=0.2) == 63  # idle: grow back
    assert next_window(128, 128, waiting=0, running=10, kv_cache=0.2) == 128


def test_reasoning_field_of_reasoning_models_is_kept():
    from synth.engines.openai_http import parse_choices

    data = {"choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "42", "reasoning": "6 times 7 is 42."}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 9}}
    [c] = parse_choices(data, [3])
    assert (c.text, c.reasoning, c.seed, c.completion_tokens) == ("42", "6 times 7 is 42.", 3, 9)
    old = {"choices": [{"index": 0, "message": {"content": "42", "reasoning_content": "thinking"}}]}
    assert parse_choices(old, [None])[0].reasoning == "thinking"


def test_missing_raw_completions_endpoint_is_named():
    from aiohttp import web

    from synth.errors import EngineError

    server = ScriptedServer(lambda kind, body: "x")

    def without_completions():  # a chat-only OpenAI-compatible server
        app = web.Application()
        app.router.add_get("/v1/models", server.models)
        app.router.add_post("/v1/chat/completions", server.chat)
        return app

    server.app = without_completions
    with server:
        with pytest.raises(EngineError, match="no raw completions endpoint"):
            run(_with(OpenAIEngine(server.base_url, probe=False), lambda e: e.complete("1, 2,", S)))


def test_extra_body_goes_with_every_request_and_into_the_fingerprint():
    from synth.config import RunConfig

    extra = {"top_k": 20, "chat_template_kwargs": {"enable_thinking": False}}
    server = ScriptedServer(lambda kind, body: "ok")
    with server:
        async def go(e):
            await e.chat(HELLO, S)
            await e.complete("1, 2,", S)

        run(_with(OpenAIEngine(server.base_url, extra_body=extra), go))
        sent = [b for kind in ("chat", "complete") for b in server.requests(kind) if b.get("max_tokens") == 8]
    assert len(sent) == 2 and all(b["top_k"] == 20 and b["chat_template_kwargs"] == {"enable_thinking": False}
                                  for b in sent)
    base = {"name": "x", "recipe": "instruct", "seeds": "s.jsonl"}
    plain = RunConfig(**base).generation_fingerprint("d")
    assert RunConfig(**base, engine={"extra_body": {}}).generation_fingerprint("d") == plain  # old runs keep theirs
    assert RunConfig(**base, engine={"extra_body": extra}).generation_fingerprint("d") != plain


def test_extra_body_is_part_of_the_cache_key_only_when_set():
    from synth.llm import LLM

    engine = OpenAIEngine("http://127.0.0.1:9/v1", "m")
    plain = LLM(engine, None, S)._request_json("chat", HELLO, S, None)
    assert LLM(engine, None, S, extra_body={})._request_json("chat", HELLO, S, None) == plain
    thinking_off = LLM(engine, None, S, extra_body={"chat_template_kwargs": {"enable_thinking": False}})
    assert thinking_off._request_json("chat", HELLO, S, None) != plain  # new answers, not the cached ones
    assert json.loads(thinking_off._request_json("chat", HELLO, S, None))["extra_body"] == \
        {"chat_template_kwargs": {"enable_thinking": False}}


# -- a server that does not take response_format ------------------------------------------------------
ASK = [{"role": "user", "content": "Name a city as JSON."}]
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def json_by_prompt(kind, body):
    """A plain model: JSON with the field the schema names only when the prompt shows the schema."""
    return '{"city": "Paris"}' if '"city"' in body["messages"][-1]["content"] else "Paris, I would say."


def no_response_format(kind, body):
    if "response_format" in body or "structured_outputs" in body:
        return "Unrecognized request argument supplied: response_format"
    return None


def test_a_server_refusing_response_format_is_probed_once_and_gets_the_schema_in_the_prompt():
    greedy = Sampling(temperature=0, max_tokens=16)

    async def go(e):
        asks = [[{"role": "user", "content": f"Name city {i} as JSON."}] for i in range(9)]
        out = await asyncio.gather(*(e.chat(ask, greedy, json_schema=CITY) for ask in asks[:6]))  # at once
        for ask in asks[6:]:  # then one by one
            out.append(await e.chat(ask, greedy, json_schema=CITY))
        return e, out

    with ScriptedServer(json_by_prompt, refuse=no_response_format) as server:
        engine, out = run(_with(OpenAIEngine(server.base_url, max_retries=0), go))
        seen = list(server.log)
    assert [json.loads(c[0].text) for c in out] == [{"city": "Paris"}] * 9
    probes = [e for e in seen if e["body"].get("max_tokens") == 24]
    assert len(probes) == 2  # response_format, then json_object + schema: once for the engine, not per request
    asked = [e for e in seen if "as JSON" in e["body"]["messages"][-1]["content"]]
    assert len(asked) == 9 and not any(e.get("status") or "response_format" in e["body"] for e in asked)
    assert engine.capabilities.json_schema == "none"
    assert engine.stats.requests == len(seen)  # the probes too: every request the server saw


def test_a_refused_schema_field_after_a_good_probe_falls_back_to_the_prompt_once():
    def refuse_real_requests(kind, body):  # the tiny probe passes, the real schema does not
        probe = body["messages"][-1]["content"] == "Say hi."
        return None if probe else no_response_format(kind, body)

    async def go(e):
        return e, [await e.chat([{"role": "user", "content": f"Name city {i} as JSON."}],
                                Sampling(temperature=0, max_tokens=16), json_schema=CITY) for i in range(3)]

    answer = lambda kind, body: '{"a": 1}' if body.get("max_tokens") == 24 else json_by_prompt(kind, body)  # noqa: E731
    with ScriptedServer(answer, refuse=refuse_real_requests) as server:
        engine, out = run(_with(OpenAIEngine(server.base_url, max_retries=0), go))
        seen = list(server.log)
    assert [json.loads(c[0].text) for c in out] == [{"city": "Paris"}] * 3
    refused = [e for e in seen if e.get("status") == 400]
    assert len(refused) == 1 and engine.capabilities.json_schema == "none"  # learnt once, then in the prompt
    assert engine.stats.requests == len(seen) == 1 + 1 + 1 + 3  # n probe, schema probe, the refused one, 3 answers
