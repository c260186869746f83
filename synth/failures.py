"""Failed seed rows: what each one says in failed.jsonl, and the line `synth run` prints about them.

Two kinds, because they call for different fixes: `request` (a request failed after the engine's
retries: the server refused it or kept failing; re-running retries it) and `recipe` (the recipe
raised on the row: a RecipeError saying why, or a bug in the recipe, which a re-run repeats).
"""

from __future__ import annotations

import os
import sys
import sysconfig
import traceback
from pathlib import Path

from synth.errors import RequestFailed

KIND_TEXT = {"request": ("request failed after retries", "requests failed after retries"),
             "recipe": ("recipe error", "recipe errors")}
_LIBRARY_DIRS = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")})


def describe(exc: BaseException, position: int) -> dict:
    """A failed row's entry: kind, seed row position (1-based), the error's first line, where it was raised.

    >>> try:
    ...     raise ValueError("bad field\\nmore detail")
    ... except ValueError as e:
    ...     entry = describe(e, 3)
    >>> entry["kind"], entry["position"], entry["error"]
    ('recipe', 3, 'ValueError: bad field')
    """
    first = next(iter(str(exc).splitlines()), "").strip()
    entry = {"kind": "request" if isinstance(exc, RequestFailed) else "recipe", "position": position,
             "error": f"{type(exc).__name__}: {first}" if first else type(exc).__name__, "where": None}
    if entry["kind"] == "recipe":  # a request's traceback ends in the engine, which says nothing new
        entry["where"] = _raised_at(exc)
    return entry


def _raised_at(exc: BaseException) -> str | None:
    """`file:line in function` of the innermost frame outside the standard library and installed
    packages (the recipe's own code, where the fix goes), else the innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return None
    own = [f for f in frames if not f.filename.startswith(_LIBRARY_DIRS)]
    frame = (own or frames)[-1]
    return f"{_short(frame.filename)}:{frame.lineno} in {frame.name}"


def _short(filename: str) -> str:
    path = Path(filename)
    try:
        return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(Path(*path.parts[-2:]))
    except (ValueError, OSError):  # another drive, or the working folder is gone
        return path.name


def tally(failed: list[dict]) -> dict[str, dict]:
    """kind -> {"rows": n, "first": the entry with the lowest seed row position}."""
    out: dict[str, dict] = {}
    for entry in failed:
        kind = entry.get("kind") or "request"  # rows failed by older versions were request failures
        t = out.setdefault(kind, {"rows": 0, "first": entry})
        t["rows"] += 1
        if (entry.get("position") or sys.maxsize) < (t["first"].get("position") or sys.maxsize):
            t["first"] = entry
    return out


def summary_line(n_failed: int, n_rows: int, failed: list[dict], failed_file: Path) -> str:
    """One line: how many rows failed, of what, the first of each kind, and where the list is."""
    parts = []
    for kind, t in tally(failed).items():
        first = t["first"]
        at = f" at seed row {first['position']}" if first.get("position") else ""
        where = f" ({first['where']})" if first.get("where") else ""
        one, many = KIND_TEXT.get(kind, (kind, kind))
        parts.append(f"{t['rows']} {one if t['rows'] == 1 else many}, first{at}: {first.get('error')}{where}")
    return f"{n_failed} of {n_rows} rows failed: {'; '.join(parts)} (all in {failed_file})"


def too_many(n_failed: int, n_rows: int, max_share: float) -> bool:
    """Every row failed, or more than `max_share` of them (the run exits non-zero).

    >>> too_many(1, 3, 0.5), too_many(2, 3, 0.5), too_many(1, 1, 1.0), too_many(0, 0, 0.0)
    (False, True, True, False)
    """
    return n_failed > 0 and (n_failed >= n_rows or n_failed > max_share * n_rows)
