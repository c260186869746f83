"""What the Hub and ModelScope push tests share about a failure case: its environment, the run it pushes
(an unlicensed copy for "no license"), and the one-line error it must end in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def prepare(monkeypatch, tmp_path: Path, run: Path, env: dict[str, str | None], case: str) -> Path:
    """Set (None: unset) the case's environment; the run to push."""
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    if case != "no license":
        return run
    unlicensed = tmp_path / "unlicensed"
    shutil.copytree(run, unlicensed)
    manifest = json.loads((unlicensed / "manifest.json").read_text())
    manifest["license"] = None
    (unlicensed / "manifest.json").write_text(json.dumps(manifest))
    return unlicensed


def assert_one_line_error(code: int, err: str, message: str) -> None:
    """Exit 2 and one line, `error: ...`, that says `message`."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
