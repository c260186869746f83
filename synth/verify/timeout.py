"""A wall-clock limit for math-verify that works in any thread and inside asyncio apps.

math-verify's own timeouts use ``signal.alarm``: they fail off the main thread and cannot stop
C-level work (Math-Verify #50, #55). Here each call runs in a persistent worker *process*
(``python -m synth.verify._worker``, JSON lines over pipes). The caller waits on the pipe with a
deadline; when it passes, the worker is killed (SIGKILL) and a fresh one starts on the next call.
A plain subprocess, not ``multiprocessing``, so user scripts need no ``__main__`` guard.
Waiting uses ``select`` on the pipe: POSIX only (Linux, macOS).

``check`` / ``check_many`` compare in their own process when that is safe (``inline.py``); the
workers take the rest: calls off the main thread, answers that fail the guard, ``inline=False``.

    >>> pool = WorkerPool(size=1)
    >>> pool.verify(r"\\frac{1}{2}", "0.5", timeout=10)["status"]
    'correct'
    >>> pool.close()
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
from concurrent.futures import Future

START_TIMEOUT = 60.0  # importing sympy on a loaded machine can take seconds; never charged to a pair
MEMORY_LIMIT_MB = 4096


class _Spawner:
    """Starts worker processes from one long-lived thread.

    The worker asks Linux to kill it when its parent dies (PR_SET_PDEATHSIG), but "parent" means
    the *thread* that forked it: a worker started from a short-lived thread (a ThreadPoolExecutor,
    ``asyncio.to_thread``) would die with that thread. This daemon thread lives as long as the
    process, so workers die with the process, and only then.
    """

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[tuple[Future, list[str], dict]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _serve(self) -> None:
        while True:
            future, args, kwargs = self._requests.get()
            try:
                future.set_result(subprocess.Popen(args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

    def popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # threads do not survive fork()
                self._thread = threading.Thread(target=self._serve, name="synth-verify-spawner", daemon=True)
                self._thread.start()
        future: Future = Future()
        self._requests.put((future, args, kwargs))
        return future.result()


_spawner = _Spawner()


class _Worker:
    """One worker process; used by one thread at a time (the pool hands it out)."""

    def __init__(self, memory_mb: int) -> None:
        self._memory_mb = memory_mb
        self._proc: subprocess.Popen | None = None
        self._buffer = b""
        self._owner = os.getpid()

    def _start(self) -> None:
        env = dict(os.environ, SYNTH_VERIFY_MEMORY_MB=str(self._memory_mb))
        self._proc = _spawner.popen(
            [sys.executable, "-m", "synth.verify._worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._buffer = b""
        try:
            ready = self._read_line(START_TIMEOUT)
        except EOFError:
            ready = None
        if ready is None or not json.loads(ready).get("ready"):
            self.kill()
            raise RuntimeError("the math-verify worker process did not start")

    def _read_line(self, timeout: float) -> bytes | None:
        """One line from the worker, or ``None`` if none came within ``timeout`` s.

        Raises ``EOFError`` when the worker died (closed its stdout).
        """
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError("the math-verify worker exited")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def ask(self, gold: str, pred: str, timeout: float, order: str = "tuples",
            tolerance: tuple[float, float] | None = None) -> dict:
        if self._owner != os.getpid():  # a forked copy: the pipes belong to the parent's worker
            self._proc, self._buffer, self._owner = None, b"", os.getpid()
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        assert self._proc is not None and self._proc.stdin is not None
        try:
            request = {"gold": gold, "pred": pred, "order": order, "tolerance": tolerance}
            self._proc.stdin.write(json.dumps(request).encode() + b"\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            self.kill()
            return {"status": "unverifiable", "detail": "math-verify worker died"}
        try:
            line = self._read_line(timeout)
        except EOFError:  # crashed (e.g. killed by the kernel): report it, restart next time
            self.kill()
            return {"status": "unverifiable", "detail": "math-verify worker died"}
        if line is None:
            self.kill()
            return {"status": "timeout", "detail": f"math-verify took longer than {timeout:g} s"}
        return json.loads(line)

    def kill(self) -> None:
        if self._proc is not None and self._owner == os.getpid():
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:
                        pass
            self._proc = None


class WorkerPool:
    """Up to ``size`` worker processes, started on first use, shared by all threads.

    Args:
        size: most worker processes alive at once (each holds sympy: ~100 MB).
        memory_mb: address-space cap per worker; a runaway expression fails instead of swapping.
    """

    def __init__(self, size: int | None = None, memory_mb: int = MEMORY_LIMIT_MB) -> None:
        self.size = size or max(1, min(4, os.cpu_count() or 1))
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        for _ in range(self.size):
            self._idle.put(_Worker(memory_mb))
        self._all = list(self._idle.queue)

    def verify(self, gold: str, pred: str, timeout: float, order: str = "tuples",
               tolerance: tuple[float, float] | None = None) -> dict:
        """Compare with math-verify in a worker; ``{"status": "timeout"}`` after ``timeout`` s."""
        worker = self._idle.get()  # LIFO: reuse the warm worker when calls are sequential
        try:
            return worker.ask(gold, pred, timeout, order, tolerance)
        except BaseException:
            worker.kill()  # interrupted mid-request: its pipe state is unknown
            raise
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        """Stop all worker processes (they restart if the pool is used again)."""
        for worker in self._all:
            worker.kill()


_default: WorkerPool | None = None
_default_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """The process-wide pool used by ``check`` / ``check_many``; closed at interpreter exit."""
    global _default
    with _default_lock:
        if _default is None:
            _default = WorkerPool()
            atexit.register(_default.close)
        return _default
