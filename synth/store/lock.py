"""One writer per run directory: an exclusive `flock` on `<run>/.lock`, naming the process that holds it."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from synth.errors import InputError


class RunDirBusy(InputError):
    """Another live process holds the run directory."""


class RunLock:
    """One writer per run directory: an exclusive `flock` on `<run>/.lock`.

    The kernel drops the lock when its process ends, however it ends (kill -9 too), so a stale lock of
    a dead process is simply taken over; the file only says who holds it now.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.path = self.root / ".lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.holder(fd)
            os.close(fd)
            raise RunDirBusy(f"{self.root} is in use by {holder}: wait for that run to finish (or stop it), "
                             "or pass another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}).encode(), 0)
        self._fd = fd

    @staticmethod
    def holder(fd: int) -> str:
        for _ in range(20):  # the holder writes its name just after taking the lock: give it a moment
            try:
                info = json.loads(os.pread(fd, 4096, 0) or b"{}")
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["started"]))
                return f"synth process {info['pid']} on {info['host']} (started {when})"
            except (ValueError, KeyError, TypeError, OSError):
                time.sleep(0.05)
        return "another synth process"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
