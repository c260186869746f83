"""The sandboxed executor (synth.execute): a labelled set of programs and their verdicts in each sandbox
that works here, then throughput on this machine's cores for a trivial program (the executor's
overhead) and for a typical test run, beside a bare `python -I -c pass` spawn loop.

    .venv/bin/python bench/execute.py [--programs 60] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth.errors import ConfigError  # noqa: E402
from synth.execute import Executor, Limits, Program, machine_workers  # noqa: E402
from synth.execute.code_checks import CodeTest, program_for  # noqa: E402

OUTSIDE = str(Path(__file__).resolve().parent / "out" / "synth-execute-outside.txt")  # a host path
SOLUTION = '''def longest_run(xs):
    """Length of the longest run of equal neighbours."""
    best = cur = 0
    prev = object()
    for x in xs:
        cur = cur + 1 if x == prev else 1
        prev = x
        best = max(best, cur)
    return best
'''
TEST = "assert longest_run([1, 1, 2, 2, 2, 3]) == 3\nassert longest_run([]) == 0\nassert longest_run('aab') == 2"


def labelled(port: int) -> list[tuple[str, str, dict]]:
    """(label, code, limits) — the issue's labelled set."""
    return [
        ("correct", "print(sum(range(10)))", {}),
        ("wrong (assert fails)", "assert sum(range(10)) == 44", {}),
        ("infinite loop", "while True:\n    pass", {"cpu_s": 1, "wall_s": 30}),
        ("sleeps forever", "import time\ntime.sleep(3600)", {"wall_s": 3}),
        ("memory bomb (4 GiB)", "x = bytearray(4 << 30)", {"memory_mb": 512}),
        ("fork bomb", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
         {"processes": 32, "wall_s": 5}),
        ("writes outside its directory", f"open({OUTSIDE!r}, 'w').write('x')\nprint('written')", {}),
        ("opens a socket (host loopback)", f"import socket\nsocket.create_connection(('127.0.0.1', {port}), "
                                           "timeout=3)\nprint('connected')", {}),
        ("opens a socket (internet)", "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=3)\n"
                                      "print('connected')", {}),
        ("prints 1 GB", "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)",
         {"wall_s": 60}),
        ("writes a 1 GB file", "with open('big', 'wb') as f:\n    for _ in range(1024):\n        f.write(b'x' * (1 << 20))",
         {"wall_s": 60}),
    ]


def table(isolations: list[str]) -> None:
    os.makedirs(os.path.dirname(OUTSIDE), exist_ok=True)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        print(f"| program | {' | '.join(isolations)} |\n|---|{'---|' * len(isolations)}")
        for label, code, limits in labelled(port):
            cells = []
            for iso in isolations:
                ex = Executor(Limits(**limits), isolation=iso)
                if label == "fork bomb" and not ex.sandbox.drop_uid and os.geteuid() == 0:
                    cells.append("not run: as root without a sandbox user, RLIMIT_NPROC does not bind")
                    continue
                if os.path.exists(OUTSIDE):
                    os.unlink(OUTSIDE)
                t = time.monotonic()
                r = ex.run(Program(code))
                wall = time.monotonic() - t
                note = ""
                if os.path.exists(OUTSIDE):
                    note = ", host file written"
                if "connected" in r.stdout:
                    note = ", connected"
                detail = (r.detail or "").splitlines()[-1][:60] if r.detail else ""
                cells.append(f"{r.status}{note} ({wall:.1f} s){': ' + detail if detail and r.status != 'ok' else ''}")
            print(f"| {label} | {' | '.join(cells)} |")
    if os.path.exists(OUTSIDE):
        os.unlink(OUTSIDE)


def spawn_rate(n: int, workers: int) -> float:
    def one(_):
        subprocess.run([sys.executable, "-I", "-c", "pass"], check=True)
    t = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(n)))
    return n / (time.monotonic() - t)


def exec_rate(iso: str, programs: list[Program]) -> float:
    ex = Executor(isolation=iso)  # no cache: every program runs
    t = time.monotonic()
    results = ex.run_many(programs)
    elapsed = time.monotonic() - t
    assert all(r.ok for r in results), [r for r in results if not r.ok][:1]
    return len(programs) / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--programs", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    isolations = []
    for iso in ("bwrap", "rlimits"):
        try:
            Executor(isolation=iso)
            isolations.append(iso)
        except ConfigError as exc:
            print(f"{iso}: not available ({exc})")
    workers = machine_workers()
    print(f"# {os.cpu_count()} CPUs, pool of {workers}, Python {sys.version.split()[0]}, "
          f"load {os.getloadavg()[0]:.1f}, uid {os.geteuid()}")
    print("\n## Labelled programs (status, wall time)\n")
    table(isolations)
    n = args.programs
    trivial = [Program(f"pass  # {i}") for i in range(n)]  # distinct texts: nothing shared
    tests = [program_for(SOLUTION + f"# {i}\n", CodeTest("assert", TEST)) for i in range(n)]
    print(f"\n## Throughput, programs/s over {n} programs, {args.rounds} rounds (median [min-max])\n")
    rows = {"bare `python -I -c pass`, pool-sized threads": lambda: spawn_rate(n, workers)}
    for iso in isolations:
        rows[f"{iso}: trivial program"] = lambda iso=iso: exec_rate(iso, trivial)
        rows[f"{iso}: a function + 3 asserts (harness)"] = lambda iso=iso: exec_rate(iso, tests)
    print("| what | programs/s |\n|---|---:|")
    for label, fn in rows.items():
        rates = [fn() for _ in range(args.rounds)]
        print(f"| {label} | {statistics.median(rates):.1f} [{min(rates):.1f}-{max(rates):.1f}] |")
    print(f"\nload after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
