"""`synth answer-check`: exit codes, the JSONL stream, errors as one line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import synth.cli.answer_check  # noqa: F401  (registers the command)
from synth.cli import main
from synth.cli._app import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _errors_as_users_see_them(monkeypatch):
    monkeypatch.delenv("SYNTH_RAISE_ERRORS", raising=False)


def run(argv: list[str]) -> int:
    """Run `synth ARGV` through the real entry point; return its exit code."""
    try:
        main(argv)
    except SystemExit as exc:
        return exc.code or 0
    return 0


def test_pair_equivalent_exits_0():
    result = runner.invoke(app, ["answer-check", r"\frac{1}{2}", "0.5"])
    assert (result.exit_code, result.output) == (0, "equivalent\n")


def test_pair_different_exits_1():
    result = runner.invoke(app, ["answer-check", "1,000", "100"])
    assert (result.exit_code, result.output) == (1, "different\n")


def test_details_show_status_and_method():
    result = runner.invoke(app, ["answer-check", "--details", "B", "(C)"])
    assert result.exit_code == 1
    assert result.output.startswith("different\tstatus=incorrect method=choice")


def test_exit_codes_through_the_entry_point(capsys):
    assert run(["answer-check", "1", "2"]) == 1
    assert run(["answer-check", "2", "2.0"]) == 0
    assert capsys.readouterr().out == "different\nequivalent\n"


def test_file_rows_come_back_in_order_with_equivalent(tmp_path, capsys):
    rows = [
        {"id": 1, "gold": "1,000", "pred": "1000"},
        {"id": 2, "gold": r"\sqrt{8}", "pred": r"2\sqrt{2}"},
        {"id": 3, "gold": "B", "pred": "A"},
        {"id": 4, "gold": 72, "pred": 72.0},  # JSON numbers are read as their text
        {"id": 5, "gold": "三百", "pred": None},
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "\n", encoding="utf-8")
    assert run(["answer-check", "--file", str(path)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in out] == [1, 2, 3, 4, 5]
    assert [r["equivalent"] for r in out] == [True, True, False, True, False]
    assert out[4]["gold"] == "三百" and "verification" not in out[0]


def test_file_details_add_the_verdict(tmp_path, capsys):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"gold": "50%", "pred": "0.5"}\n', encoding="utf-8")
    assert run(["answer-check", "--file", str(path), "--details"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["verification"] == {"status": "correct", "method": "number", "gold": "50%", "pred": "1/2"}


def test_file_streams_thousands_of_rows(tmp_path, capsys):
    path = tmp_path / "many.jsonl"
    with path.open("w") as f:
        for i in range(3000):
            f.write(json.dumps({"gold": f"{i:,}", "pred": str(i + i % 2)}) + "\n")
    assert run(["answer-check", "--file", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3000
    assert [json.loads(line)["equivalent"] for line in out[:4]] == [True, False, True, False]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"gold": "1", "pred": "1"}\n{"gold": "1", "pred"\n', "pairs.jsonl:2: not valid JSON"),
        ('{"gold": "1", "pred": "1"}\n\n{"gold": "1"}\n', 'pairs.jsonl:3: expected an object with "gold" and "pred"'),
        ("[1, 2]\n", "pairs.jsonl:1: each line must be a JSON object"),
    ],
)
def test_bad_line_is_one_error_line_with_file_and_line(tmp_path, capsys, content, message):
    path = tmp_path / "pairs.jsonl"
    path.write_text(content, encoding="utf-8")
    code = run(["answer-check", "--file", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_missing_file_and_misuse_are_errors(tmp_path, capsys):
    for argv, message in [
        (["answer-check", "--file", str(tmp_path / "nope.jsonl")], "nope.jsonl: no such file"),
        (["answer-check"], "give GOLD and PRED, or --file"),
        (["answer-check", "1", "1", "--file", "x.jsonl"], "not both"),
        (["answer-check", "1", "1", "--timeout", "0"], "--timeout must be > 0"),
    ]:
        assert run(argv) == 2
        assert message in capsys.readouterr().err


def test_help_names_the_exit_codes():
    result = runner.invoke(app, ["answer-check", "--help"])
    assert result.exit_code == 0 and "exit 0" in result.output and "--timeout" in result.output


def test_console_script_exit_codes():
    from tests.conftest import synth_cli

    same = synth_cli("answer-check", "1,000", "1000", timeout=60)
    different = synth_cli("answer-check", r"\sqrt{8}", r"3\sqrt{2}", timeout=60)
    assert (same.returncode, same.stdout) == (0, "equivalent\n")
    assert (different.returncode, different.stdout) == (1, "different\n")


def test_file_reads_the_final_answer_of_whole_solutions(tmp_path, capsys):
    thinking = "\n".join(f"Try {i}: {i} * 7 = {i * 7}, too small." for i in range(80))
    rows = [
        {"gold": "23", "pred": f"<think>\n{thinking}\n</think>\nSo there are $\\boxed{{23}}$ chairs."},
        {"gold": "B", "pred": "A and C are ruled out, so B."},
        {"gold": "3.5", "pred": "3,5"},
        {"gold": r"\$1,\!000", "pred": "1000"},
    ]
    assert len(rows[0]["pred"]) > 2000
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert run(["answer-check", "--file", str(path), "--details"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["equivalent"] for r in out] == [True, True, True, True]
    assert out[0]["verification"]["extraction"] == "boxed" and "extraction" not in out[2]["verification"]


def test_details_name_the_extraction():
    result = runner.invoke(app, ["answer-check", "--details", "7", "So 3 + 4 = 7.\nAnswer: 7"])
    assert result.exit_code == 0 and "extraction=answer_colon" in result.output


def test_order_option():
    assert runner.invoke(app, ["answer-check", "1, 2", "2, 1"]).exit_code == 0
    assert runner.invoke(app, ["answer-check", "--order", "all", "1, 2", "2, 1"]).exit_code == 1
    assert runner.invoke(app, ["answer-check", "--order", "none", "(1, 2)", "(2, 1)"]).exit_code == 0


def test_workers_option_gives_the_same_answers(tmp_path, capsys):
    rows = [{"gold": r"\sqrt{8}", "pred": r"2\sqrt{2}"}, {"gold": r"\sqrt{8}", "pred": r"3\sqrt{2}"}, {"gold": "1", "pred": "1"}]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    outputs = []
    for argv in (["--file", str(path)], ["--file", str(path), "--workers", "2"]):
        assert run(["answer-check", *argv]) == 0
        outputs.append([json.loads(line)["equivalent"] for line in capsys.readouterr().out.splitlines()])
    assert outputs[0] == outputs[1] == [True, False, True]


def test_bad_order_and_workers_are_one_line_errors(capsys):
    for argv, message in [
        (["answer-check", "1", "1", "--order", "sorted"], "--order must be one of tuples, all, none"),
        (["answer-check", "1", "1", "--workers", "-1"], "--workers must be 0 or more"),
    ]:
        assert run(argv) == 2
        assert message in capsys.readouterr().err
