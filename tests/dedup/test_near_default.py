"""Whether MinHash near-duplicate removal runs has one default, DedupConfig's, and every way in obeys it:
a run config (`dedup: {exact: true}`), the config a run gets without a `dedup` key, `synth dedup`,
and the card's description of what ran. A near-duplicate setting given while near is off is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth.config import RunConfig
from synth.dedup import DedupConfig
from synth.errors import ConfigError
from synth.stages import run_stages
from synth.build import make_stages
from tests.conftest import cli_in_process, write_jsonl

# one word apart in 30: word-3-gram Jaccard ~0.8, a near duplicate at the default threshold (0.6)
BASE = ("the committee reviewed the annual budget and agreed to fund three new libraries in the northern "
        "district while postponing repairs to the old bridge until next spring")
NEAR = BASE.replace("three", "four")
RECORDS = [{"id": "a", "text": BASE}, {"id": "b", "text": NEAR}]


def kept_ids(dedup: dict | None) -> list[str]:
    config = RunConfig(name="t", recipe="instruct", seeds="s.jsonl",
                       **({"dedup": dedup} if dedup is not None else {}))
    kept, _, _ = run_stages(make_stages(config, Path(".")), [dict(r) for r in RECORDS])
    return [r["id"] for r in kept]


def test_the_pair_is_a_near_duplicate():
    assert kept_ids({"exact": True, "near": True}) == ["a"]


@pytest.mark.parametrize("dedup", [{"exact": True}, {}, None], ids=["exact-only-named", "empty", "no-key"])
def test_run_config_follows_dedupconfig_default(dedup):
    assert DedupConfig().near is False
    assert kept_ids(dedup) == ["a", "b"], "near-duplicate removal ran though the config did not ask for it"


def test_card_describes_the_dedup_that_ran():
    from synth.hub.stats import dedup_params

    assert dedup_params({"exact": True}) is None  # no S-curve for a MinHash stage that did not run
    assert dedup_params({"near": True})["threshold"] == DedupConfig().threshold


def test_cli_follows_dedupconfig_default(tmp_path, capsys):
    write_jsonl(tmp_path / "in.jsonl", RECORDS)
    code, _, err = cli_in_process(capsys, "dedup", "in.jsonl", "--out", "default.jsonl", "-q")
    assert code == 0, err
    assert [json.loads(x)["id"] for x in open("default.jsonl")] == ["a", "b"]
    code, _, err = cli_in_process(capsys, "dedup", "in.jsonl", "--out", "near.jsonl", "--near", "-q")
    assert code == 0, err
    assert [json.loads(x)["id"] for x in open("near.jsonl")] == ["a"]


def test_near_setting_without_near_is_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="near"):
        DedupConfig(threshold=0.8)
    config = RunConfig(name="t", recipe="instruct", seeds="s.jsonl", dedup={"exact": True, "threshold": 0.8})
    with pytest.raises(ConfigError, match=r"dedup.*threshold.*near: true"):
        make_stages(config, Path("."))
    write_jsonl(tmp_path / "in.jsonl", RECORDS)
    code, _, err = cli_in_process(capsys, "dedup", "in.jsonl", "--out", "o.jsonl", "--threshold", "0.8")
    assert code == 2 and err.startswith("error: ") and "--near" in err, err
    assert not Path("o.jsonl").exists()
