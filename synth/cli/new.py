"""`synth new recipe NAME` / `synth new filter NAME`: start a plugin package that passes its own test."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.cli._app import app

new_app = typer.Typer(help="Start a plugin package: a recipe or a filter, with a config, seeds and a test.",
                      no_args_is_help=True)
app.add_typer(new_app, name="new")

NameArg = Annotated[str, typer.Argument(help="The plugin's name in configs: lowercase letters and digits joined by "
                                             "- or _, e.g. qa-pairs (package synth_qa_pairs).", show_default=False)]
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="Folder to write, new or empty (default: ./NAME).")]


@new_app.command("recipe")
def new_recipe(name: NameArg, out: OutOpt = None) -> None:
    """Write a recipe package that passes its own test as written.

    Into ./NAME (or --out): pyproject.toml with the synth.recipes entry point, the recipe and its Jinja
    prompt, an example config with seed rows, a README, and a test that runs the config against a
    scripted OpenAI-compatible server. Then: pip install -e NAME && pytest NAME.
    """
    _new("recipe", name, out)


@new_app.command("filter")
def new_filter(name: NameArg, out: OutOpt = None) -> None:
    """Write a filter package that passes its own test as written.

    Into ./NAME (or --out): pyproject.toml with the synth.filters entry point, the filter, an example
    config (recipe instruct, then the filter) with seed rows, a README, and a test of each reason and
    of a run against a scripted OpenAI-compatible server. Then: pip install -e NAME && pytest NAME.
    """
    _new("filter", name, out)


def _new(kind: str, name: str, out: Path | None) -> None:
    from synth.scaffold import create, names

    folder, files = create(kind, name, out)
    typer.echo(f"wrote {kind} {name!r} (package {names(name).package}) to {folder}/:")
    for path in files:
        typer.echo(f"  {path.relative_to(folder)}")
    config = folder / "examples" / f"{name}.yaml"
    typer.echo(f"next:\n  pip install -e {folder}\n  pytest {folder}\n  synth run {config}")
