"""`synth serve-check`: what an endpoint supports, before a long run depends on it."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from synth.cli._app import app


@app.command("serve-check")
def serve_check_command(
    base_url: Annotated[str | None, typer.Option("--base-url", envvar="SYNTH_BASE_URL",
                                                 help="OpenAI-compatible endpoint (default: the embedded model).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model to probe (default: the first served).")] = None,
    api_key_env: Annotated[str, typer.Option("--api-key-env", help="Environment variable holding the key.")] = "OPENAI_API_KEY",
) -> None:
    """Probe an endpoint: served models, native n, logprobs, JSON schema, raw completions, /metrics."""
    from synth.engines.embedded import EmbeddedEngine
    from synth.engines.openai_http import OpenAIEngine

    async def probe():
        engine = EmbeddedEngine() if base_url is None else \
            OpenAIEngine(base_url, model, api_key=os.environ.get(api_key_env), max_retries=0, probe=False)
        async with engine:
            caps = await engine.probe_all()
            return engine, caps

    engine, caps = asyncio.run(probe())
    rows = [("endpoint", engine.base_url), ("server", caps.server + (f" {caps.version}" if caps.version else "")), ("models", ", ".join(caps.models)),
            ("model", engine.model), ("native n", _yn(caps.native_n, "emulated with distinct seeds")),
            ("JSON schema", caps.json_schema if caps.json_schema != "none" else "no (the schema goes in the prompt)"),
            ("raw completions", _yn(caps.completions, "step-labels needs them")), ("logprobs", _yn(caps.logprobs)),
            ("vLLM /metrics", _yn(caps.metrics, "no backpressure signal"))]
    for key, value in rows:
        typer.echo(f"{key:<16} {value}")


def _yn(flag: bool, otherwise: str = "") -> str:
    return "yes" if flag else ("no" + (f" ({otherwise})" if otherwise else ""))
