"""The embedded server never outlives synth: Ctrl+C and SIGKILL both leave no llama.cpp process."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import write_config, write_jsonl


def server_children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines()[1:]
            if "llama_cpp.server" in line and int(line.split()[1]) == pid]


def start_run(tmp_path):
    write_jsonl(tmp_path / "s.jsonl", [{"instruction": f"Count from one to ten, take {i}."} for i in range(30)])
    cfg = write_config(tmp_path / "r.yaml", name="life", recipe="instruct", seeds="s.jsonl", dedup=None,
                       sampling={"max_tokens": 40})
    return subprocess.Popen([sys.executable, "-m", "synth", "run", str(cfg), "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_rows(tmp_path, n: int, proc, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(tmp_path / "runs" / "life" / "cache.sqlite") as db:
                if db.execute("SELECT count(*) FROM rows WHERE status='done'").fetchone()[0] >= n:
                    return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    pytest.fail("the run did not make progress")


def test_ctrl_c_stops_cleanly_and_keeps_progress(tmp_path):
    proc = start_run(tmp_path)
    wait_for_rows(tmp_path, 2, proc)
    assert server_children(proc.pid), "the embedded server should be a child of synth"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "re-run the same command to continue" in err
    assert "Traceback" not in err
    assert not server_children(proc.pid)
    with sqlite3.connect(tmp_path / "runs" / "life" / "cache.sqlite") as db:
        assert db.execute("SELECT count(*) FROM rows WHERE status='done'").fetchone()[0] >= 2


def test_sigkill_takes_the_server_down_too(tmp_path):
    proc = start_run(tmp_path)
    wait_for_rows(tmp_path, 1, proc)
    children = server_children(proc.pid)
    assert children
    proc.kill()
    proc.wait()
    deadline = time.time() + 15
    while time.time() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children), "orphaned llama.cpp server"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
