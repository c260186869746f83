"""`synth answer-check`: is a predicted answer equivalent to the gold one? For debugging data."""

from __future__ import annotations

import json
import sys
from itertools import islice
from pathlib import Path
from typing import Annotated, Optional, TextIO

import typer

from synth.cli._app import app
from synth.errors import ConfigError, InputError
from synth.io import parse_jsonl
from synth.verify import DEFAULT_TIMEOUT, ORDERS, Verdict, WorkerPool, check, check_many

_BATCH = 2000  # rows per check_many call: big enough to keep the workers busy, small enough to stream


def _pair_rows(batch: list[tuple[int, dict]], name: str) -> list[tuple[int, dict]]:
    for number, row in batch:
        if "gold" not in row or "pred" not in row:
            raise InputError(f'{name}:{number}: expected an object with "gold" and "pred" fields')
    return batch


def _as_text(value: object) -> str | None:
    """JSON numbers become their text (``1000`` → "1000"); null stays no answer."""
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def _check_file(stream: TextIO, name: str, details: bool, **options) -> None:
    numbered = parse_jsonl(stream, name)
    while batch := list(islice(numbered, _BATCH)):
        rows = _pair_rows(batch, name)
        verdicts = check_many([(_as_text(r["gold"]), _as_text(r["pred"])) for _, r in rows], **options)
        for (_, row), verdict in zip(rows, verdicts):
            row["equivalent"] = verdict.correct
            if details:
                row["verification"] = verdict.to_dict()
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def _describe(verdict: Verdict) -> str:
    found = f" extraction={verdict.extraction}" if verdict.extraction else ""
    return f"status={verdict.status} method={verdict.method}{found}" + (f" ({verdict.detail})" if verdict.detail else "")


@app.command("answer-check")
def answer_check(
    gold: Annotated[Optional[str], typer.Argument(help="The reference answer, e.g. '\\frac{1}{2}'.")] = None,
    pred: Annotated[Optional[str], typer.Argument(help="The answer to check, e.g. '0.5'.")] = None,
    file: Annotated[
        Optional[Path],
        typer.Option("--file", "-f", help='JSONL of {"gold": ..., "pred": ...} rows; "-" reads stdin.'),
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds math-verify may spend on one pair before it counts as a timeout.")
    ] = DEFAULT_TIMEOUT,
    details: Annotated[
        bool,
        typer.Option("--details", help="Also show the status, method and extraction (with --file: a 'verification' field)."),
    ] = False,
    order: Annotated[
        str,
        typer.Option(help="Which lists are ordered: 'tuples' ((a, b) ordered, bare a, b a set), 'all' or 'none'."),
    ] = "tuples",
    workers: Annotated[
        int,
        typer.Option(
            help="0: compare LaTeX in this process (least CPU); N: spread it over N worker processes "
            "(faster on idle cores, each costs ~1 s of CPU to start)."
        ),
    ] = 0,
) -> None:
    """Check whether PRED is equivalent to GOLD: print 'equivalent' (exit 0) or 'different' (exit 1).

    PRED may be a whole solution (reasoning in <think>...</think> included): its final answer is
    compared. With --file, read JSONL rows {"gold": ..., "pred": ...} and write each row to stdout
    with "equivalent": true|false added.
    """
    if timeout <= 0:
        raise ConfigError(f"--timeout must be > 0 seconds, got {timeout:g}")
    if order not in ORDERS:
        raise ConfigError(f"--order must be one of {', '.join(ORDERS)}, got {order!r}")
    if workers < 0:
        raise ConfigError(f"--workers must be 0 or more, got {workers}")
    pool = WorkerPool(size=workers) if workers else None
    options = {"timeout": timeout, "order": order, "pool": pool, "inline": not workers}
    try:
        _run(gold, pred, file, details, options)
    finally:
        if pool is not None:
            pool.close()


def _run(gold: str | None, pred: str | None, file: Path | None, details: bool, options: dict) -> None:
    if file is not None:
        if gold is not None or pred is not None:
            raise ConfigError("give either GOLD PRED or --file, not both")
        if str(file) == "-":
            _check_file(sys.stdin, "<stdin>", details, **options)
            return
        if not file.is_file():
            raise InputError(f"{file}: no such file")
        try:
            with file.open(encoding="utf-8") as stream:
                _check_file(stream, str(file), details, **options)
        except UnicodeDecodeError as exc:
            raise InputError(f"{file}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
        return
    if gold is None or pred is None:
        raise ConfigError("give GOLD and PRED, or --file FILE (see synth answer-check --help)")
    verdict = check(gold, pred, **options)
    typer.echo(("equivalent" if verdict.correct else "different") + (f"\t{_describe(verdict)}" if details else ""))
    if not verdict.correct:
        raise typer.Exit(1)
