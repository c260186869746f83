"""`synth export RUN --format NAME --out PATH`: any export format of a finished run, after the fact."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synth.cli._app import app
from synth.paths import check_out


@app.command("export")
def export_command(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by `synth run`, e.g. runs/gsm8k-reasoning.")],
    format: Annotated[str, typer.Option("--format", "-f", help="messages, sft, alpaca, sharegpt, llamafactory, "
                                        "ms_swift, or one of the recipe's (dpo, openrlhf_prm, prm800k, ...).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .jsonl or .parquet.")],
    split: Annotated[str | None, typer.Option("--split", help="Only this split (default: all).")] = None,
    reasoning: Annotated[str | None, typer.Option("--reasoning", help="field | think | drop (default: the "
                                                  "run config's export.reasoning).")] = None,
) -> None:
    """Convert RUN's kept records to one export format and write them to OUT."""
    from synth.errors import ConfigError
    from synth.hub.outputs import export_run

    if reasoning not in (None, "field", "think", "drop"):
        raise ConfigError(f"--reasoning {reasoning!r}: use field, think or drop")
    check_out(out, is_dir=False)
    n = export_run(run_dir, format, out, split=split, reasoning=reasoning)
    typer.echo(f"wrote {out} ({n} rows, {format})")
