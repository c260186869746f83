"""`synth recipes` and `synth filters`: what is installed, one line each."""

from __future__ import annotations

import typer

from synth import plugins
from synth.cli._app import app


def _list(group: str) -> None:
    for name, ep in plugins.available(group).items():
        try:
            description = getattr(ep.load(), "description", "") or ""
        except Exception as exc:  # show a broken plugin instead of hiding it
            description = f"(fails to load: {type(exc).__name__}: {exc})"
        typer.echo(f"{name:<18} {description}")


@app.command("recipes")
def recipes_command() -> None:
    """List the installed recipes."""
    _list(plugins.RECIPES)


@app.command("filters")
def filters_command() -> None:
    """List the installed filters."""
    _list(plugins.FILTERS)
