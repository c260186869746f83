"""`synth view RUN`: look at a run in the browser, served locally or written as one HTML file."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.cli._app import app
from synth.errors import InputError
from synth.paths import check_out

DEFAULT_PORT = 8765


@app.command("view")
def view_command(
    run: Annotated[Path, typer.Argument(help="Run directory, e.g. runs/quickstart.")],
    port: Annotated[Optional[int], typer.Option("--port", "-p", min=0, max=65535,
                                                help=f"Port on 127.0.0.1 (default {DEFAULT_PORT}, or a free one if "
                                                     "that is taken; 0: any free port).")] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
    html: Annotated[Optional[Path], typer.Option("--html", help="Write one self-contained HTML file instead of "
                                                                "serving (to share, or attach to a Hub repo).")] = None,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="With --html: rows of each set the file holds "
                                          "(rejected rows spread over every reason).")] = 1000,
) -> None:
    """Show RUN in the browser: the funnel, rows (paged and searchable, Chinese included), rejected
    rows with their reasons, failed seed rows, step labels, votes, preference pairs and coverage.

    Read-only and local: the page is served on 127.0.0.1 and nothing is uploaded. Ctrl-C stops it.
    """
    from synth.view import RunView, ViewServer, write_html

    if html is not None:
        check_out(html, "--html", is_dir=False)
    view = RunView(run)
    if html is not None:
        out = write_html(run, html, max_rows=max_rows)
        typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB); open it in a browser")
        return
    try:
        server = ViewServer(view, DEFAULT_PORT if port is None else port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        if port is not None:
            raise InputError(f"port {port} is in use: pick another with --port, or --port 0 for any free one") from None
        server = ViewServer(view, 0)
    typer.echo(f"synth view: {server.url}  ({run}; Ctrl-C stops)")
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
