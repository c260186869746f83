"""Command-line entry point: `synth <verb> ...`.

One module per verb registers its command on the shared app. `main()` is the one boundary that turns
a SynthError into a single line on stderr and exit code 2; set SYNTH_RAISE_ERRORS=1 to see the
traceback instead.
"""

from __future__ import annotations

import os
import sys

from synth.cli._app import app
from synth.errors import SynthError

# Importing a verb module registers its command.
from synth.cli import answer_check, dedup, export, filter, ingest, listing, new, push, run, serve, serve_check, taxonomy, view  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="synth")  # standalone: usage errors print and exit 2
    except SynthError as exc:
        if os.environ.get("SYNTH_RAISE_ERRORS"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


__all__ = ["app", "main"]
