"""`synth filter` streamed: batches through the filters, a checkpoint per batch, resumable after a kill,
the same kept and rejected rows and funnel whatever the batch size."""

import json
import os

import pytest
from typer.testing import CliRunner

import synth.cli.filter as filter_cli
from synth.cli._app import app

FILTERS = ["--filter", "refusal", "--filter", "template-leak", "--filter", "length:min_units=4", "--filter", "repetition"]


def _rows(n=250):
    out = []
    for i in range(n):
        answer = [f"Answer {i}: a fund that tracks an index at low cost, bought and sold like a stock.",
                  "I'm sorry, but I can't help with that request.", "ok", f"Paris is the capital {i}.<|im_end|>",
                  f"指数基金是跟踪某个市场指数的基金，费用低，第{i}个。"][i % 5]
        out.append({"id": i, "instruction": f"Question {i}?", "output": answer})
    return out


def _run(tmp_path, name, *extra):
    res = CliRunner().invoke(app, ["filter", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / f"{name}.jsonl"),
                                   *FILTERS, "--quiet", *extra])
    return res


def _read(path):
    return [json.loads(x) for x in open(path, encoding="utf-8")]


def _as_set(path):  # rejected rows come batch by batch, each batch in filter order
    return sorted(json.dumps(r, sort_keys=True) for r in _read(path))


def _funnel(path):
    rep = json.loads(path.read_text())
    return rep["rows_in"], rep["rows_out"], [(s["name"], s["in"], s["kept"], s["dropped_by_reason"], s.get("scores"))
                                             for s in rep["stages"]]


@pytest.fixture
def inp(tmp_path):
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows()),
                                       encoding="utf-8")
    return tmp_path


def test_batches_give_the_same_result(inp):
    assert _run(inp, "one", "--batch-rows", "100000").exit_code == 0
    assert _run(inp, "many", "--batch-rows", "7").exit_code == 0
    assert _read(inp / "many.jsonl") == _read(inp / "one.jsonl") and 0 < len(_read(inp / "one.jsonl")) < 250
    assert _as_set(inp / "many.rejected.jsonl") == _as_set(inp / "one.rejected.jsonl")
    assert _funnel(inp / "many.report.json") == _funnel(inp / "one.report.json")
    assert not (inp / "many.state").exists()


class Killed(Exception):
    pass


def test_resumes_after_kill(inp, monkeypatch):
    assert _run(inp, "fresh", "--batch-rows", "30").exit_code == 0
    real = filter_cli._Progress
    seen = []

    class Dying(real):
        def __call__(self, stage, done, total):
            seen.append(done)
            if done >= 120:
                raise Killed

    monkeypatch.setattr(filter_cli, "_Progress", Dying)
    res = _run(inp, "out", "--batch-rows", "30")
    assert isinstance(res.exception, Killed)
    assert json.loads((inp / "out.state" / "meta.json").read_text())["rows"] == 120
    assert not (inp / "out.jsonl").exists()
    # a batch half-written after the checkpoint is cut back
    with open(inp / "out.state" / "kept.partial", "a") as fh:
        fh.write('{"half": ')
    seen.clear()

    class Watching(real):
        def __call__(self, stage, done, total):
            seen.append(done)
    monkeypatch.setattr(filter_cli, "_Progress", Watching)
    res = _run(inp, "out", "--batch-rows", "30")
    assert res.exit_code == 0, res.output
    assert seen[0] == 150  # went on after row 120
    assert _read(inp / "out.jsonl") == _read(inp / "fresh.jsonl")
    assert _read(inp / "out.rejected.jsonl") == _read(inp / "fresh.rejected.jsonl")  # same batches
    assert _funnel(inp / "out.report.json") == _funnel(inp / "fresh.report.json")


@pytest.mark.parametrize("moved", [("kept",), ("kept", "rejected")])
def test_rerun_after_a_kill_between_the_final_rename_and_the_state_removal(inp, monkeypatch, moved):
    assert _run(inp, "fresh", "--batch-rows", "30").exit_code == 0
    real = filter_cli._Progress

    class DyingAtTheEnd(real):
        def __call__(self, stage, done, total):
            if done == 250:  # after the last checkpoint
                raise Killed

    monkeypatch.setattr(filter_cli, "_Progress", DyingAtTheEnd)
    assert isinstance(_run(inp, "out", "--batch-rows", "30").exception, Killed)
    state = inp / "out.state"
    assert json.loads((state / "meta.json").read_text())["rows"] == 250
    # the finish moves each partial file into place (os.replace for .jsonl); killed before the state is removed
    targets = {"kept": inp / "out.jsonl", "rejected": inp / "out.rejected.jsonl"}
    for name in moved:
        os.replace(state / f"{name}.partial", targets[name])
    monkeypatch.setattr(filter_cli, "_Progress", real)
    res = _run(inp, "out", "--batch-rows", "30")
    assert res.exit_code == 0, res.output  # was: FileNotFoundError on out.state/kept.partial
    assert _read(inp / "out.jsonl") == _read(inp / "fresh.jsonl")
    assert _read(inp / "out.rejected.jsonl") == _read(inp / "fresh.rejected.jsonl")
    assert _funnel(inp / "out.report.json") == _funnel(inp / "fresh.report.json")
    assert not state.exists()


def test_bad_row_named_by_its_line_in_any_batch(inp):
    with open(inp / "in.jsonl", "a") as fh:
        fh.write(json.dumps({"weird": 1}) + "\n")
    res = _run(inp, "out", "--batch-rows", "100")
    assert res.exit_code != 0 and "row 251" in str(res.exception) + res.output


NUMPY_FILTER = '''
import numpy as np
from synth.filter import Decision, Filter

class NumpyScores(Filter):
    name = "numpy-scores"
    score_names = ("units", "ratio")

    def filter(self, record):
        n = len(self.answer(record))
        return Decision(n > 3, "numpy_scores_short", {"units": np.int64(n), "ratio": np.float32(n / 100)})
'''


def test_numpy_scores_checkpoint_and_resume(inp, monkeypatch):
    """A plugin filter's NumPy scores go into the checkpoint and the report as plain JSON numbers."""
    (inp / "np_scores_plugin.py").write_text(NUMPY_FILTER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(inp))
    spec = ["--filter", "np_scores_plugin:NumpyScores"]

    def run(name):
        return CliRunner().invoke(app, ["filter", str(inp / "in.jsonl"), "-o", str(inp / f"{name}.jsonl"),
                                        *spec, "--quiet", "--batch-rows", "30"])

    res = run("fresh")
    assert res.exit_code == 0, res.output + repr(res.exception)
    real = filter_cli._Progress

    class Dying(real):
        def __call__(self, stage, done, total):
            if done >= 90:
                raise Killed

    monkeypatch.setattr(filter_cli, "_Progress", Dying)
    assert isinstance(run("out").exception, Killed)
    saved = json.loads((inp / "out.state" / "meta.json").read_text())
    assert saved["rows"] == 90
    sample = saved["scores"][0]["units"]["sample"]
    assert all(type(v) is int for _, _, v in sample)
    monkeypatch.setattr(filter_cli, "_Progress", real)
    res = run("out")
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert _read(inp / "out.jsonl") == _read(inp / "fresh.jsonl")
    assert _funnel(inp / "out.report.json") == _funnel(inp / "fresh.report.json")
    scores = json.loads((inp / "out.report.json").read_text())["stages"][0]["scores"]
    assert scores["units"]["n"] == 250 and isinstance(scores["units"]["mean"], float)
    assert scores["ratio"]["n"] == 250 and "p50" in scores["ratio"]  # np.float32 counted as a number
