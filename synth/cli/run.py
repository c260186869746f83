"""`synth run CONFIG.yaml`: generate a dataset from a config (resumable)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from synth.cli._app import app
from synth.config import load_config


@app.command("run")
def run_command(
    config: Annotated[Path, typer.Argument(help="YAML run config, e.g. examples/quickstart.yaml.")],
    out: Annotated[str | None, typer.Option("--out", help="Run directory (default: runs/<name>).")] = None,
    seeds: Annotated[str | None, typer.Option("--seeds", help="Seed file, folder or glob instead of the config's "
                                              "seeds (relative to the current directory), or a hub dataset: "
                                              "hf://ORG/NAME[:split], ms://ORG/NAME[:split].")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Use only the first N seed rows.")] = None,
    base_url: Annotated[list[str] | None, typer.Option(
        "--base-url", envvar="SYNTH_BASE_URL",
        help="OpenAI-compatible endpoint, e.g. http://gpu:8000/v1; repeat it for several servers of one model "
             "(requests go where there is room; an endpoint that fails is taken out and tried again later).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model name served at --base-url.")] = None,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env",
                                                    help="Environment variable holding the API key (default OPENAI_API_KEY).")] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="Kind of the default engine, overriding the config's "
                                               "engine.kind: embedded, openai, vllm, vllm-server or a plugin's kind.")] = None,
    max_in_flight: Annotated[int | None, typer.Option("--max-in-flight", min=1,
                                                      help="Concurrent requests to the server.")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Make new records for every row (the request cache "
                                        "still answers requests it has seen).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Render prompts and estimate requests; send nothing.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Run CONFIG: seed rows -> recipe -> filters -> dedup -> Hugging Face dataset.

    Re-running the same command continues the run: answered requests come from the run's cache and
    finished rows are skipped; editing the recipe (its prompts, code or version) makes new records, and
    --fresh does so unconditionally. Without --base-url the embedded CPU model is used. One process
    writes a run directory at a time: a second one on the same directory stops, naming the first.
    """
    from synth import runner

    if base_url is not None:
        base_url = base_url[0] if len(base_url) == 1 else base_url
    overrides = {"engine.base_url": base_url or None, "engine.model": model, "engine.kind": engine,
                 "engine.api_key_env": api_key_env,
                 "engine.max_in_flight": max_in_flight,
                 "seeds": (seeds if seeds.startswith(("hf://", "ms://")) else str(Path(seeds).absolute()))
                 if seeds else None}
    if base_url and not engine:
        overrides["engine.kind"] = "openai"
    cfg, base_dir = load_config(config, overrides)
    if dry_run:
        plan = asyncio.run(runner.dry_run(cfg, base_dir, limit=limit))
        for call in plan.pop("examples"):
            body = call["body"] if isinstance(call["body"], str) else json.dumps(call["body"], ensure_ascii=False, indent=1)
            typer.echo(f"--- {call['kind']} x{call['n']} (max_tokens {call['max_tokens']})\n{body}\n")
        typer.echo(f"dry run: {plan['rows']} rows -> {plan['requests']} requests, {plan['samples']} samples, "
                   f"~{plan['prompt_tokens_est']:,} prompt tokens, <= {plan['max_completion_tokens']:,} completion "
                   "tokens (requests that depend on answers are not counted)")
        return
    try:
        summary = asyncio.run(runner.run(cfg, base_dir, out=out, limit=limit, quiet=quiet, fresh=fresh))
    except KeyboardInterrupt:
        typer.echo("interrupted: finished rows are saved; re-run the same command to continue", err=True)
        raise typer.Exit(130) from None
    typer.echo(f"{summary.run_dir}: {summary.rows_done}/{summary.rows_selected} rows, {summary.records} records, "
               f"{summary.kept} kept -> {summary.run_dir / 'data'}")
    if summary.too_many_failed:  # the dataset of the rows that worked is written; scripts must still notice
        why = "every row failed" if summary.rows_failed >= summary.rows_selected else \
            f"more than max_failed_share {cfg.max_failed_share:g}"
        typer.echo(f"error: {summary.failure_line}; {why} (fix the cause, then re-run the same command to retry "
                   "the failed rows)", err=True)
        raise typer.Exit(1)
    if summary.rows_failed:
        typer.echo(f"warning: {summary.failure_line}; re-run the same command to retry them", err=True)
