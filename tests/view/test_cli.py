"""`synth view` on the command line: the static file, and the one-line errors (exit code 2)."""

from __future__ import annotations

import socket

import pytest

from synth.cli import main
from synth.errors import InputError
from synth.view import RunView


def _one_error_line(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_html_writes_one_self_contained_file(process_run, tmp_path, capsys):
    out = tmp_path / "share" / "process.html"
    with pytest.raises(SystemExit) as exit_info:
        main(["view", str(process_run[0]), "--html", str(out), "--max-rows", "1"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}")
    html = out.read_text(encoding="utf-8")
    assert "<script src=" not in html and 'rel="stylesheet"' not in html  # everything inlined
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "holds 1 of 3 kept, 1 of 2 rejected, 1 of 1 failed rows" in html


def test_not_a_run_directory(tmp_path, capsys):
    with pytest.raises(InputError, match="not a run directory"):
        RunView(tmp_path)
    assert "run directory not found" in _one_error_line(capsys, ["view", str(tmp_path / "missing")])


def test_port_in_use(process_run, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        line = _one_error_line(capsys, ["view", str(process_run[0]), "--port", str(taken.getsockname()[1])])
    assert "is in use: pick another with --port" in line
