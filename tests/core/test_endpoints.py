"""Several endpoints of one model: requests balanced by room, a dead endpoint taken out, the run completes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

from tests.conftest import synth_cli, write_config, write_jsonl
from tests.servers import ScriptedServer


def slow_server(delay_s: float = 0.02) -> ScriptedServer:
    server = ScriptedServer(lambda kind, body: f"answer to {body['messages'][-1]['content']}")
    answer = server.chat

    async def chat(request):  # a little latency, so both endpoints are busy at once
        await asyncio.sleep(delay_s)
        return await answer(request)

    server.chat = chat
    return server.start()


def sent(server: ScriptedServer) -> int:
    return sum(1 for r in server.requests() if r.get("max_tokens") != 1)


def test_one_of_two_endpoints_dying_mid_run_loses_nothing(tmp_path):
    rows = [{"instruction": f"Item {i}: name a colour."} for i in range(60)] + [{"instruction": "说出一种颜色。"}]
    write_jsonl(tmp_path / "seeds.jsonl", rows)
    cfg = write_config(tmp_path / "run.yaml", name="t", recipe="instruct", seeds="seeds.jsonl", dedup=None,
                       sampling={"max_tokens": 8}, engine={"max_retries": 1, "backoff_s": 0.01})
    a, b = slow_server(), slow_server()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "synth", "run", str(cfg), "--base-url", a.base_url,
                                 "--base-url", b.base_url, "--max-in-flight", "2", "-q"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and sent(a) < 5:
            time.sleep(0.01)
        a.stop()  # endpoint a dies with the run part-way
        a_sent = sent(a)
        out, err = proc.communicate(timeout=120)
    finally:
        b.stop()
    assert proc.returncode == 0, err
    assert "61/61 rows" in out
    manifest = json.loads((tmp_path / "runs" / "t" / "manifest.json").read_text())
    assert manifest["rows"]["done"] == 61 and manifest["rows"]["failed"] == 0
    ends = {e["base_url"]: e for e in manifest["endpoints"]}
    assert ends[a.base_url]["taken_out"] >= 1 and not ends[a.base_url]["up"]
    assert ends[b.base_url]["up"] and ends[b.base_url]["taken_out"] == 0
    assert 5 <= a_sent < 61 and sent(b) >= 61 - a_sent  # b answered the rest, including a's lost requests
    assert manifest["engine"]["base_url"] == [a.base_url, b.base_url]


def test_requests_are_shared_by_room_and_a_rerun_is_served_from_the_cache(tmp_path):
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": f"Row {i}."} for i in range(40)])
    cfg = write_config(tmp_path / "run.yaml", name="t", recipe="instruct", seeds="seeds.jsonl", dedup=None,
                       sampling={"max_tokens": 8})
    a, b = slow_server(), slow_server()
    try:
        args = ["run", str(cfg), "--base-url", a.base_url, "--base-url", b.base_url, "--max-in-flight", "4", "-q"]
        assert synth_cli(*args).returncode == 0
        assert sent(a) + sent(b) == 40 and min(sent(a), sent(b)) >= 10  # both kept busy
        one = synth_cli("run", str(cfg), "--base-url", b.base_url, "--max-in-flight", "4", "-q")
        assert one.returncode == 0, one.stderr
        assert sent(a) + sent(b) == 40, "which endpoint answered is not part of the cache key"
    finally:
        a.stop()
        b.stop()


def test_every_endpoint_down_stops_with_one_line(tmp_path):
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": "Hi."}])
    cfg = write_config(tmp_path / "run.yaml", name="t", recipe="instruct", seeds="seeds.jsonl", dedup=None)
    proc = synth_cli("run", str(cfg), "--base-url", "http://127.0.0.1:9/v1", "--base-url", "http://127.0.0.1:7/v1", "-q")
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("error: no endpoint answers")
    assert "http://127.0.0.1:9/v1" in proc.stderr and "http://127.0.0.1:7/v1" in proc.stderr


DOWN = "http://127.0.0.1:9/v1"  # nothing listens on the discard port


def test_a_run_starts_on_the_endpoints_that_answer_whatever_their_order(tmp_path):
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": f"Row {i}."} for i in range(4)])
    live = slow_server(0)
    try:
        for name, urls in (("down-first", [DOWN, live.base_url]), ("down-last", [live.base_url, DOWN])):
            # no model named: it comes from the endpoint that answers, even when the first one is down
            cfg = write_config(tmp_path / f"{name}.yaml", name=name, recipe="instruct", seeds="seeds.jsonl",
                               dedup=None, sampling={"max_tokens": 8})
            proc = synth_cli("run", str(cfg), *(a for url in urls for a in ("--base-url", url)), "-q")
            assert proc.returncode == 0, proc.stderr
            warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
            assert len(warnings) == 1 and DOWN in warnings[0] and live.base_url not in warnings[0], proc.stderr
            manifest = json.loads((tmp_path / "runs" / name / "manifest.json").read_text())
            assert manifest["rows"]["done"] == 4 and manifest["engine"]["model"] == "scripted"
            ends = {e["base_url"]: e for e in manifest["endpoints"]}
            assert not ends[DOWN]["up"] and ends[DOWN]["requests"] == 0 and ends[live.base_url]["up"]
    finally:
        live.stop()
