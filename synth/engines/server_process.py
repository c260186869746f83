"""A model server process synth starts and owns: the embedded llama.cpp server, or `vllm serve`.

Started on a loopback port, polled until it answers, its output kept (a file or a temporary one)
so a death can be explained, stopped with SIGTERM then SIGKILL, and never left behind: the child
asks Linux to SIGTERM it when synth dies, even by SIGKILL.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO

from synth.engines.openai_http import OpenAIEngine
from synth.errors import EngineUnavailable

_ACCESS_LINE = re.compile(r'"(GET|POST) /\S* HTTP/[\d.]+" \d{3}')  # uvicorn's log line per request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in the child: ask Linux to SIGTERM the server if synth dies (even by SIGKILL)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class ServerProcess:
    """Subclasses give `name` and `command()`; it is ready when `base_url`/models answers 200."""

    name = "server"
    poll_s = 0.1
    start_timeout_s = 120.0  # used by `with server:`

    def __init__(self, *, port: int | None = None, log_path: str | os.PathLike | None = None,
                 own_group: bool = False) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(log_path) if log_path else None
        self.own_group = own_group  # a server with worker processes: signal the whole process group
        self._log: IO[bytes] = tempfile.TemporaryFile()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        raise NotImplementedError

    def check(self) -> None:
        """Raise EngineUnavailable (with the fix) when the server cannot be started here at all."""

    def start(self, timeout_s: float = 120.0, on_wait=None) -> str:
        """Start it and wait until it answers; `on_wait(elapsed_s)` is called about once a second."""
        self.check()
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
                                     start_new_session=self.own_group)
        started = time.monotonic()
        last_report = started
        while not self._ready():
            if self.proc.poll() is not None:
                raise EngineUnavailable(self.death_message(starting=True))
            now = time.monotonic()
            if now - started > timeout_s:
                self.stop()
                raise EngineUnavailable(f"the {self.name} did not answer within {timeout_s:.0f} s; "
                                        f"last output: {self.tail()}; {self.slow_start_fix()}")
            if on_wait is not None and now - last_report >= 1.0:
                on_wait(now - started)
                last_report = now
            time.sleep(self.poll_s)
        return self.base_url

    def slow_start_fix(self) -> str:
        return "see its output, then allow longer"

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/models", timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    def tail(self, lines: int = 3) -> str:
        """Its last lines of output, without the web server's per-request access lines."""
        if self.log_path and self.log_path.exists():
            data = self.log_path.read_bytes()
        else:
            self._log.seek(0)
            data = self._log.read()
        kept = [line.strip() for line in data.decode("utf-8", "replace").splitlines()
                if line.strip() and not _ACCESS_LINE.search(line)]
        return " | ".join(kept[-lines:]) or "(nothing besides request logs)"

    def dead(self) -> bool:
        """True when the server process synth started has exited (or was killed)."""
        return self.proc is not None and self.proc.poll() is not None

    def death_message(self, *, starting: bool = False) -> str:
        """One line: how the server ended (exit status or signal), its last output, and the fix."""
        code = self.proc.returncode if self.proc else None
        when = "while starting" if starting else "during the run"
        head = f"the {self.name} (pid {self.proc.pid if self.proc else '?'}) "
        if code is not None and code < 0:
            sig = signal.Signals(-code)
            head += f"was killed by {sig.name} {when}"
        else:
            sig = None
            head += f"exited with status {code} {when}"
        return f"{head}; last output: {self.tail()}; {self.fix(sig)}"

    def fix(self, sig: signal.Signals | None) -> str:
        return "see its output above"

    def stop(self, grace_s: float = 10.0) -> None:
        if self.proc and self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait()
        if self.proc and self.own_group:
            self._signal(signal.SIGKILL)  # workers the server left behind in its group
        self.proc = None
        if self.log_path:
            self._log.close()

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        try:
            if self.own_group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self):
        self.start(self.start_timeout_s)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class OwnedServerEngine(OpenAIEngine):
    """OpenAIEngine over a server process it starts with itself and always stops (`self.server`)."""

    server: ServerProcess
    start_timeout_s = 120.0
    stop_grace_s = 10.0

    def server_gone(self) -> str | None:
        """Why the server synth owns is gone (exit status or signal, its last output, the fix), or None."""
        return self.server.death_message() if self.server.dead() else None

    async def start(self) -> None:
        await asyncio.to_thread(self.server.start, self.start_timeout_s)
        try:
            await super().start()
        except BaseException:
            self.server.stop()
            raise

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self.server.stop(grace_s=self.stop_grace_s)
