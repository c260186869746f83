"""Shared fixtures: a hermetic environment and one real embedded llama.cpp server per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from synth.engines.embedded import EmbeddedServer

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
# `pytest -m vllm`: vLLM and the converted SmolLM2 as scripts/vllm-cpu-setup.sh leaves them (read
# here, before the hermetic environment drops SYNTH_* variables)
VLLM_MODEL = Path(os.environ.get("SYNTH_VLLM_MODEL") or REPO / ".venv-vllm" / "models" / "smollm2").resolve()
VLLM_SERVED = "smollm2"


@pytest.fixture(autouse=True)
def hermetic_env(tmp_path, monkeypatch):
    """No real keys, endpoints or caches leak in; the Hub is unreachable by construction."""
    for key in list(os.environ):
        if key.startswith(("OPENAI_", "SYNTH_", "HF_TOKEN")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    import datasets.config  # its cache path is fixed at import time, so move it here too

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so a fixture's teardown can tell whether the test passed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(autouse=True)
def run_books_balance(request, tmp_path):
    """After every passing test, every finished run directory it made must balance (synth.run_books):
    seed rows = done + failed + duplicate, at each stage in = kept + dropped, files = manifest."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.passed:
        return
    from synth.run_books import check_run_dir

    problems = {}
    for manifest in tmp_path.rglob("manifest.json"):
        try:
            found = check_run_dir(manifest.parent)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # a manifest the test broke on purpose, or ours
            found = [f"unreadable books: {type(exc).__name__}: {exc}"]
        if found:
            problems[str(manifest.parent.relative_to(tmp_path))] = found
    if problems:
        pytest.fail(f"run directories whose books do not balance: {problems}", pytrace=False)


@pytest.fixture(scope="session")
def llm_server():
    """The embedded SmolLM2 server (real model, real HTTP), started once for the whole session."""
    with EmbeddedServer(threads=2, n_ctx=2048) as server:
        yield server.base_url


@pytest.fixture(scope="session")
def vllm_model():
    """The converted SmolLM2 directory; `pytest -m vllm` asks for scripts/vllm-cpu-setup.sh first."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None or not (VLLM_MODEL / "config.json").exists():
        pytest.fail("the vllm tests need vLLM and the converted model: run scripts/vllm-cpu-setup.sh, then "
                    ".venv-vllm/bin/python -m pytest -m vllm", pytrace=False)
    return str(VLLM_MODEL)


@pytest.fixture(scope="session")
def vllm_server(vllm_model, tmp_path_factory):
    """A real `vllm serve` (vLLM for CPU here) of SmolLM2, started once for the session; its /v1 URL."""
    from synth.engines.vllm_server import VLLMServer

    log = tmp_path_factory.mktemp("vllm") / "vllm-server.log"
    with VLLMServer(vllm_model, served_model_name=VLLM_SERVED, args={"max_model_len": 2048}, log_path=log) as server:
        yield server.base_url


def synth_cli(*args: str, env: dict | None = None, timeout: float = 300, cwd: str | Path | None = None):
    """Run the installed `synth` console script as a user would; returns CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "synth", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=cwd)


def write_config(path: Path, **fields) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(fields, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def cli_in_process(capsys, *args: str) -> tuple[int, str, str]:
    """`synth ARGS` through the real entry point in this process (so a server or stand-in running in a
    thread here, and patched settings, apply): exit code, stdout, stderr."""
    from synth.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err
