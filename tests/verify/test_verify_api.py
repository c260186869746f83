from __future__ import annotations

import doctest
import importlib

import pytest

import synth.verify

MODULES = ["normalize", "numbers", "chinese", "choice", "extract", "steps", "solution", "decide", "latex", "inline", "multi",
           "equivalence", "timeout", "tolerance"]


def test_exported_members():
    assert sorted(synth.verify.__all__) == sorted(
        name for name in dir(synth.verify) if not name.startswith("_") and name not in MODULES + ["_worker"]
    )
    for name in ["extract_answer", "split_steps", "check", "check_many", "Verdict"]:
        assert name in synth.verify.__all__


def test_verdict_is_recordable_on_a_row():
    verdict = synth.verify.check("18", "$18.00")
    assert verdict.to_dict() == {"status": "correct", "method": "number", "gold": "18", "pred": "18"}
    assert verdict.correct


@pytest.mark.parametrize("name", MODULES + [""])
def test_docstring_examples_run(name):
    module = importlib.import_module("synth.verify" + (f".{name}" if name else ""))
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and (result.attempted > 0 or name == "")
