"""Mistakes a user can make: one clear line on stderr, exit code 2, and no run directory written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import synth_cli, write_config, write_jsonl


def seeds(tmp_path: Path, rows=None) -> str:
    write_jsonl(tmp_path / "seeds.jsonl", rows if rows is not None else [{"instruction": "Say hi."}])
    return "seeds.jsonl"


def config(tmp_path: Path, **fields) -> Path:
    base = dict(name="bad", recipe="instruct", dedup=None)
    if "seeds" not in fields:
        base["seeds"] = seeds(tmp_path)
    base.update(fields)
    return write_config(tmp_path / "run.yaml", **base)


def assert_user_error(proc, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not Path("runs").exists(), "a failed start must not create the run directory"


def test_malformed_yaml(tmp_path):
    (tmp_path / "run.yaml").write_text("name: x\nrecipe: [unclosed\n", encoding="utf-8")
    assert_user_error(synth_cli("run", "run.yaml"), "run.yaml:", "malformed YAML")


def test_missing_config_file(tmp_path):
    assert_user_error(synth_cli("run", "nope.yaml"), "config not found: nope.yaml")


def test_unknown_config_key_names_its_path(tmp_path):
    cfg = config(tmp_path, sampling={"temprature": 0.5})
    assert_user_error(synth_cli("run", str(cfg)), "sampling.temprature", "unknown key")


def test_bad_value_names_field_and_value(tmp_path):
    cfg = config(tmp_path, sampling={"max_tokens": 0})
    assert_user_error(synth_cli("run", str(cfg)), "sampling.max_tokens", "greater than or equal to 1", "(got 0)")


def test_unknown_recipe_lists_the_known_ones(tmp_path):
    cfg = config(tmp_path, recipe="instrukt")
    assert_user_error(synth_cli("run", str(cfg)), "unknown recipe 'instrukt'", "instruct", "synth recipes")


def test_unknown_filter(tmp_path):
    cfg = config(tmp_path, filters=["no-such-filter"])
    assert_user_error(synth_cli("run", str(cfg)), "unknown filter 'no-such-filter'", "finish-reason")


def test_bad_filter_option(tmp_path):
    cfg = config(tmp_path, filters=[{"name": "finish-reason", "colour": "red"}])
    assert_user_error(synth_cli("run", str(cfg)), "filter 'finish-reason': bad options")


def test_bad_recipe_option(tmp_path):
    cfg = config(tmp_path, options={"samples": 0})
    assert_user_error(synth_cli("run", str(cfg)), "recipe 'instruct'", "options.samples")


def test_missing_seed_file(tmp_path):
    cfg = config(tmp_path, seeds="missing.jsonl")
    assert_user_error(synth_cli("run", str(cfg)), "input not found", "missing.jsonl")


def test_seed_row_without_needed_field(tmp_path):
    cfg = config(tmp_path, seeds=seeds(tmp_path, [{"instruction": "ok"}, {"question": "where is it?"}]))
    assert_user_error(synth_cli("run", str(cfg)), "row 2 has no 'instruction' field", "recipe 'instruct'")


def test_non_utf8_seed_file(tmp_path):
    (tmp_path / "latin1.jsonl").write_bytes('{"instruction": "café"}\n'.encode("latin-1"))
    cfg = config(tmp_path, seeds="latin1.jsonl")
    assert_user_error(synth_cli("run", str(cfg)), "latin1.jsonl is not valid UTF-8", "UTF-8")


def test_malformed_seed_line(tmp_path):
    (tmp_path / "broken.jsonl").write_text('{"instruction": "a"}\n{"instruction": \n', encoding="utf-8")
    cfg = config(tmp_path, seeds="broken.jsonl")
    assert_user_error(synth_cli("run", str(cfg)), "broken.jsonl:2: not valid JSON")


def test_unreachable_base_url(tmp_path):
    cfg = config(tmp_path)
    assert_user_error(synth_cli("run", str(cfg), "--base-url", "http://127.0.0.1:9/v1"),
                      "cannot reach http://127.0.0.1:9/v1", "--base-url")


def test_wrong_model_name(tmp_path, llm_server):
    cfg = config(tmp_path)
    assert_user_error(synth_cli("run", str(cfg), "--base-url", llm_server, "--model", "gpt-17"),
                      "model 'gpt-17' is not served", "fix --model")


def test_unknown_export_format(tmp_path):
    cfg = config(tmp_path, export={"formats": ["nonsense"]})
    assert_user_error(synth_cli("run", str(cfg)), "export.formats", "nonsense")


@pytest.mark.parametrize("args", [["run"], ["run", "a.yaml", "--limit", "0"]])
def test_usage_errors_exit_2(tmp_path, args):
    proc = synth_cli(*args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
