"""Every example config runs (on the shared embedded server, first rows only) and is shown in the docs."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLES, REPO, synth_cli

CONFIGS = sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_example_runs(config, tmp_path, llm_server):
    out = tmp_path / config.stem
    proc = synth_cli("run", str(config), "--base-url", llm_server, "--limit", "2", "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows"]["selected"] == 2 and manifest["rows"]["failed"] == 0
    assert (out / "data").is_dir() and (out / "README.md").exists()


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_example_is_documented(config):
    docs = (REPO / "README.md").read_text() + "".join(p.read_text() for p in (REPO / "docs").glob("*.md"))
    assert f"examples/{config.name}" in docs, f"examples/{config.name} is not mentioned in README.md or docs/"


def test_serve_check_reports_llama_cpp(llm_server):
    proc = synth_cli("serve-check", "--base-url", llm_server)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "llama-cpp-python" in out and "smollm2-135m-instruct" in out
    assert "native n         no (emulated with distinct seeds)" in out
    assert "JSON schema      json_object_schema" in out
    assert "raw completions  yes" in out


def test_serve_check_unreachable():
    proc = synth_cli("serve-check", "--base-url", "http://127.0.0.1:9/v1")
    assert proc.returncode == 2 and proc.stderr.startswith("error: cannot reach")
