"""`synth ingest PATH... --out chunks.jsonl`: documents in, chunks with exact provenance out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.cli._app import app
from synth.errors import ConfigError
from synth.paths import check_out


class _FileProgress:
    """A rich bar over files (stderr); skipped files are printed above it as they happen."""

    def __init__(self, quiet: bool) -> None:
        from synth.progress import console

        self.console = console
        self.bar = None
        if not quiet and console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
                                TimeElapsedColumn(), console=console, transient=True)
        self.task = None

    def __enter__(self) -> _FileProgress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task("ingest", total=total)
        self.bar.update(self.task, completed=done)

    def skipped(self, source: str, reason: str) -> None:
        self.console.print(f"skipped {source}: {reason}", markup=False, highlight=False, soft_wrap=True)

    def noted(self, source: str, note: str) -> None:
        self.console.print(f"note {source}: {note}", markup=False, highlight=False, soft_wrap=True)


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (read recursively) or glob patterns: "
                                               ".txt .md .html .pdf .docx .pptx .xlsx .epub.")],
    out: Annotated[str, typer.Option("--out", "-o", help="Chunks file (.jsonl) or a folder for chunks.jsonl; "
                                      "the documents file is written beside it.")],
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Target chunk size in --unit.")] = 1500,
    overlap: Annotated[int, typer.Option("--overlap", help="A chunk that continues a section starts up to this "
                                         "many units earlier, at a sentence boundary.")] = 0,
    unit: Annotated[str, typer.Option("--unit", help="chars or tokens (of --tokenizer).")] = "chars",
    tokenizer: Annotated[Optional[str], typer.Option("--tokenizer", help="Tokenizer for --unit tokens: the serving "
                                                     "model's local directory or cached name.")] = None,
    keep_repeated: Annotated[bool, typer.Option("--keep-repeated", help="Keep chunks whose text repeats an "
                                                "earlier chunk (boilerplate is dropped by default).")] = False,
    html_full: Annotated[bool, typer.Option("--html-full", help="Read web pages whole (menus, comments and "
                                            "footers included) instead of their main content.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary (skipped files are "
                                        "still named).")] = False,
) -> None:
    """Split documents into chunks that keep their source, heading path and exact character span.

    Writes OUT (one chunk per line: id, source, doc_id, headings, start, end, text, lang) and the
    documents file beside it (chunks.jsonl -> documents.jsonl): each chunk is exactly the slice
    start:end of its document text.
    Unreadable files are named on stderr and skipped; exit code 2 only when nothing could be read.
    """
    from synth.ingest import IngestOptions, IngestReport, documents_path, ingest

    if unit not in ("chars", "tokens"):
        raise ConfigError(f"--unit {unit!r}: use chars or tokens")
    target = Path(out)
    if target.is_dir() or out.endswith(("/", "\\")) or not target.suffix:
        target = check_out(target, is_dir=True) / "chunks.jsonl"
    elif target.suffix != ".jsonl":
        raise ConfigError(f"--out {out}: give a .jsonl file (e.g. kb/chunks.jsonl) or a folder")
    check_out(target, is_dir=False)
    options = IngestOptions.parse(chunk_size=chunk_size, overlap=overlap, unit=unit, tokenizer=tokenizer,
                                  drop_repeated=not keep_repeated, html_main=not html_full)
    held: list[tuple[str, str]] = []

    def on_skip(source: str, reason: str) -> None:
        # until a file is read, a skipped one is held back: if none can be read, the error line names them
        if report.files_read:
            progress.skipped(source, reason)
        else:
            held.append((source, reason))

    with _FileProgress(quiet) as progress:
        report = IngestReport(on_skip=on_skip, on_note=progress.noted)
        ingest(paths, target, options, report, progress=progress)
        for source, reason in held:
            progress.skipped(source, reason)
    if not quiet:
        typer.echo(report.summary())
        typer.echo(f"wrote {target} and {documents_path(target)}")
