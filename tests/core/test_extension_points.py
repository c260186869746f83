"""Engine kinds, export formats and stages are plugins like recipes and filters: the built-ins are listed
through synth.plugins, and a package installed the way pip installs one (module + dist-info with
entry points) adds its own, which a `synth run` then uses by name."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from synth import plugins
from synth.build import make_engine, make_stages
from synth.config import EngineConfig, RunConfig, load_config
from synth.engines.openai_http import OpenAIEngine
from synth.errors import ConfigError, PluginError
from synth.exports import FORMATS, export_format, format_names, to_messages
from synth.stages import DedupStage
from tests.conftest import synth_cli, write_config, write_jsonl

ACME = '''
from synth.engines.base import Capabilities, Completion, Engine
from synth.stages import Stage


class EchoEngine(Engine):
    """Answers every conversation with its last message, after a prefix from the config's options."""

    kind = "echo"

    def __init__(self, prefix, model):
        super().__init__(model)
        self.prefix = prefix
        self.capabilities = Capabilities(models=[model], native_n=True, server="echo")

    async def chat(self, messages, sampling, *, n=1, json_schema=None):
        self.stats.requests += 1
        self.stats.completion_tokens += n
        return [Completion(text=self.prefix + messages[-1]["content"], finish_reason="stop", completion_tokens=1)
                for _ in range(n)]

    async def complete(self, prompt, sampling, *, n=1):
        return [Completion(text=self.prefix + prompt, finish_reason="stop") for _ in range(n)]


def make_echo(cfg, *, log_dir=None, role="default"):
    return EchoEngine(cfg.options.get("prefix", ""), cfg.model or "echo-1")


def to_shout(record, reasoning="field"):
    return {"shout": record["response"].upper()} if record.get("response") else None


class DropShort(Stage):
    name = "drop-short"

    def __init__(self, min_chars):
        self.min_chars = min_chars

    def apply(self, records):
        short = [r for r in records if len(r["response"]) < self.min_chars]
        return [r for r in records if r not in short], [(r, "drop_short_too_short", {}) for r in short]


def make_drop_short(options, *, base_dir):
    return DropShort(int(options.get("min_chars", 1)))
'''


def install_acme(tmp_path: Path) -> Path:
    """`acme_ext` with an engine kind, an export format and a stage, registered by entry points."""
    site = tmp_path / "site"
    (site / "acme_ext").mkdir(parents=True)
    (site / "acme_ext" / "__init__.py").write_text(textwrap.dedent(ACME), encoding="utf-8")
    info = site / "acme_ext-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-ext\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[synth.engines]\necho = acme_ext:make_echo\n"
        "[synth.exports]\nshout = acme_ext:to_shout\n"
        "[synth.stages]\ndrop-short = acme_ext:make_drop_short\n", encoding="utf-8")
    return site


def test_a_plugin_engine_export_and_stage_registered_by_entry_points_run(tmp_path):
    site = install_acme(tmp_path)
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": "Hi"}, {"instruction": "Name a river"},
                                           {"instruction": "Name a mountain"}])
    cfg = write_config(tmp_path / "run.yaml", name="acme", recipe="instruct", seeds="seeds.jsonl", dedup=None,
                       engine={"kind": "echo", "model": "echo-1", "options": {"prefix": "echo: "}},
                       stages=[{"name": "drop-short", "min_chars": 10}],
                       export={"formats": ["shout", "messages"]})
    proc = synth_cli("run", str(cfg), "-q", env={"PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "runs" / "acme"
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["engine"]["kind"], manifest["engine"]["model"], manifest["engine"]["server"]) == \
        ("echo", "echo-1", "echo")
    assert manifest["requests"]["sent"] == 3
    stage = {s["name"]: s for s in manifest["stages"]}["drop-short"]
    assert (stage["in"], stage["kept"], stage["dropped_by_reason"]) == (3, 2, {"drop_short_too_short": 1})
    rejected = [json.loads(line) for line in (run / "rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["stage"], r["reason"], r["record"]["response"]) for r in rejected] == \
        [("drop-short", "drop_short_too_short", "echo: Hi")]
    shout = [json.loads(line) for line in (run / "exports" / "shout.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(r["shout"] for r in shout) == ["ECHO: NAME A MOUNTAIN", "ECHO: NAME A RIVER"]
    assert (run / "exports" / "messages.jsonl").exists()

    # without the package the same names are unknown, each named with what is installed
    for key, value, message in (
            ("engine", {"kind": "echo"}, "engine.kind 'echo' is not an engine kind: choose one of embedded, openai, "
                                         "vllm, vllm-server"),
            ("stages", ["drop-short"], "unknown stage 'drop-short': choose one of decontam, dedup"),
            ("export", {"formats": ["shout"]}, "export.formats: recipe 'instruct' has no format 'shout'")):
        bad = write_config(tmp_path / f"{key}.yaml", name=key, recipe="instruct", seeds="seeds.jsonl",
                           **{key: value})
        proc = synth_cli("run", str(bad), "-q")
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert not (tmp_path / "runs" / key).exists()


def test_built_ins_are_listed_and_loaded_through_the_same_registry():
    assert list(plugins.available(plugins.ENGINES)) == ["embedded", "openai", "vllm", "vllm-server"]
    assert list(plugins.available(plugins.STAGES)) == ["decontam", "dedup", "student"]
    assert set(plugins.available(plugins.EXPORTS)) == set(FORMATS) == set(format_names())
    assert export_format("sft") is to_messages and plugins.load(plugins.EXPORTS, "synth.exports:to_alpaca")
    engine = make_engine(EngineConfig(base_url=["http://127.0.0.1:9/v1"]))
    assert isinstance(engine, OpenAIEngine) and engine.kind == "openai"
    running = EngineConfig(kind="vllm-server", model="m", launch=False, base_url="http://127.0.0.1:9/v1")
    assert make_engine(running).kind == "openai"  # a vllm serve already running is an OpenAI server
    with pytest.raises(PluginError, match="unknown export format 'nope': choose one of alpaca, llamafactory"):
        export_format("nope")


def test_the_built_in_stages_come_from_their_keys_and_are_refused_under_stages(tmp_path):
    cfg = RunConfig.model_validate({"name": "x", "recipe": "instruct", "seeds": "s.jsonl", "dedup": {"near": True}})
    (stage,) = make_stages(cfg, tmp_path)
    assert isinstance(stage, DedupStage) and stage.config.near
    off = RunConfig.model_validate({"name": "x", "recipe": "instruct", "seeds": "s.jsonl",
                                    "dedup": {"exact": False}})
    assert make_stages(off, tmp_path) == []
    twice = RunConfig.model_validate({"name": "x", "recipe": "instruct", "seeds": "s.jsonl", "stages": ["dedup"]})
    with pytest.raises(ConfigError, match=r"stages\[0\]: dedup has its own key: write dedup: \{...\} instead"):
        make_stages(twice, tmp_path)


def test_engine_options_are_a_plugin_engines_and_part_of_the_fingerprint(tmp_path):
    with pytest.raises(ConfigError, match="engine.options is a plugin engine's own settings: kind openai"):
        load_config(write_config(tmp_path / "o.yaml", recipe="instruct", seeds="s.jsonl",
                                 engine={"base_url": "http://x/v1", "options": {"prefix": "!"}}))
    base = {"name": "x", "recipe": "instruct", "seeds": "s.jsonl", "engine": {"kind": "mod:factory"}}
    one = RunConfig.model_validate(base).generation_fingerprint("seeds")
    two = RunConfig.model_validate({**base, "engine": {"kind": "mod:factory", "options": {"t": 1}}})
    assert two.generation_fingerprint("seeds") != one
