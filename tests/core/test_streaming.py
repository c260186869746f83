"""Large runs stream: stages and the dataset writer read records from disk in chunks, and give the same
dataset, rejections and counts as the in-memory path of small runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pyarrow.parquet as pq

from synth import runner
from synth.config import load_config
from tests.conftest import write_config, write_jsonl
from tests.servers import ScriptedServer

ROWS = [{"instruction": "Name a bird."}, {"instruction": "说出一种鸟。"}, {"instruction": "Name a fish."},
        {"instruction": "Copy: Janet's ducks lay sixteen eggs per day and she eats three for breakfast daily"},
        {"instruction": "Name a tree."}, {"instruction": "说出一种树。"}, {"instruction": "Name a bird!"}]


def answer(kind, body):
    text = body["messages"][-1]["content"]
    if "bird" in text or "鸟" in text:
        return "苍鹭。" if "鸟" in text else "A heron."
    if "Janet" in text:
        return "Janet's ducks lay sixteen eggs per day and she eats three for breakfast daily"
    return "x" if "fish" in text else f"An answer about {text}"


def run_once(tmp_path: Path, name: str, spill_rows: int, monkeypatch, base_url: str) -> Path:
    write_jsonl(tmp_path / "bench.jsonl", [{"q": "Janet's ducks lay sixteen eggs per day and she eats three for "
                                                 "breakfast daily"}])
    write_jsonl(tmp_path / "seeds.jsonl", ROWS)
    cfg_path = write_config(tmp_path / f"{name}.yaml", name=name, recipe="instruct", seeds="seeds.jsonl",
                            sampling={"max_tokens": 16}, filters=[{"name": "length", "min_units": 2}],
                            dedup={"exact": True, "near": False, "fields": ["response"]},
                            decontam={"benchmarks": ["bench.jsonl:q"], "ngram": 8},
                            export={"formats": ["messages"], "split": {"test": 0.3}})
    cfg, base = load_config(cfg_path, {"engine.base_url": base_url, "engine.kind": "openai"})
    monkeypatch.setattr(runner, "SPILL_ROWS", spill_rows)
    asyncio.run(runner.run(cfg, base, quiet=True))
    return tmp_path / "runs" / name


def test_the_streaming_path_writes_what_the_in_memory_path_writes(tmp_path, monkeypatch):
    with ScriptedServer(answer) as server:
        memory = run_once(tmp_path, "memory", 1_000, monkeypatch, server.base_url)
        streamed = run_once(tmp_path, "streamed", 2, monkeypatch, server.base_url)
    assert not list(streamed.glob(".stages-*")), "the spools are removed after the run"

    def data(run_dir: Path) -> dict[str, list]:
        out = {}
        for f in sorted((run_dir / "data").glob("*.parquet")):
            out.setdefault(f.name.split("-")[0], []).extend(
                (r["instruction"], r["response"]) for r in pq.read_table(f).to_pylist())
        return {k: sorted(v) for k, v in out.items()}

    def rejected(run_dir: Path) -> list:
        rows = [json.loads(line) for line in (run_dir / "rejected.jsonl").read_text().splitlines()]
        return sorted((r["stage"], r["reason"], r["record"]["instruction"]) for r in rows)

    def stages(run_dir: Path) -> list:
        manifest = json.loads((run_dir / "manifest.json").read_text())
        return [(s["name"], s["in"], s["kept"], s["dropped_by_reason"]) for s in manifest["stages"]]

    assert data(streamed) == data(memory)
    assert rejected(streamed) == rejected(memory) == [
        ("decontam", "benchmark_overlap", ROWS[3]["instruction"]),
        ("dedup", "exact_duplicate", "Name a bird!"),
        ("filter:length", "length_too_short", "Name a fish.")]
    assert stages(streamed) == stages(memory)
    assert stages(memory)[2] == ("filter:length", 7, 6, {"length_too_short": 1})
    for run_dir in (memory, streamed):
        lines = (run_dir / "exports" / "messages.jsonl").read_text().splitlines()
        assert len(lines) == 4 and all(json.loads(x)["messages"][-1]["role"] == "assistant" for x in lines)
        assert (run_dir / "README.md").exists()
