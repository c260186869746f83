"""`synth recipes` and `synth filters [NAME]`: what is installed, one line each; a filter's options in full."""

from __future__ import annotations

import inspect
from typing import Annotated, Optional

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
def filters_command(
    name: Annotated[Optional[str], typer.Argument(help="A filter to describe: its options, defaults and reasons.")] = None,
) -> None:
    """List the installed filters, or describe one: each option with its default and where it comes from."""
    if name is None:
        _list(plugins.FILTERS)
        return
    typer.echo(describe_filter(plugins.load(plugins.FILTERS, name), name))


def describe_filter(cls: type, name: str) -> str:
    """What `synth filters NAME` prints: description, docstring, options (type, default, source), reasons, scores."""
    from synth.filter import FilterOptions

    lines = [f"{name}: {getattr(cls, 'description', '')}", ""]
    module_doc = inspect.getdoc(inspect.getmodule(cls)) or ""
    if module_doc:
        lines += [module_doc, ""]
    options = getattr(cls, "Options", None)
    if isinstance(options, type) and issubclass(options, FilterOptions) and options.model_fields:
        lines.append("options (default  [source]):")
        for key, info in options.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            kind = info.annotation.__name__ if isinstance(info.annotation, type) else \
                str(info.annotation).replace("typing.", "")
            default = info.get_default(call_default_factory=True)
            lines.append(f"  {key} ({kind}) = {default!r}  [{extra.get('source', 'synth')}]")
            if info.description:
                lines.append(f"      {info.description}")
    else:
        lines.append("options: none declared (see the docstring)")
    for label, attr in (("reasons", "reasons"), ("scores (record['scores'])", "score_names")):
        values = getattr(cls, attr, ())
        if values:
            lines.append(f"{label}: {', '.join(values)}")
    if getattr(cls, "needs_llm", False):
        lines.append("asks a model: in `synth run` the run's engine and cache; in `synth filter` --base-url/--model "
                     "or the embedded model")
    lines += ["", f"config:   filters: [{{name: {name}, <option>: <value>}}]",
              f"command:  synth filter data.jsonl --out clean.jsonl --filter {name}[:<option>=<value>,...]"]
    return "\n".join(lines)
