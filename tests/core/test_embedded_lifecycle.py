"""The embedded server never outlives synth: Ctrl+C and SIGKILL both leave no llama.cpp process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import write_config, write_jsonl
from tests.procs import children_running


def server_children(pid: int) -> list[int]:
    return children_running(pid, "llama_cpp.server")


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


def test_a_server_dying_of_sigill_is_named_with_the_fix(tmp_path):
    """What a user sees when their llama.cpp build runs an instruction the CPU refuses (simulated)."""
    proc = start_run(tmp_path)
    wait_for_rows(tmp_path, 1, proc)
    (child,) = server_children(proc.pid)
    os.kill(child, signal.SIGILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert f"pid {child}" in err and "SIGILL" in err and "illegal instruction" in err
    assert 'CMAKE_ARGS="-DGGML_NATIVE=OFF"' in err and "--no-cache-dir" in err
    assert "still up" not in err and "Traceback" not in err and "POST /v1" not in err  # no access-log noise
    with sqlite3.connect(tmp_path / "runs" / "life" / "cache.sqlite") as db:  # finished rows are kept
        assert db.execute("SELECT count(*) FROM rows WHERE status='done'").fetchone()[0] >= 1


@pytest.mark.parametrize("sig, words", [(signal.SIGILL, "GGML_NATIVE=OFF"), (signal.SIGKILL, "memory")])
def test_a_server_that_dies_while_starting_is_named(sig, words):
    """A server process that dies before it answers: its signal, its last output and the fix."""
    from synth.engines.embedded import EmbeddedServer
    from synth.errors import EngineUnavailable

    server = EmbeddedServer(threads=1)
    server.command = lambda: [sys.executable, "-c",
                              f"import os, signal; print('loading model', flush=True); os.kill(os.getpid(), {int(sig)})"]
    with pytest.raises(EngineUnavailable) as info:
        server.start(timeout_s=30)
    message = str(info.value)
    assert f"killed by {sig.name} while starting" in message and "loading model" in message
    assert words in message


def test_server_children_are_found_whatever_the_path_length(monkeypatch, tmp_path):
    """`ps` cuts lines at $COLUMNS (80 here): from a venv in a deep folder `llama_cpp.server` fell off the
    line and the tests above missed the server. A stand-in child with a 200-character path as argv[0]'s
    neighbour must still be found, and the run test's finder must find it by its folder too."""
    from tests.core.test_run import llama_servers

    monkeypatch.setenv("COLUMNS", "80")
    deep = tmp_path / ("d" * 60) / ("e" * 60) / ("f" * 60)
    deep.mkdir(parents=True)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(deep / "python"), "-m",
                              "llama_cpp.server"], cwd=deep)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and child.pid not in server_children(os.getpid()):
            time.sleep(0.05)
        # the session's own embedded server may be a child of this process too
        assert child.pid in server_children(os.getpid())
        assert llama_servers(deep) == {child.pid}
    finally:
        child.kill()
        child.wait()
