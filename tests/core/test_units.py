"""Known-answer tests for the small pieces: filters, stages, config, plugins, cache keys, vLLM params."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from synth import plugins
from synth.config import RunConfig, load_config
from synth.engines.base import Sampling
from synth.engines.openai_http import OpenAIEngine
from synth.engines.vllm_local import VLLMEngine, sampling_kwargs
from synth.errors import ConfigError, EngineUnavailable, PluginError
from synth.llm import LLM
from synth.stages import FilterStage, Stage, run_stages
from synth.store import RunStore
from tests.conftest import REPO, write_config
from tests.servers import ScriptedServer

FinishReasonFilter = plugins.load(plugins.FILTERS, "finish-reason")


def rec(text: str, finish: str = "stop") -> dict:
    return {"id": text, "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": text}],
            "generation": {"finish_reason": finish}}


def test_finish_reason_filter_reasons():
    f = FinishReasonFilter()
    assert f.filter(rec("fine")) is True
    assert f.filter(rec("cut off", "length")) == (False, "finish_reason_length")
    assert f.filter(rec("loop", "repetition")) == (False, "finish_reason_repetition")
    assert f.filter(rec("   ")) == (False, "finish_reason_empty")
    assert FinishReasonFilter(drop=[]).filter(rec("cut", "length")) is True


def test_filter_stage_keeps_the_books():
    records = [rec("a"), rec("b", "length"), rec(""), rec("c")]
    kept, rejected, reports = run_stages([FilterStage(FinishReasonFilter())], records)
    assert [r["id"] for r in kept] == ["a", "c"]
    assert [(r["stage"], r["reason"], r["record"]["id"]) for r in rejected] == [
        ("filter:finish-reason", "finish_reason_length", "b"), ("filter:finish-reason", "finish_reason_empty", "")]
    d = reports[0].as_dict()
    assert (d["in"], d["kept"], d["dropped"]) == (4, 2, 2)
    assert d["dropped_by_reason"] == {"finish_reason_length": 1, "finish_reason_empty": 1}


def test_a_stage_that_loses_records_is_caught():
    class Lossy(Stage):
        name = "lossy"

        def apply(self, records):
            return records[1:], []

    with pytest.raises(AssertionError, match="lost or invented"):
        Lossy().run([rec("a"), rec("b")])


def test_config_shorthands_and_defaults(tmp_path):
    cfg, base = load_config(write_config(tmp_path / "c.yaml", recipe="instruct", seeds="s.jsonl",
                                         filters=["finish-reason", {"finish-reason": {"drop": []}},
                                                  {"name": "x", "min": 3}]))
    assert cfg.name == "c" and base == tmp_path
    assert [(f.name, f.options) for f in cfg.filters] == [("finish-reason", {}), ("finish-reason", {"drop": []}),
                                                          ("x", {"min": 3})]
    assert cfg.engine.kind == "embedded" and cfg.engine.in_flight == 2
    cfg2, _ = load_config(tmp_path / "c.yaml", {"engine.base_url": "http://h:8000/v1", "engine.kind": "openai"})
    assert cfg2.engine.kind == "openai" and cfg2.engine.in_flight == 64


def test_fingerprint_tracks_generation_not_filters():
    a = RunConfig(name="a", recipe="instruct", seeds="s")
    b = RunConfig(name="a", recipe="instruct", seeds="s", filters=[{"name": "finish-reason"}])
    c = RunConfig(name="a", recipe="instruct", seeds="s", sampling={"temperature": 0.2})
    assert a.generation_fingerprint("d") == b.generation_fingerprint("d") != c.generation_fingerprint("d")
    assert a.generation_fingerprint("d") != a.generation_fingerprint("other-seeds")


def test_engine_config_needs_what_it_uses(tmp_path):
    with pytest.raises(ConfigError, match="engine.kind openai needs base_url"):
        load_config(write_config(tmp_path / "c.yaml", recipe="instruct", seeds="s", engine={"kind": "openai"}))


def test_unknown_plugin_lists_available():
    with pytest.raises(PluginError, match=r"unknown recipe 'nope': choose one of .*instruct"):
        plugins.load(plugins.RECIPES, "nope")
    assert plugins.load(plugins.FILTERS, "synth.filters.finish_reason:FinishReasonFilter") is FinishReasonFilter


def test_llm_cache_answers_repeats_from_disk(tmp_path):
    server = ScriptedServer(lambda kind, body: f"answer {body['seed']}")
    with server:
        async def go():
            engine = OpenAIEngine(server.base_url, probe=False)
            async with engine:
                store = RunStore(tmp_path / "run", "fp")
                llm = LLM(engine, store, Sampling(max_tokens=5), run_seed=7)
                msgs = [{"role": "user", "content": "hi"}]
                first = await llm.chat(msgs, n=3)
                again = await llm.chat(msgs, n=3)
                more = await llm.chat(msgs, n=5)          # 3 from cache, 2 new
                other = await llm.chat(msgs, n=1, temperature=0.1)  # different params: new key
                store.close()
                return first, again, more, other, llm

        first, again, more, other, llm = asyncio.run(go())
    assert [c.text for c in first] == [c.text for c in again] == [c.text for c in more[:3]]
    assert len({c.seed for c in more}) == 5 and all(c.cached for c in again)
    assert len(server.requests("chat")) == 3 + 2 + 1
    assert (llm.cache_stats.hits, llm.cache_stats.misses) == (6, 6)
    assert other[0].seed not in {c.seed for c in more}  # derived seeds differ by request content


def test_run_seed_changes_derived_seeds(tmp_path):
    server = ScriptedServer(lambda kind, body: str(body["seed"]))
    with server:
        async def seeds_for(run_seed):
            async with OpenAIEngine(server.base_url, probe=False) as engine:
                llm = LLM(engine, None, Sampling(), run_seed=run_seed)
                return [c.seed for c in await llm.chat([{"role": "user", "content": "x"}], n=2)]

        a, b, a2 = (asyncio.run(seeds_for(s)) for s in (0, 1, 0))
    assert a == a2 and a != b and a[1] == a[0] + 1


def test_vllm_sampling_kwargs_are_explicit():
    kw = sampling_kwargs(Sampling(temperature=0.6, top_p=0.9, max_tokens=300, seed=5, stop=("</s>",)), n=4,
                         json_schema={"type": "object"})
    assert kw == {"n": 4, "temperature": 0.6, "top_p": 0.9, "max_tokens": 300, "seed": 5, "stop": ["</s>"],
                  "structured_outputs": {"json": {"type": "object"}}}


def test_vllm_engine_without_vllm_says_how_to_install():
    try:
        import vllm  # noqa: F401
        pytest.skip("vLLM is installed here")
    except ImportError:
        pass
    with pytest.raises(EngineUnavailable, match=r"pip install 'synth-datagen\[vllm\]'"):
        asyncio.run(VLLMEngine("some/model").start())


def test_every_folder_of_python_files_ships_as_a_package():
    """setup.py finds the packages rather than listing them (a new built-in is one folder, nothing to
    list); a folder of .py files without __init__.py would be left out of the wheel, so there is none."""
    import runpy

    shipped = set(runpy.run_path(str(REPO / "setup.py"), run_name="setup")["packages"]())
    found = set()
    for top, name in (("synth", "synth"), ("recipes", "synth.recipes"), ("filters", "synth.filters")):
        for source in (REPO / top).rglob("*.py"):
            if "__pycache__" not in source.parts:
                found.add(".".join([name, *source.parent.relative_to(REPO / top).parts]))
    assert found == shipped
    assert {"synth.recipes.instruct", "synth.filters", "synth.cli"} <= shipped


def test_entry_points_resolve():
    for group in (plugins.RECIPES, plugins.FILTERS):
        for name, ep in plugins.available(group).items():
            cls = ep.load()
            assert cls.name == name and cls.description


def test_ci_runs_the_readme_commands():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    # the README's two commands, at the top level of the script (later steps activate the venv indented)
    commands = [line for line in ci.splitlines() if "activate" in line and not line.startswith(" ")]
    assert len(commands) == 2
    for command in commands:
        assert command in readme
