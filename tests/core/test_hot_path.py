"""The per-request shortcuts of a run give the same answers as the general code they stand in for:
template filling, request keys, the n=1 cache path, record JSON lines and the batched answer journal."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json

import jinja2
import numpy as np
import pytest

from synth import plugins
from synth.engines.base import Sampling
from synth.engines.openai_http import OpenAIEngine
from synth.llm import LLM
from synth.recipe import _simple_parts
from synth.schema import RecordSchema, RecordSchemaError
from synth.store import RunStore, dump_json
from tests.servers import ScriptedServer

CONTEXTS = [{}, {"input": ""}, {"input": "some data\nmore"}, {"input": 0}, {"input": ["a"]}]


@pytest.mark.parametrize("name", ["instruct", "reasoning", "evolve"])
def test_simple_templates_render_as_jinja_does(name):
    recipe = plugins.load(plugins.RECIPES, name)({})
    checked = 0
    for template in recipe._jinja.list_templates(extensions=["j2"]):
        simple = recipe._simplify(template)
        if simple is None:
            continue
        for extra in CONTEXTS:
            context = {n: f" value of {n} <&> 答案 " for n in simple[1]} | extra
            if not context.keys() >= simple[1]:
                continue
            expected = recipe._jinja.get_template(template).render(**context).strip()
            assert recipe.render(template, **context) == expected
            checked += 1
    assert checked >= 2  # each of these recipes has simple templates


def test_templates_beyond_the_shortcut_go_through_jinja():
    env = jinja2.Environment()
    for source in ["{{ x | upper }}", "{{ row.x }}", "{% for i in xs %}{{ i }}{% endfor %}", "{% if a %}{% elif b %}{% endif %}",
                   "{% include 'other.j2' %}", "{{ x + 1 }}"]:
        assert _simple_parts(env.parse(source).body, set()) is None, source
    names: set[str] = set()
    assert _simple_parts(env.parse("a {{ x }}{% if y %}b{% else %}{{ z }}{% endif %}").body, names) is not None
    assert names == {"x", "y", "z"}
    recipe = plugins.load(plugins.RECIPES, "instruct")({})
    with pytest.raises(jinja2.UndefinedError, match="'input' is undefined"):  # Jinja still names a missing value
        recipe.render("user.j2", instruction="Do it.")


def test_request_text_is_the_canonical_json_of_the_request(tmp_path):
    engine = OpenAIEngine("http://127.0.0.1:9/v1", "m", probe=False)
    llm = LLM(engine, None, Sampling(max_tokens=8))
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    cases = [("chat", [{"role": "user", "content": "答案 \"quoted\"\n"}], llm.defaults, None),
             ("chat", [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
              llm._sampling({"temperature": 0.1, "stop": ["\n\n"]}), None),
             ("chat", [{"role": "user", "content": "json please"}], llm.defaults, schema),
             ("complete", "Once upon a time", llm.defaults, None)]
    for kind, body, sampling, json_schema in cases * 2:  # the second round uses the remembered tails
        assert llm._request_json(kind, body, sampling, json_schema) == \
            dump_json(llm._request(kind, body, sampling, json_schema))
    engine.model = "another"  # a model name learnt at start: a new tail
    assert '"model":"another"' in llm._request_json("chat", [], llm.defaults, None)


def test_a_single_sample_uses_the_key_of_sample_zero(tmp_path):
    server = ScriptedServer(lambda kind, body: f"answer {body['seed']}")
    with server:
        async def go():
            async with OpenAIEngine(server.base_url, probe=False) as engine:
                store = RunStore(tmp_path / "run", "fp")
                llm = LLM(engine, store, Sampling(max_tokens=5), run_seed=3)
                msgs = [{"role": "user", "content": "hi"}]
                three = await llm.chat(msgs, n=3)
                one = await llm.chat(msgs)
                other = await llm.chat([{"role": "user", "content": "bye"}])
                other_again = await llm.chat([{"role": "user", "content": "bye"}])
                store.close()
                return three, one, other, other_again

        three, one, other, other_again = asyncio.run(go())
    assert one[0].cached and (one[0].text, one[0].seed) == (three[0].text, three[0].seed)
    assert not other[0].cached and other_again[0].cached and other_again[0].text == other[0].text
    assert len(server.requests("chat")) == 3 + 1


def test_records_read_back_as_written(tmp_path):
    store = RunStore(tmp_path / "run", "fp")
    record = {"id": "00ff00ff00ff00ff", "seed_key": "00000000000000aa", "text": "答案 \"q\"\n\t",
              "when": datetime.datetime(2024, 1, 2, 3, 4, 5), "big": 2 ** 70, "n": 1.5, "none": None,
              "nested": {"l": [1, 2]}}
    store.append_records([record, {**record, "id": "00ff00ff00ff0100", "big": 1}])
    store.commit()
    # a shard of an earlier session, written by json (spaces, NaN)
    (tmp_path / "run" / "records" / "fp" / "part-00099.jsonl").write_text(
        json.dumps({"id": "0123456789abcdef", "seed_key": "00000000000000bb", "x": float("nan")}) + "\n",
        encoding="utf-8")
    back = list(store.iter_records_by_seed(np.array([0xAA, 0xBB], dtype=np.uint64)))
    store.close()
    assert back[0] == {**record, "when": "2024-01-02 03:04:05"}  # as json's default=str wrote it
    assert back[1]["big"] == 1 and back[1]["text"] == record["text"]
    assert back[2]["id"] == "0123456789abcdef" and back[2]["x"] != back[2]["x"]  # NaN


def test_answers_of_a_loop_pass_reach_the_journal_before_the_next_pass(tmp_path):
    """During a run the journal is written once per pass of the event loop; a kill after that pass
    (no commit, no close) loses none of those answers."""
    store = RunStore(tmp_path / "run", "fp")
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(3)]

    async def answer_then_die():
        store.background = True
        for i, key in enumerate(keys):
            store.cache(key, f'{{"q": {i}}}', i, {"text": f"answer {i}"})
        await asyncio.sleep(0)  # one pass of the loop

    asyncio.run(answer_then_die())
    del store  # killed: no commit, no close
    again = RunStore(tmp_path / "run", "fp")
    assert [again.cached(k) for k in keys] == [{"text": f"answer {i}"} for i in range(3)]
    again.close()


def test_text_shortcut_of_the_schema_check_still_catches_a_change_of_type():
    schema = RecordSchema()
    schema.check({"a": "x", "g": {"model": "m", "tokens": 3}}, "row 1")
    schema.check({"a": "y", "g": {"model": "m2", "tokens": None}}, "row 2")
    with pytest.raises(RecordSchemaError, match="'g.tokens' is str here but int"):
        schema.check({"a": "z", "g": {"model": "m", "tokens": "3"}}, "row 3")
    with pytest.raises(RecordSchemaError, match="'a' is int here but str"):
        schema.check({"a": 1, "g": {}}, "row 4")
