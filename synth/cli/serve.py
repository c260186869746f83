"""`synth serve`: start `vllm serve` with batch-generation settings and keep it up until Ctrl+C."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from synth.cli._app import app
from synth.paths import check_model


@app.command("serve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve_command(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model directory or Hugging Face id (as `vllm serve` takes it).")],
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    name: Annotated[str | None, typer.Option("--name", help="Served model name (default: MODEL as given).")] = None,
    tensor_parallel_size: Annotated[int, typer.Option("--tensor-parallel-size", "-tp", min=1,
                                                      help="GPUs per model copy (a model too big for one).")] = 1,
    data_parallel_size: Annotated[int, typer.Option("--data-parallel-size", "-dp", min=1,
                                                    help="Model copies behind this one endpoint.")] = 1,
    python: Annotated[str | None, typer.Option("--python", help="Python that has vLLM installed (default: this "
                                               "one), e.g. .venv-vllm/bin/python from scripts/vllm-cpu-setup.sh.")] = None,
    log: Annotated[Path | None, typer.Option("--log", help="vLLM's log file (default: vllm-serve-PORT.log here).")] = None,
    startup_timeout: Annotated[float, typer.Option("--startup-timeout", help="Seconds to wait for the model to "
                                                   "load.")] = 1800.0,
) -> None:
    """Start `vllm serve MODEL` for batch generation; Ctrl+C (or killing synth) stops it.

    Prefix caching on, a large scheduler batch, --max-model-len at most 8192, the model's generation_config ignored (requests say what they want); on vLLM for CPU also eager mode, float32 and a 2 GiB KV cache. Flags after `--` go to vLLM unchanged and win, e.g. `synth serve Qwen/Qwen3-8B -- --gpu-memory-utilization 0.85`.
    """
    from synth.engines.vllm_server import VLLMServer
    from synth.errors import EngineUnavailable
    from synth.progress import console

    check_model(model)  # a broken local model is named here, not by vLLM minutes later
    extra = [a for a in ctx.args if a != "--"]
    server = VLLMServer(model, python=python, port=port, host=host, served_model_name=name,
                        tensor_parallel_size=tensor_parallel_size, data_parallel_size=data_parallel_size,
                        extra=extra, log_path=log or Path(f"vllm-serve-{port}.log"))
    stopping: list[int] = []

    def on_signal(signum, _frame):  # SIGTERM from a job scheduler stops vLLM as cleanly as Ctrl+C
        stopping.append(signum)
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    try:
        with console.status(f"starting vLLM for {model} (log: {server.log_path})") as spinner:
            server.start(startup_timeout, on_wait=lambda s: spinner.update(
                f"starting vLLM for {model}: {s:.0f} s (log: {server.log_path}) · {server.tail(1)[:100]}"))
        served = name or model
        console.print(f"[green]ready[/] in {time.monotonic() - started:.0f} s: {server.base_url} "
                      f"(vLLM {server.distribution[1] if server.distribution else '?'}, model {served!r}); "
                      f"Ctrl+C stops it")
        console.print(f"  synth run CONFIG --base-url {server.base_url} --model {served}")
        console.print(f"  flags: {' '.join(server.command()[3:])}", style="dim", soft_wrap=True)
        while not server.dead():
            time.sleep(1.0)
        raise EngineUnavailable(server.death_message())
    except KeyboardInterrupt:
        console.print("stopping vLLM…")
    finally:
        server.stop(grace_s=30.0)
        signal.signal(signal.SIGTERM, old)
