"""The root Typer application; each verb module under synth/cli registers its command on it."""

import typer

app = typer.Typer(
    name="synth",
    help="Build verified synthetic training data with vLLM or an embedded CPU model.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # API keys live in locals
    add_completion=False,
)
