"""The request cache keeps engine roles apart: two servers that report the same model name (llama.cpp
servers, vLLM `--served-model-name` aliases) each answer their own role, a role on the default's engine
shares its answers, and a resumed run, with the servers now on other ports, asks neither again."""

from __future__ import annotations

import asyncio

from synth.build import make_engines
from synth.config import RunConfig
from synth.roles import answer_source, close_all, make_llms, start_all
from synth.store import RunStore
from synth.testing import ScriptedServer

QUESTION = [{"role": "user", "content": "Is 17 prime?"}]


def teacher(kind: str, body: dict) -> str:
    return f"teacher: yes ({body['seed']})"


def judge(kind: str, body: dict) -> str:
    return f"judge: 9/10 ({body['seed']})"


def config(teacher_url: str, judge_url: str) -> RunConfig:
    return RunConfig(name="roles", recipe="instruct", seeds="seeds.jsonl",
                     engine={"base_url": teacher_url, "model": "local-model"},
                     engines={"judge": {"base_url": judge_url, "model": "local-model"},
                              # the teacher's server again, sent to with another window: the same answers
                              "helper": {"base_url": teacher_url, "model": "local-model", "max_in_flight": 3}})


def ask_every_role(cfg: RunConfig, run_dir) -> dict[str, tuple[str, bool, tuple[int, int]]]:
    """Each role's answer to one question: (text, cached, (cache hits, misses))."""
    async def go():
        engines = make_engines(cfg)
        await start_all(engines)
        store = RunStore(run_dir, "fp")
        try:
            llms = make_llms(cfg, engines, store)
            answers = {}
            for role in ("default", "judge", "helper"):  # in turn: the helper may find the teacher's answer
                llm = llms["default"].role(role)
                [c] = await llm.chat(QUESTION)
                answers[role] = (c.text, c.cached, (llm.cache_stats.hits, llm.cache_stats.misses))
            store.commit()
            return answers
        finally:
            store.close()
            await close_all(engines)

    return asyncio.run(go())


def test_same_model_name_on_two_servers_each_role_gets_its_own_servers_answer_and_a_resume_asks_neither(tmp_path):
    with ScriptedServer(teacher, model="local-model") as t, ScriptedServer(judge, model="local-model") as j:
        first = ask_every_role(config(t.base_url, j.base_url), tmp_path / "run")
        assert len(t.sent()) == 1 and len(j.sent()) == 1  # the helper was answered from the teacher's cache
    assert first["default"][0].startswith("teacher: ") and first["judge"][0].startswith("judge: ")
    assert first["helper"] == (first["default"][0], True, (1, 0))
    assert not first["default"][1] and not first["judge"][1]

    # the resumed run: the same servers, restarted on other ports (as an embedded or started server is)
    with ScriptedServer(teacher, model="local-model") as t, ScriptedServer(judge, model="local-model") as j:
        again = ask_every_role(config(t.base_url, j.base_url), tmp_path / "run")
        assert t.sent() == [] and j.sent() == []
    assert {role: text for role, (text, _, _) in again.items()} == \
        {role: text for role, (text, _, _) in first.items()}
    assert all(cached and stats == (1, 0) for _, cached, stats in again.values())


def test_answer_source_ignores_how_requests_are_sent_but_not_where():
    base = RunConfig(name="a", recipe="instruct", seeds="s.jsonl",
                     engine={"base_url": ["http://b:8000/v1", "http://a:8000/v1"], "model": "m"})
    same = base.engine.model_copy(update={"base_url": ["http://a:8000/v1", "http://b:8000/v1"], "timeout_s": 5.0,
                                          "max_retries": 1, "max_in_flight": 7, "api_key_env": "OTHER_KEY"})
    assert answer_source(same) == answer_source(base.engine)
    for change in ({"base_url": "http://c:8000/v1"}, {"model": "other"}, {"n_ctx": 8192}):
        assert answer_source(base.engine.model_copy(update=change)) != answer_source(base.engine), change
    started = RunConfig(name="a", recipe="instruct", seeds="s.jsonl",
                        engine={"kind": "vllm-server", "model": "m", "port": 8001}).engine
    assert answer_source(started) == answer_source(started.model_copy(update={"port": 8002}))


def test_a_rerun_with_a_judge_role_on_a_same_named_server_asks_neither_server_again(tmp_path):
    from tests.conftest import write_config, write_jsonl
    from synth.testing import run_config
    from tests.core.test_engine_roles import judge as judging, writer
    from tests.filters.test_judge import is_judge

    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": "What is 2 + 2?"}, {"instruction": "What is 3 + 3?"}])
    with ScriptedServer(writer, model="local-model") as w, ScriptedServer(judging, model="local-model") as j:
        cfg = write_config(tmp_path / "run.yaml", name="roles", recipe="instruct", seeds="seeds.jsonl",
                           engine={"base_url": w.base_url, "model": "local-model"},
                           engines={"judge": {"base_url": j.base_url, "model": "local-model"}},
                           sampling={"max_tokens": 32}, dedup=None,
                           filters=[{"name": "judge", "engine": "judge", "threshold": 5}])
        first = run_config(cfg, tmp_path / "run")
        sent = len(w.sent()), len(j.sent())
        again = run_config(cfg, tmp_path / "run")
        assert (len(w.sent()), len(j.sent())) == sent
    # two instructions written, two answers judged (beside each server's capability probe)
    assert len([b for b in w.sent() if not is_judge(b)]) >= 2 and len([b for b in j.sent() if is_judge(b)]) == 2
    assert len(first.kept) == len(again.kept) == 2  # the judge's scores, not the writer's text, were read
    assert not any("WRONG SERVER" in str(r) for r in first.kept + again.kept)
    judged = again.manifest["requests_by_engine"]["judge"]
    assert judged["cache_misses"] == 0 and judged["cache_hits"] == 2
