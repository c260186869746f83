"""Every example config of the reasoning recipes runs through `synth run` on the real embedded model (k >= 2).

The toy model's answers are wrong; these tests check structure, counts and bookkeeping, never content.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, synth_cli, write_config
from tests.servers import FaultProxy


def records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for shard in sorted((run_dir / "records").rglob("*.jsonl"))
            for line in shard.read_text().splitlines() if line.strip()]


def export(run_dir: Path, fmt: str) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "exports" / f"{fmt}.jsonl").read_text().splitlines()]


def run_example(name: str, tmp_path: Path, base_url: str, limit: int = 2) -> tuple[Path, dict, list[dict]]:
    out = tmp_path / name
    proc = synth_cli("run", str(EXAMPLES / f"{name}.yaml"), "--base-url", base_url, "--limit", str(limit),
                     "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["rows"]["done"] == limit
    return out, manifest, records(out)


def test_gsm8k_reasoning_example(tmp_path, llm_server):
    out, manifest, rows = run_example("gsm8k-reasoning", tmp_path, llm_server)
    assert len(rows) == 2 * 2 and manifest["requests"]["sent"] == 4          # keep: all, k = 2 per problem
    for r in rows:
        assert r["recipe"] == "reasoning" and r["reference_answer_source"] == "gold"
        assert r["stats"]["samples"] == 2 and sum(v["votes"] for v in r["votes"]) == r["stats"]["answered"]
        assert r["verification"]["status"] in ("correct", "incorrect", "no_answer")
        assert r["correct"] == (r["verification"]["status"] == "correct")
        assert (r["messages"] is not None) == r["selected"]
        assert r["generation"]["model"] and r["generation"]["completion_tokens"] > 0
    assert len(export(out, "messages")) == sum(r["selected"] for r in rows)
    assert len(export(out, "trl_stepwise")) == sum(r["correct"] for r in rows)
    assert len(export(out, "dpo")) == sum(bool(r["selected"] and r["rejected_solutions"]) for r in rows)


def test_majority_zh_example(tmp_path, llm_server):
    out, manifest, rows = run_example("reasoning-majority-zh", tmp_path, llm_server)
    unlabelled = [r for r in rows if isinstance(r.get("rejected"), str)]  # no sample gave an answer
    assert all(r["rejected"] == "no_label" and r["stats"]["answered"] == 0 for r in unlabelled)
    assert manifest["stages"][1]["dropped"] == len(unlabelled)  # recipe:reasoning, into rejected.jsonl
    by_problem = {}
    for r in rows:
        if r not in unlabelled:
            by_problem.setdefault(r["problem"], []).append(r)
    for group in by_problem.values():   # min_votes 1: every problem with an answer has a pseudo-label
        r = group[0]
        assert r["reference_answer_source"] == "majority_vote" and 1 <= len(group) <= 2
        assert r["majority"]["answer"] == r["votes"][0]["answer"] == r["reference_answer"]
        assert r["majority"]["total"] == r["stats"]["answered"] <= 3
        assert all(g["verification"]["method"] == "majority_vote" and g["selected"] for g in group)
    assert manifest["requests"]["sent"] == 2 * 3


def test_step_labels_example_binary(tmp_path, llm_server):
    out, manifest, rows = run_example("step-labels", tmp_path, llm_server)
    assert len(rows) == 2
    for r in rows:
        s = r["search"]
        assert s["mode"] == "binary" and s["rollouts"] == 2 * s["prefix_evaluations"] == s["requests"]
        assert sum(step["n_rollouts"] for step in r["steps"]) == s["rollouts"]
        if not r["correct"]:
            assert r["steps"][r["first_error_step"]]["label"] == -1
            assert s["prefix_evaluations"] <= max(1, len(r["steps"]) - 1).bit_length()
    assert manifest["requests"]["sent"] == 2 + sum(r["search"]["requests"] for r in rows)
    assert len(export(out, "trl_stepwise")) == len(export(out, "prm800k")) == 2


def test_step_labels_linear_rolls_out_every_prefix_as_raw_completions(tmp_path, llm_server):
    (tmp_path / "seeds.jsonl").write_text(json.dumps({"problem": "Tom has 3 bags of 4 apples. How many apples?",
                                                      "answer": "12"}) + "\n")
    cfg = write_config(tmp_path / "run.yaml", name="sl", recipe="step-labels", seeds="seeds.jsonl", dedup=None,
                       options={"rollouts": 2, "max_tokens": 48, "rollout_max_tokens": 16, "search": "linear"},
                       sampling={"temperature": 0.7, "max_tokens": 48})
    with FaultProxy(llm_server) as proxy:
        proc = synth_cli("run", str(cfg), "--base-url", proxy.base_url, "-q")
        assert proc.returncode == 0, proc.stderr
        completions = proxy.posts("completions")
    (r,) = records(tmp_path / "runs" / "sl")
    n = len(r["steps"])
    assert r["search"]["prefix_evaluations"] == n - 1 and len(completions) == 2 * (n - 1)
    assert [s["n_rollouts"] for s in r["steps"]] == [2] * (n - 1) + [0]
    assert all(s["label"] in (1, -1) for s in r["steps"]) and r["steps"][-1]["label_source"] == "final_answer"
    prompts = [c["body"]["prompt"] for c in completions]
    assert all(p.endswith(r["solution"][: len(p.split("<|im_start|>assistant\n", 1)[1])]) for p in prompts)
    assert [len(p) for p in prompts] == sorted(len(p) for p in prompts)   # shortest prefix first


def test_problem_augment_example(tmp_path, llm_server):
    out, manifest, rows = run_example("problem-augment", tmp_path, llm_server)
    modes = [r["augment"]["mode"] for r in rows]
    assert {"rephrase", "fobar", "similar"} <= set(modes)
    for r in rows:
        a = r["augment"]
        if a["mode"] == "fobar":
            assert r["reference_answer"] in a["seed_problem"] and "unknown variable x" in r["problem"]
        if a["dropped"] in ("empty", "copy", "contaminated"):
            assert r["solution"] is None
        else:
            assert r["stats"]["samples"] == 2
        assert r["selected"] == (a["dropped"] is None)
    solved = {(r["seed_key"], r["augment"]["candidate"]) for r in rows if r["solution"] is not None}
    augment_requests = sum(1 for m in ("rephrase", "similar") for _ in range(2))
    assert manifest["requests"]["sent"] == augment_requests + 2 * len(solved)
