"""The dataset a run writes: subsets and splits that load, a card whose numbers are the data's, real PNG plots."""

from __future__ import annotations

import json
import re
from collections import Counter

import pyarrow.parquet as pq
import pytest

from tests.conftest import synth_cli
from tests.hub.conftest import PROBLEMS, make_run


def card_of(run_dir):
    from huggingface_hub import DatasetCard

    return DatasetCard((run_dir / "README.md").read_text(encoding="utf-8"))


def rows_of(run_dir, paths) -> list[dict]:
    return [row for p in paths for row in pq.read_table(run_dir / p).to_pylist()]


def card_configs(card) -> dict[str, dict[str, list[str]]]:
    return {c["config_name"]: {f["split"]: f["path"] for f in c["data_files"]} for c in card.data.configs}


def test_card_numbers_equal_the_data(maths_run):
    card = card_of(maths_run)
    configs = card_configs(card)
    text = card.text
    # every subset/split row count in the card's table, recounted from its parquet files
    table = dict(((m[1], m[2]), int(m[3])) for m in re.finditer(r"^\| `([\w-]+)` \| .*? \| (\w+) \| (\d+) \|$", text, re.M))
    assert set(table) == {(name, split) for name, splits in configs.items() for split in splits}
    for (name, split), n in table.items():
        assert len(rows_of(maths_run, configs[name][split])) == n, (name, split)
    kept = [r for paths in configs["default"].values() for r in rows_of(maths_run, paths)]
    assert len(kept) == 2 * len(PROBLEMS), "one right and one wrong sample per problem, nothing dropped"
    funnel = re.findall(r"^\| (generate|recipe:reasoning|dedup) \| (\d+) \| (\d+) \| (\d+) \|", text, re.M)
    assert funnel[-1][0] == "dedup" and int(funnel[-1][2]) == len(kept)
    # answer checks and step labels, recomputed from the rows
    statuses = Counter(r["verification"]["status"] for r in kept)
    for status, n in statuses.items():
        assert f"| {status} | {n} | {100 * n / len(kept):.1f} % |" in text
    assert statuses == {"correct": len(PROBLEMS), "incorrect": len(PROBLEMS)}
    steps = sum(len(r["steps"]) for r in kept)
    assert f"{steps} steps in {len(kept)} records" in text
    lengths = sorted(len(r["solution"]) for r in kept)
    assert re.search(rf"^\| response \| {len(kept)} \| [\d.]+ \| {lengths[0]} \| .* \| {lengths[-1]} \|$", text, re.M)
    # metadata
    assert card.data.license == "cc-by-4.0" and "synthetic" in card.data.tags
    assert set(card.data.language) == {"en", "zh"} and card.data.size_categories == ["n<1K"]
    assert card.data.pretty_name == "maths" and "text-generation" in card.data.task_categories
    manifest = json.loads((maths_run / "manifest.json").read_text())
    # every request the server saw: one per sample, plus the capability probe at start
    assert manifest["requests"]["sent"] == 2 * len(PROBLEMS) + 1 and manifest["requests"]["cache_misses"] == 16
    assert f"`{manifest['fingerprint']}`" in text and f"{2 * len(PROBLEMS) + 1} sent" in text
    assert "toy model" not in text, "a scripted server is not the embedded toy model"


def test_splits_keep_every_seed_row_in_one_split(maths_run):
    configs = card_configs(card_of(maths_run))
    train, test = (rows_of(maths_run, configs["default"][s]) for s in ("train", "test"))
    assert train and test
    assert not {r["seed_key"] for r in train} & {r["seed_key"] for r in test}
    # the exports are split the same way: a problem's PRM rows sit where its records sit
    test_problems = {r["problem"] for r in test}
    prm_test = rows_of(maths_run, configs["openrlhf_prm"]["test"])
    assert prm_test and all(any(p in row["input"] for p in test_problems) for row in prm_test)


def test_every_subset_loads_with_load_dataset(maths_run):
    from datasets import load_dataset

    configs = card_configs(card_of(maths_run))
    assert {"default", "messages", "openrlhf_prm", "trl_stepwise", "prm800k", "alpaca"} <= set(configs)
    for name, splits in configs.items():
        ds = load_dataset(str(maths_run), name)
        assert {split: len(ds[split]) for split in ds} == {s: len(rows_of(maths_run, p)) for s, p in splits.items()}
    assert set(load_dataset(str(maths_run), "openrlhf_prm", split="train").column_names) == {"input", "label"}


def test_every_plot_exists_and_is_a_png(maths_run):
    from PIL import Image

    text = (maths_run / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"!\[[\w-]+\]\((plots/[\w.-]+)\)", text)
    assert sorted(linked) == ["plots/coverage.png", "plots/funnel.png", "plots/lengths.png", "plots/s_curve.png"]
    for rel in linked:
        data = (maths_run / rel).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(maths_run / rel) as img:
            img.verify()
            assert img.size[0] >= 300 and img.size[1] >= 100


def test_a_rerun_rewrites_the_same_card_and_plots_byte_for_byte(tmp_path):
    """Plots carry no timestamp, so an unchanged run re-pushes no plot; the card changes only in its dates."""
    run = make_run(tmp_path, problems=PROBLEMS[:2], extra={"export": {"formats": ["messages"]}})
    first = {p.name: p.read_bytes() for p in (run / "plots").iterdir()}
    run = make_run(tmp_path, problems=PROBLEMS[:2], extra={"export": {"formats": ["messages"]}})
    assert {p.name: p.read_bytes() for p in (run / "plots").iterdir()} == first


def test_dropped_records_land_in_the_rejected_subset_with_stage_and_reason(tmp_path):
    # dedup on the problem text: the second sample of each problem is an exact duplicate
    run = make_run(tmp_path, problems=PROBLEMS[:3], extra={"dedup": {"exact": True, "near": False, "fields": ["problem"]},
                                                           "export": {"formats": []}})
    configs = card_configs(card_of(run))
    rejected = rows_of(run, configs["rejected"]["train"])
    from_jsonl = [json.loads(line) for line in (run / "rejected.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["reason"]) for r in rejected] == [("dedup", "exact_duplicate")] * 3
    assert [r["record"]["id"] for r in from_jsonl] == [r["id"] for r in rejected]
    assert all(json.loads(r["record"])["id"] == r["id"] and json.loads(r["detail"])["duplicate_of"] for r in rejected)
    assert "| dedup | 6 | 3 | 3 | exact_duplicate: 3 |" in (run / "README.md").read_text()


@pytest.mark.parametrize("split, message", [({"train": 0.1}, "split name 'train'"),
                                            ({"test": 0.6, "dev": 0.5}, "add up to 1.1")])
def test_bad_split_config_is_one_line_and_exit_2(tmp_path, split, message):
    from tests.conftest import write_config, write_jsonl

    write_jsonl(tmp_path / "s.jsonl", [{"problem": "1+1?", "answer": "2"}])
    cfg = write_config(tmp_path / "c.yaml", name="x", recipe="reasoning", seeds="s.jsonl", export={"split": split})
    proc = synth_cli("run", str(cfg), "--base-url", "http://127.0.0.1:9/v1", "-q")
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_card_links_and_manifest_name_the_synth_datagen_distribution(maths_run):
    """`synth` on PyPI is an unrelated project: the card's link and install line, and the manifest's
    versions, name the distribution this is (synth-datagen)."""
    import synth

    text = card_of(maths_run).text
    assert f"[synth](https://pypi.org/project/{synth.__distribution__}/)" in text
    assert f"`pip install {synth.__distribution__}`" in text and "pypi.org/project/synth/" not in text
    versions = json.loads((maths_run / "manifest.json").read_text())["versions"]
    assert versions[synth.__distribution__] == synth.__version__ and "synth" not in versions
