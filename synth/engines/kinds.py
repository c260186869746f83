"""The built-in engine kinds, each a factory from an engine config to an engine.

A factory is `factory(cfg: EngineConfig, *, log_dir: Path | None, role: str) -> Engine`: `cfg` is the
config's `engine:` (or one of `engines:`), `role` its role, `log_dir` the run directory (where a server
the engine starts writes its log). `KINDS` is the table synth.plugins lists as the built-ins of the
entry-point group `synth.engines`; another package adds a kind with, in its pyproject.toml::

    [project.entry-points."synth.engines"]
    my-kind = "my_package.engine:make_engine"

and a config selects it with `engine: {kind: my-kind, options: {...}}` (`options` is the plugin's own).
Engine modules are imported only when their kind is built, so listing kinds stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from synth.engines.base import Engine


def embedded(cfg, *, log_dir: Path | None = None, role: str = "default") -> Engine:
    """SmolLM2-135M through llama.cpp's server, started for the run."""
    from synth.engines.embedded import EmbeddedEngine

    return EmbeddedEngine(max_in_flight=cfg.in_flight, threads=cfg.threads, n_ctx=cfg.n_ctx, **_http(cfg))


def openai(cfg, *, log_dir: Path | None = None, role: str = "default") -> Engine:
    """Any OpenAI-compatible server at `base_url`; several URLs (one model) balanced by load."""
    from synth.engines.openai_http import OpenAIEngine

    urls = cfg.base_url if isinstance(cfg.base_url, list) else [cfg.base_url or ""]
    engines = [OpenAIEngine(url, cfg.model, api_key=os.environ.get(cfg.api_key_env), max_in_flight=cfg.in_flight,
                            **_http(cfg)) for url in urls]
    if len(engines) == 1:
        return engines[0]
    from synth.engines.multi import MultiEngine

    return MultiEngine(engines)


def vllm(cfg, *, log_dir: Path | None = None, role: str = "default") -> Engine:
    """vLLM's async engine in this process (the `vllm` extra)."""
    from synth.engines.vllm_local import VLLMEngine

    return VLLMEngine(cfg.model or "", extra_sampling=cfg.extra_body, **cfg.vllm_args)


def vllm_server(cfg, *, log_dir: Path | None = None, role: str = "default") -> Engine:
    """`vllm serve` started for the run and stopped after it (`launch: false`: one already running at
    `base_url`); its log is vllm-server.log in the run directory (vllm-server-<role>.log by role)."""
    if not cfg.launch:
        return openai(cfg, log_dir=log_dir, role=role)
    from synth.engines.vllm_server import VLLMServer, VLLMServerEngine

    log = "vllm-server.log" if role == "default" else f"vllm-server-{role}.log"
    server = VLLMServer(cfg.model or "", python=cfg.python, port=cfg.port, args=cfg.vllm_args,
                        tensor_parallel_size=cfg.tensor_parallel_size, data_parallel_size=cfg.data_parallel_size,
                        log_path=(log_dir / log) if log_dir else None)
    return VLLMServerEngine(server, startup_timeout_s=cfg.startup_timeout_s, max_in_flight=cfg.in_flight,
                            api_key=os.environ.get(cfg.api_key_env), **_http(cfg))


def _http(cfg) -> dict:
    return dict(timeout_s=cfg.timeout_s, max_retries=cfg.max_retries, backoff_s=cfg.backoff_s,
                extra_body=cfg.extra_body)


KINDS: dict[str, Callable[..., Engine]] = {"embedded": embedded, "openai": openai, "vllm": vllm,
                                           "vllm-server": vllm_server}
