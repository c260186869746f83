"""`synth run` end to end: quickstart on the embedded engine, resume after SIGKILL, faults, changes."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import EXAMPLES, synth_cli, write_config, write_jsonl
from tests.procs import running
from tests.servers import FaultProxy


def load_rows(run_dir: Path) -> list[dict]:
    from datasets import load_dataset

    return list(load_dataset(str(run_dir), split="train"))


def instructions(n: int, prefix: str = "Name a colour") -> list[dict]:
    return [{"instruction": f"{prefix} number {i}."} for i in range(n)]


def small_config(tmp_path: Path, rows: list[dict], **extra) -> Path:
    write_jsonl(tmp_path / "seeds.jsonl", rows)
    fields = dict(name="t", recipe="instruct", seeds="seeds.jsonl",
                  sampling={"max_tokens": 12, "temperature": 0.8}, dedup=None)
    fields.update(extra)
    return write_config(tmp_path / "run.yaml", **fields)


def llama_servers(cwd: Path) -> set[int]:
    """llama.cpp servers started from `cwd` (a test's own folder: other tests' servers do not count)."""
    pids = running("llama_cpp.server")
    here = set()
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/cwd").resolve() == cwd.resolve():
                here.add(pid)
        except OSError:
            pass  # it ended meanwhile
    return here


def test_quickstart_runs_on_the_embedded_engine(tmp_path):
    before = llama_servers(tmp_path)
    proc = synth_cli("run", str(EXAMPLES / "quickstart.yaml"), "--out", str(tmp_path / "qs"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    run_dir = tmp_path / "qs"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["engine"]["kind"] == "embedded"
    assert manifest["rows"]["done"] == manifest["rows"]["selected"] == 6
    stages = {s["name"]: s for s in manifest["stages"]}
    assert stages["generate"]["kept"] == 6
    kept = load_rows(run_dir)
    assert len(kept) == manifest["outputs"]["kept"]
    rejected = [json.loads(line) for line in (run_dir / "rejected.jsonl").read_text().splitlines()]
    assert len(kept) + len(rejected) == 6
    assert all(r["reason"].startswith(("finish_reason_", "exact_duplicate", "near_duplicate")) for r in rejected)
    for row in kept:
        assert row["messages"][-1]["role"] == "assistant" and row["messages"][-1]["content"].strip()
        assert row["generation"]["finish_reason"] == "stop"
    assert (run_dir / "exports" / "messages.jsonl").exists() and (run_dir / "train.jsonl").exists()
    assert "toy model" in (run_dir / "README.md").read_text()
    assert llama_servers(tmp_path) <= before, "the embedded server must stop with the run"


def test_rerun_sends_nothing_and_changed_filters_reuse_the_cache(tmp_path, llm_server):
    cfg = small_config(tmp_path, instructions(4))
    with FaultProxy(llm_server) as proxy:
        first = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "-q")
        assert first.returncode == 0, first.stderr
        sent = len(proxy.posts())
        assert sent == 4
        again = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "-q")
        assert again.returncode == 0 and len(proxy.posts()) == sent
        # a filter change does not change the generation fingerprint: nothing is re-asked
        small_config(tmp_path, instructions(4), filters=[{"name": "finish-reason", "drop": []}])
        third = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "-q")
        assert third.returncode == 0 and len(proxy.posts()) == sent
    assert len(load_rows(tmp_path / "runs" / "t")) == 4


def test_changed_sampling_starts_a_new_fingerprint(tmp_path, llm_server):
    cfg = small_config(tmp_path, instructions(2))
    assert synth_cli("run", str(cfg), "--base-url", llm_server, "-q").returncode == 0
    small_config(tmp_path, instructions(2), sampling={"max_tokens": 10, "temperature": 0.8})
    assert synth_cli("run", str(cfg), "--base-url", llm_server, "-q").returncode == 0
    fingerprints = sorted(p.name for p in (tmp_path / "runs" / "t" / "records").iterdir())
    assert len(fingerprints) == 2
    manifest = json.loads((tmp_path / "runs" / "t" / "manifest.json").read_text())
    assert manifest["fingerprint"] in fingerprints and manifest["sampling"]["max_tokens"] == 10
    assert len(load_rows(tmp_path / "runs" / "t")) == 2  # no mixing of the two configs


def rows_done(run_dir: Path) -> int:
    try:
        with sqlite3.connect(run_dir / "cache.sqlite") as db:
            return db.execute("SELECT count(*) FROM rows WHERE status='done'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_resume_after_sigkill_pays_nothing_twice(tmp_path, llm_server):
    rows = instructions(12, "Write one word about the sea, variant")
    cfg = small_config(tmp_path, rows, sampling={"max_tokens": 24, "temperature": 0.9},
                       engine={"max_retries": 20, "backoff_s": 0.2})
    run_dir = tmp_path / "runs" / "t"
    holding = [True]
    # every request after the sixth fails (and is retried) until the test lets go, so the kill always
    # lands mid-run, whatever the timing of the machine
    plan = lambda i, body: "500" if holding[0] and i >= 6 else "ok"  # noqa: E731
    with FaultProxy(llm_server, plan) as proxy:
        proc = subprocess.Popen([sys.executable, "-m", "synth", "run", str(cfg), "--base-url", proxy.base_url,
                                 "--max-in-flight", "1", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and not (
                rows_done(run_dir) >= 4 and any(p["fault"] == "500" for p in proxy.posts())):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done = rows_done(run_dir)
        assert 4 <= done <= 6, "the run must be killed part-way"
        with sqlite3.connect(run_dir / "cache.sqlite") as db:
            answered = {json.dumps(json.loads(r)["body"], sort_keys=True)
                        for (r,) in db.execute("SELECT request FROM responses")}
        assert len(answered) >= done
        first_session = len(proxy.posts())
        holding[0] = False

        second = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "-q")
        assert second.returncode == 0, second.stderr
        # every request the server answered before the kill, committed or not, counts as paid for
        paid = {json.dumps(p["body"]["messages"], sort_keys=True) for p in proxy.posts()[:first_session]
                if p["fault"] == "ok" and p["body"].get("max_tokens") != 1}  # capability probes are not answers
        resent = [p for p in proxy.posts()[first_session:] if p["body"].get("max_tokens") != 1
                  and json.dumps(p["body"]["messages"], sort_keys=True) in paid | answered]
    assert resent == [], "an already-answered request was sent again"
    kept_and_rejected = len(load_rows(run_dir)) + len((run_dir / "rejected.jsonl").read_text().splitlines())
    assert kept_and_rejected == 12
    records = [json.loads(line) for shard in (run_dir / "records").rglob("*.jsonl")
               for line in shard.read_text().splitlines() if line.endswith("}")]
    assert len({r["seed_key"] for r in records}) == 12  # every seed row has its records
    assert len(records) == len({r["id"] for r in records}), "a finished row was generated twice"
    data_instructions = sorted(r["instruction"] for r in load_rows(run_dir))
    assert len(data_instructions) == len(set(data_instructions))  # every row exactly once


def test_faults_on_a_share_of_requests_lose_nothing(tmp_path, llm_server):
    faults = ["500", "drop", "stall"]
    plan = lambda i, body: faults[i % 3] if i % 2 == 0 else "ok"  # noqa: E731  half the requests fail once+
    cfg = small_config(tmp_path, instructions(6, "Name a fruit"),
                       engine={"timeout_s": 1.5, "backoff_s": 0.05, "max_retries": 6})
    with FaultProxy(llm_server, plan, stall_s=3) as proxy:
        proc = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "-q")
        assert proc.returncode == 0, proc.stderr
        assert sum(1 for p in proxy.posts() if p["fault"] != "ok") >= 3
    manifest = json.loads((tmp_path / "runs" / "t" / "manifest.json").read_text())
    assert manifest["rows"]["done"] == 6 and manifest["rows"]["failed"] == 0
    assert manifest["requests"]["retries"] >= 3
    assert len(load_rows(tmp_path / "runs" / "t")) + manifest["outputs"]["rejected"] == 6


def test_rows_failing_after_retries_are_listed_and_retried_next_run(tmp_path, llm_server):
    cfg = small_config(tmp_path, instructions(3), engine={"max_retries": 1, "backoff_s": 0.01})
    broken = lambda i, body: "500" if "number 1." in body["messages"][-1]["content"] else "ok"  # noqa: E731
    with FaultProxy(llm_server, broken) as proxy:
        proc = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "-q")
    assert proc.returncode == 0 and "1 of 3 rows failed" in proc.stderr
    failed = [json.loads(line) for line in (tmp_path / "runs" / "t" / "failed.jsonl").read_text().splitlines()]
    assert len(failed) == 1 and "HTTP 500" in failed[0]["error"] and failed[0]["row"]["instruction"].endswith("1.")
    with FaultProxy(llm_server) as proxy:
        proc = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "-q")
        assert len(proxy.posts()) == 1  # only the failed row is asked again
    assert (tmp_path / "runs" / "t" / "failed.jsonl").read_text() == ""


def test_dry_run_sends_nothing_and_writes_nothing(tmp_path):
    cfg = small_config(tmp_path, instructions(5))
    proc = synth_cli("run", str(cfg), "--dry-run", "--base-url", "http://127.0.0.1:9/v1")
    assert proc.returncode == 0, proc.stderr
    assert "5 rows -> 5 requests" in proc.stdout and "Name a colour number 0." in proc.stdout
    assert not (tmp_path / "runs").exists()


def test_limit_uses_the_first_rows(tmp_path, llm_server):
    cfg = small_config(tmp_path, instructions(5))
    proc = synth_cli("run", str(cfg), "--base-url", llm_server, "--limit", "2", "-q")
    assert proc.returncode == 0
    manifest = json.loads((tmp_path / "runs" / "t" / "manifest.json").read_text())
    assert manifest["rows"]["selected"] == 2


def test_stages_drop_duplicates_and_benchmark_copies_with_reasons(tmp_path):
    from tests.servers import ScriptedServer

    bench_q = "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins."
    write_jsonl(tmp_path / "bench" / "test.jsonl", [{"question": bench_q}, {"question": "Unrelated item."}])
    rows = [{"instruction": "Name the capital of France.", "source": "a"},
            {"instruction": "Name the capital of France.", "source": "b"},   # same prompt, other seed row
            {"instruction": bench_q, "source": "c"},                          # a copied benchmark question
            {"instruction": "Describe a heron in one line.", "source": "d"}]
    cfg = small_config(tmp_path, rows, filters=["finish-reason"], dedup={"exact": True, "near": True},
                       decontam={"benchmarks": ["bench/test.jsonl:question"], "ngram": 8})
    with ScriptedServer(lambda kind, body: "Paris." if "France" in body["messages"][-1]["content"]
                        else "A grey wading bird.") as server:
        proc = synth_cli("run", str(cfg), "--base-url", server.base_url, "-q")
    assert proc.returncode == 0, proc.stderr
    run_dir = tmp_path / "runs" / "t"
    kept = load_rows(run_dir)
    assert sorted(r["instruction"] for r in kept) == ["Describe a heron in one line.", "Name the capital of France."]
    rejected = [json.loads(line) for line in (run_dir / "rejected.jsonl").read_text().splitlines()]
    reasons = sorted((r["stage"], r["reason"]) for r in rejected)
    assert reasons == [("decontam", "benchmark_overlap"), ("dedup", "exact_duplicate")]
    dup = next(r for r in rejected if r["stage"] == "dedup")
    assert dup["duplicate_of"] in {r["id"] for r in kept}
    manifest = json.loads((run_dir / "manifest.json").read_text())
    by_stage = {s["name"]: s for s in manifest["stages"]}
    assert by_stage["dedup"]["dropped_by_reason"] == {"exact_duplicate": 1}
    assert by_stage["decontam"]["dropped_by_reason"] == {"benchmark_overlap": 1}
    assert by_stage["filter:finish-reason"]["kept"] == 4


def test_api_key_comes_from_the_named_environment_variable(tmp_path):
    from tests.servers import ScriptedServer

    cfg = small_config(tmp_path, instructions(1))
    with ScriptedServer(lambda kind, body: "ok", api_key="s3cret") as server:
        refused = synth_cli("run", str(cfg), "--base-url", server.base_url, "-q")
        assert refused.returncode == 2 and "refused the credentials (HTTP 401)" in refused.stderr
        ok = synth_cli("run", str(cfg), "--base-url", server.base_url, "--api-key-env", "MY_KEY", "-q",
                       env={"MY_KEY": "s3cret"})
        assert ok.returncode == 0, ok.stderr
    assert "s3cret" not in "".join(p.read_text(errors="replace") for p in (tmp_path / "runs").rglob("*")
                                   if p.is_file() and p.suffix in (".json", ".yaml", ".jsonl", ".md"))


def test_server_dying_mid_run_stops_with_one_line_and_keeps_progress(tmp_path):
    from tests.servers import ScriptedServer

    cfg = small_config(tmp_path, instructions(40), engine={"max_retries": 2, "backoff_s": 0.05})
    server = ScriptedServer(lambda kind, body: "fine")
    original = server.chat

    async def slow_chat(request):  # keep the run going long enough to pull the plug mid-way
        import asyncio

        await asyncio.sleep(0.05)
        return await original(request)

    server.chat = slow_chat
    server.start()
    proc = subprocess.Popen([sys.executable, "-m", "synth", "run", str(cfg), "--base-url", server.base_url,
                             "--max-in-flight", "1", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(server.requests("chat")) < 5:
        time.sleep(0.02)
    server.stop()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert err.strip().startswith("error: lost the connection to") and len(err.strip().splitlines()) == 1
    with sqlite3.connect(tmp_path / "runs" / "t" / "cache.sqlite") as db:
        assert db.execute("SELECT count(*) FROM rows WHERE status='done'").fetchone()[0] >= 4


def test_load_dataset_sees_the_data_of_a_rerun(tmp_path):
    """datasets caches a local folder by its card's data_files; the content-named shards keep it fresh."""
    from tests.servers import ScriptedServer

    rows = [{"instruction": "short one"}, {"instruction": "short two"}, {"instruction": "long"}]
    answer = lambda kind, body: "one two three four five six" if "long" in body["messages"][-1]["content"] \
        else "a b c"  # noqa: E731
    with ScriptedServer(answer) as server:
        cfg = small_config(tmp_path, rows)
        assert synth_cli("run", str(cfg), "--base-url", server.base_url, "-q").returncode == 0
        assert len(load_rows(tmp_path / "runs" / "t")) == 3
        small_config(tmp_path, rows, filters=[{"name": "length", "min_units": 5, "relative": False}])
        assert synth_cli("run", str(cfg), "--base-url", server.base_url, "-q").returncode == 0
        assert [r["response"] for r in load_rows(tmp_path / "runs" / "t")] == ["one two three four five six"]


def test_a_recipe_crashing_on_one_row_fails_that_row_only(tmp_path):
    from tests.servers import ScriptedServer

    (tmp_path / "fragile.py").write_text(
        "from synth.recipes.instruct.recipe import InstructRecipe\n"
        "class Fragile(InstructRecipe):\n"
        "    name = 'fragile'\n"
        "    async def run(self, row, llm):\n"
        "        if 'boom' in row['instruction']:\n"
        "            raise ValueError('cannot parse this row')\n"
        "        return await super().run(row, llm)\n")
    cfg = small_config(tmp_path, [{"instruction": "fine"}, {"instruction": "boom"}, {"instruction": "also fine"}],
                       recipe="fragile:Fragile")
    with ScriptedServer(lambda kind, body: "ok answer") as server:
        proc = synth_cli("run", str(cfg), "--base-url", server.base_url, "-q", env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0 and "1 of 3 rows failed" in proc.stderr
    failed = [json.loads(line) for line in (tmp_path / "runs" / "t" / "failed.jsonl").read_text().splitlines()]
    assert [(f["row"]["instruction"], f["error"]) for f in failed] == [("boom", "ValueError: cannot parse this row")]
    assert sorted(r["instruction"] for r in load_rows(tmp_path / "runs" / "t")) == ["also fine", "fine"]
