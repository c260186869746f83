"""Progress display: rich bars on stderr with rows, tokens/s and ETA; silent with --quiet."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

console = Console(stderr=True)


class RowProgress:
    """One bar: rows done / total, plus a free-text rate field (tokens/s, docs/s, ...)."""

    def __init__(self, description: str, total: int, *, quiet: bool = False, unit: str = "tok/s",
                 details: Callable[[], list[str]] | None = None) -> None:
        self.quiet = quiet
        self.start = time.monotonic()
        self.unit = unit
        self.details = details  # extra lines under the bar (one per endpoint), refreshed twice a second
        self._shown = 0.0
        self._progress = None if quiet else Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, transient=False)
        self._task = None if quiet else self._progress.add_task(description, total=total, rate="")
        self._lines = [] if quiet or details is None else [
            self._progress.add_task(line, total=None, rate="", start=False) for line in details()]

    def advance(self, n: int = 1, *, count: float | None = None) -> None:
        """Advance by n rows; `count` is the running total behind the rate (e.g. tokens generated)."""
        if self._progress is None:
            return
        rate = ""
        if count is not None:
            rate = f"{count / max(1e-6, time.monotonic() - self.start):,.1f} {self.unit}"
        self._progress.update(self._task, advance=n, rate=rate)
        if self._lines and time.monotonic() - self._shown > 0.5:
            self._shown = time.monotonic()
            for task, line in zip(self._lines, self.details()):
                self._progress.update(task, description=f"  {line}")

    def __enter__(self) -> RowProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


@contextmanager
def status(message: str, *, quiet: bool = False):
    """A spinner for a step without a row count (starting a server, writing a dataset)."""
    if quiet:
        yield
        return
    with console.status(message):
        yield
