"""Run one prepared program in its sandbox: a job folder, the process, its output read with a cap, the
kill of its whole process group (and, where it applies, of its user's leftovers), and the verdict.
Blocking: the executor calls it from its worker threads."""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from synth.execute.limits import Limits
from synth.execute.program import LANGUAGES, Program, Result
from synth.execute.sandbox import SANDBOX_FAILED, Sandbox, slot_uid, sweep

GRACE_S = 2.0  # after the program exits, how long its output pipes may stay open (children still writing)
_MEMORY = re.compile(r"^(MemoryError|.*Cannot allocate memory|.*std::bad_alloc)")
_FILE = re.compile(r"\[Errno (27|28)\]|File too large|No space left on device")


def run_job(box: Sandbox, program: Program, limits: Limits, slot: int) -> Result:
    """Run `program` under `limits` in `box`, as pool slot `slot`."""
    job = Path(tempfile.mkdtemp(prefix="synth-exec-"))
    uid = slot_uid(slot) if box.drop_uid else None
    start = time.monotonic()
    try:
        os.chmod(job, 0o711)
        files = job / "files"
        files.mkdir(mode=0o755)
        main, argv = LANGUAGES[program.language]
        for name, text in ((main, program.code), *program.files):
            path = files / name
            path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            path.chmod(0o644)
        (job / "stdin").write_text(program.stdin, encoding="utf-8")
        command, _ = box.command(job, slot, limits, argv)
        with open(job / "stdin", "rb") as stdin:
            try:
                proc = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, start_new_session=True,
                                        close_fds=True)
            except OSError as exc:
                return Result("sandbox_error", detail=f"{type(exc).__name__}: {exc}"[:300])
        try:
            out, err, over, timed_out = _collect(proc, limits, start)
        finally:
            _kill_group(proc.pid)
            proc.wait()
            if uid is not None:
                _sweep_until_gone(uid)
        return _verdict(box, proc.returncode, out, err, over, timed_out, limits, time.monotonic() - start)
    finally:
        shutil.rmtree(job, ignore_errors=True)  # root removes the program user's scratch folder too


def _sweep_until_gone(uid: int, limit_s: float = 10.0) -> None:
    """Kill the slot user's processes until none is left (a killed process lingers a moment, and a
    fork bomb's children may still be forking): the next program of this slot starts clean."""
    end = time.monotonic() + limit_s
    while sweep(uid) and time.monotonic() < end:
        time.sleep(0.01)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _collect(proc: subprocess.Popen, limits: Limits, start: float) -> tuple[bytes, bytes, bool, bool]:
    """Read stdout and stderr until both close, the output cap or the wall limit: (out, err, over, timed_out)."""
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    chunks: dict[int, list[bytes]] = {out_fd: [], err_fd: []}
    total, cap = 0, limits.output_bytes
    deadline = start + limits.wall_s
    exited_at: float | None = None
    over = timed_out = False
    with selectors.DefaultSelector() as sel:
        for stream in (proc.stdout, proc.stderr):
            sel.register(stream.fileno(), selectors.EVENT_READ)
        while sel.get_map():
            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
                _kill_group(proc.pid)  # what it started in its group ends with it
            end = deadline if exited_at is None else min(deadline, exited_at + GRACE_S)
            if now >= end:
                timed_out = exited_at is None
                break
            for key, _ in sel.select(min(end - now, 0.05 if exited_at is None else end - now)):
                data = os.read(key.fd, 65536)
                if not data:
                    sel.unregister(key.fd)
                    continue
                chunks[key.fd].append(data)
                total += len(data)
                if total > cap:
                    over = True
                    break
            if over:
                break
    if over or timed_out:
        _kill_group(proc.pid)
    proc.stdout.close()
    proc.stderr.close()
    return b"".join(chunks[out_fd]), b"".join(chunks[err_fd]), over, timed_out


def _verdict(box: Sandbox, rc: int, out: bytes, err: bytes, over: bool, timed_out: bool, limits: Limits,
             seconds: float) -> Result:
    cap = limits.output_bytes
    truncated = over or len(out) + len(err) > cap
    stdout = out[:cap].decode("utf-8", "replace")
    stderr = err[:max(0, cap - min(len(out), cap))].decode("utf-8", "replace")
    sig = -rc if rc < 0 else (rc - 128 if box.kind == "bwrap" and 128 < rc < 160 else None)
    last = next((line for line in reversed(stderr.strip().splitlines()) if line.strip()), "")
    base = dict(exit_code=rc, signal=sig, stdout=stdout, stderr=stderr, truncated=truncated, seconds=round(seconds, 3))
    if over:
        return Result("output_limit", **base, detail=f"more than {cap} bytes of output")
    if timed_out:
        return Result("timeout", **base, detail=f"wall clock over {limits.wall_s:g} s")
    if rc == SANDBOX_FAILED and last.startswith("synth sandbox:"):
        return Result("sandbox_error", **base, detail=last[:300])
    if sig == signal.SIGXCPU:
        return Result("timeout", **base, detail=f"CPU time over {limits.cpu_s} s")
    if sig == signal.SIGXFSZ or (rc != 0 and _FILE.search(last)):
        return Result("file_limit", **base, detail=last[:300] or f"a file over {limits.file_mb} MiB")
    if rc != 0 and _MEMORY.match(last):
        return Result("memory_limit", **base, detail=last[:300])
    if sig:
        return Result("killed", **base, detail=f"signal {signal.Signals(sig).name}" if sig in
                      signal.Signals._value2member_map_ else f"signal {sig}")
    return Result("ok" if rc == 0 else "error", **base, detail=None if rc == 0 else last[:300] or f"exit code {rc}")
