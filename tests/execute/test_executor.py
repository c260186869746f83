"""The executor's limits, each proven by a program that breaks it, in every sandbox that works here.

Bounds are generous (a loaded 2-core machine): tests assert the kind of outcome, never a duration.
"""

from __future__ import annotations

import ast
import asyncio
import os
import socket
import uuid

import pytest

from synth.errors import ConfigError
from synth.execute import Executor, Limits, Program, SQLiteCache, detect, machine_workers
from synth.execute.sandbox import slot_uid


def executor(isolation: str, **limits) -> Executor:
    try:
        return Executor(Limits(**limits), isolation=isolation)
    except ConfigError as exc:
        pytest.skip(f"no {isolation} sandbox here: {exc}")


@pytest.fixture(params=["bwrap", "rlimits"])
def isolation(request):
    if request.param == "bwrap":
        try:
            detect("bwrap")
        except ConfigError as exc:
            pytest.skip(str(exc))
    return request.param


def alive(marker: str) -> list[int]:
    """Processes whose command line holds `marker`."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry.name))
            except OSError:
                pass
    return found


def sandbox_users_alive() -> list[int]:
    """Live processes of the users programs run as (synth.execute.sandbox.slot_uid)."""
    uids = {slot_uid(slot) for slot in range(machine_workers())}
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/status") as f:
                    fields = dict(line.split(":", 1) for line in f if line.startswith(("State:", "Uid:")))
                if int(fields["Uid"].split()[0]) in uids and fields["State"].split()[0] not in "ZX":
                    found.append(int(entry.name))
            except (OSError, KeyError, ValueError):
                pass
    return found


def sleeper(marker: str, *, new_session: bool = False) -> str:
    """Code that starts a child sleeping 600 s with `marker` in its command line."""
    return (f"import os, subprocess, sys\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {marker!r}],"
            f" start_new_session={new_session}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n")


def test_a_correct_program_runs_in_its_scratch_directory_with_its_files_and_stdin(isolation):
    ex = executor(isolation)
    code = "import os, sys\nprint(open('data/in.txt').read(), sys.stdin.read(), sorted(os.listdir('.')))\n" \
           "open('out.txt', 'w').write('ok')\nprint(open('out.txt').read())"
    result = ex.run(Program(code, stdin="from stdin", files={"data/in.txt": "given"}))
    assert result.status == "ok" and result.exit_code == 0, result
    assert result.stdout == "given from stdin ['data', 'main.py']\nok\n"
    wrong = ex.run(Program("assert 1 + 1 == 3, 'arithmetic'"))
    assert wrong.status == "error" and wrong.exit_code == 1 and wrong.detail == "AssertionError: arithmetic"


def test_an_infinite_loop_is_stopped_by_the_cpu_limit(isolation):
    result = executor(isolation, cpu_s=1, wall_s=60).run(Program("while True:\n    pass"))
    assert result.status == "timeout" and "CPU" in result.detail, result


def test_a_sleeping_program_is_killed_at_the_wall_limit_with_its_children(isolation):
    marker = f"synth-test-{uuid.uuid4().hex}"
    code = sleeper(marker) + sleeper(marker, new_session=True) + "import time\ntime.sleep(600)"
    ex = executor(isolation, wall_s=3)
    if isolation == "rlimits" and not ex.sandbox.drop_uid:
        pytest.skip("plain rlimits as root without a user of its own: a child in a new session escapes the "
                    "process-group kill (bubblewrap's PID namespace or the uid sweep catch it)")
    result = ex.run(Program(code))
    assert result.status == "timeout" and "wall" in result.detail, result
    assert alive(marker) == []


def test_children_left_running_by_a_program_that_exits_are_killed(isolation):
    marker = f"synth-test-{uuid.uuid4().hex}"
    ex = executor(isolation, wall_s=30)
    if isolation == "rlimits" and not ex.sandbox.drop_uid:
        pytest.skip("plain rlimits as root without a user of its own: a child in a new session outlives the run")
    result = ex.run(Program(sleeper(marker) + sleeper(marker, new_session=True) + "print('bye')"))
    assert result.status == "ok" and result.stdout == "bye\n", result
    assert alive(marker) == []


def test_a_memory_hog_hits_the_memory_limit(isolation):
    result = executor(isolation, memory_mb=256).run(Program("x = bytearray(1 << 30)\nprint(len(x))"))
    assert result.status == "memory_limit" and result.stdout == "", result


def test_an_output_flood_is_cut_at_the_output_limit(isolation):
    result = executor(isolation, output_bytes=4096, wall_s=60).run(
        Program("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n    sys.stdout.flush()"))
    assert result.status == "output_limit" and result.truncated, result
    assert len(result.stdout) + len(result.stderr) <= 4096


def test_a_big_file_hits_the_file_size_limit(isolation):
    result = executor(isolation, file_mb=1).run(Program("open('big', 'wb').write(b'x' * (4 << 20))"))
    assert result.status == "file_limit", result


def test_a_fork_bomb_is_bounded_by_the_process_limit(isolation):
    ex = executor(isolation, processes=16, wall_s=20)
    if not ex.sandbox.drop_uid and os.geteuid() == 0:
        pytest.skip("RLIMIT_NPROC does not bind for root, and this sandbox cannot run programs as another user")
    counted = ex.run(Program(
        "import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n            time.sleep(30)\n"
        "            os._exit(0)\n        n += 1\nexcept OSError as e:\n    print(n, e.errno)"))
    assert counted.status == "ok", counted
    forked, errno = map(int, counted.stdout.split())
    assert forked < 16 and errno == 11  # EAGAIN: the 16th process of the sandbox user was refused
    bomb = executor(isolation, processes=16, wall_s=4).run(Program(
        "import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)"))
    assert bomb.status == "timeout", bomb
    assert sandbox_users_alive() == []


def test_the_network_is_unreachable_in_bubblewrap(tmp_path):
    ex = executor("bwrap")
    with socket.socket() as server:  # a port open on the host's loopback: the program must not reach it
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        result = ex.run(Program(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
                                "print('connected')"))
    assert result.status == "error" and "connected" not in result.stdout, result
    assert "Connection refused" in result.detail
    outside = ex.run(Program("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=5)"))
    assert outside.status == "error" and "unreachable" in outside.detail


def test_files_outside_the_scratch_directory_cannot_be_written(tmp_path, isolation):
    target = tmp_path / "open"
    target.mkdir(mode=0o777)
    target.chmod(0o777)
    os.chmod(tmp_path, 0o755)
    ex = executor(isolation)
    if isolation == "rlimits" and not ex.sandbox.drop_uid:
        pytest.skip("plain rlimits as root: the program may write wherever root may")
    code = (f"import os\nfor path in [{str(target / 'x')!r}, '/etc/synth-test', {str(tmp_path / 'y')!r}]:\n"
            "    try:\n        open(path, 'w').write('x')\n        print('wrote', path)\n"
            "    except OSError as e:\n        print('refused', e.errno)")
    result = ex.run(Program(code))
    assert result.status == "ok", result
    assert not (tmp_path / "y").exists() and not os.path.exists("/etc/synth-test")
    if isolation == "bwrap":  # a fresh /tmp: the host's folder is not even there
        assert result.stdout.count("refused") == 3 and not (target / "x").exists()


def test_a_rerun_answers_from_the_cache_without_executing(tmp_path):
    code = "import random\nprint(random.random())"  # a second execution would print another number
    first = Executor(cache=SQLiteCache(tmp_path / "exec.sqlite"))
    a = first.run(Program(code))
    again = Executor(cache=SQLiteCache(tmp_path / "exec.sqlite"))
    b = again.run(Program(code))
    assert a.status == b.status == "ok" and a.stdout == b.stdout and b.cached and not a.cached
    assert (first.stats.executed, again.stats.executed, again.stats.cache_hits) == (1, 0, 1)
    other = again.run(Program(code, limits=Limits(cpu_s=3)))  # other limits: another execution
    assert not other.cached and again.stats.executed == 1 and other.stdout != a.stdout


def test_concurrent_programs_all_finish_and_identical_ones_run_once():
    ex = Executor()

    async def go():
        distinct = [Program(f"print({i} * 2)") for i in range(6)]
        same = [Program("print('same')")] * 3
        return await ex.arun_many(distinct + same)

    results = asyncio.run(go())
    assert [r.stdout for r in results] == [f"{i * 2}\n" for i in range(6)] + ["same\n"] * 3
    assert ex.stats.executed == 7 and ex.stats.cache_hits == 2
    assert ex.run_many([Program("print(1)"), Program("print(2)")])[1].stdout == "2\n"


def test_bad_programs_and_options_are_refused():
    with pytest.raises(ValueError, match="language 'ruby'"):
        Program("puts 1", language="ruby")
    with pytest.raises(ValueError, match="file name '../x'"):
        Program("", files={"../x": ""})
    with pytest.raises(ConfigError, match="isolation: 'vm'"):
        Executor(isolation="vm")


def test_the_program_sees_none_of_synths_environment(isolation, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    result = executor(isolation).run(Program("import os\nprint(sorted(os.environ))"))
    assert result.status == "ok" and "OPENAI_API_KEY" not in result.stdout, result
    assert ast.literal_eval(result.stdout) == ["HOME", "LANG", "LC_ALL", "PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED",
                                   "PYTHONIOENCODING", "TMPDIR"]


def test_bubblewrap_shows_the_system_read_only_and_hides_the_rest(tmp_path):
    (tmp_path / "secret.txt").write_text("s")
    os.chmod(tmp_path, 0o755)
    code = (f"import os\nfor path in ['/usr/bin', '/etc', {str(tmp_path)!r}, '/root', {os.getcwd()!r}]:\n"
            "    print(path, os.path.isdir(path))\n"
            "try:\n    open('/usr/synth-test', 'w')\nexcept OSError as e:\n    print('usr', e.errno)")
    result = executor("bwrap").run(Program(code))
    assert result.status == "ok", result
    seen = dict(line.rsplit(" ", 1) for line in result.stdout.splitlines())
    assert seen["/usr/bin"] == "True" and seen["/etc"] == "True" and seen["usr"] in ("13", "30")
    assert seen[str(tmp_path)] == "False" and seen[os.getcwd()] == "False"
