"""Large runs stream: stages and the dataset writer read records from disk in chunks, and give the same
dataset, rejections and counts as the in-memory path of small runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pyarrow.parquet as pq

from synth import runner, spool
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


def run_once(tmp_path: Path, name: str, spill_rows: int, monkeypatch, base_url: str, memory_keys: int = 50_000) -> Path:
    write_jsonl(tmp_path / "bench.jsonl", [{"q": "Janet's ducks lay sixteen eggs per day and she eats three for "
                                                 "breakfast daily"}])
    write_jsonl(tmp_path / "seeds.jsonl", ROWS)
    cfg_path = write_config(tmp_path / f"{name}.yaml", name=name, recipe="instruct", seeds="seeds.jsonl",
                            sampling={"max_tokens": 16}, filters=[{"name": "length", "min_units": 2, "relative": False}],
                            dedup={"exact": True, "near": False, "fields": ["response"]},
                            decontam={"benchmarks": ["bench.jsonl:q"], "ngram": 8},
                            export={"formats": ["messages"], "split": {"test": 0.3}})
    cfg, base = load_config(cfg_path, {"engine.base_url": base_url, "engine.kind": "openai"})
    monkeypatch.setattr(runner, "SPILL_ROWS", spill_rows)
    monkeypatch.setattr(spool, "MEMORY_KEYS", memory_keys)  # 2: dedup keys and seed counts go to SQLite
    asyncio.run(runner.run(cfg, base, quiet=True))
    return tmp_path / "runs" / name


def test_the_streaming_path_writes_what_the_in_memory_path_writes(tmp_path, monkeypatch):
    with ScriptedServer(answer) as server:
        memory = run_once(tmp_path, "memory", 1_000, monkeypatch, server.base_url)
        streamed = run_once(tmp_path, "streamed", 2, monkeypatch, server.base_url, memory_keys=2)
    assert not list(streamed.glob(".stages-*")), "the spools are removed after the run"

    def data(run_dir: Path) -> dict[str, list]:
        out = {}
        for f in sorted((run_dir / "data").glob("*.parquet")):
            out.setdefault(f.name.split("-")[0], []).extend(
                (r["instruction"], r["response"]) for r in pq.read_table(f).to_pylist())
        return {k: sorted(v) for k, v in out.items()}

    def rejected(run_dir: Path) -> list:
        rows = [json.loads(line) for line in (run_dir / "rejected.jsonl").read_text().splitlines()]
        by_id = {r["id"]: r["instruction"] for r in rows_of(run_dir)}  # a duplicate names the record it copies
        return sorted((r["stage"], r["reason"], r["record"]["instruction"], by_id.get(r.get("duplicate_of")))
                      for r in rows)

    def rows_of(run_dir: Path) -> list[dict]:
        return [r for f in sorted((run_dir / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]

    def stages(run_dir: Path) -> list:
        manifest = json.loads((run_dir / "manifest.json").read_text())
        return [(s["name"], s["in"], s["kept"], s["dropped_by_reason"]) for s in manifest["stages"]]

    assert data(streamed) == data(memory)
    assert rejected(streamed) == rejected(memory) == [
        ("decontam", "benchmark_overlap", ROWS[3]["instruction"], None),
        ("dedup", "exact_duplicate", "Name a bird!", "Name a bird."),
        ("filter:length", "length_too_short", "Name a fish.", None)]
    assert stages(streamed) == stages(memory)
    statistics = [json.loads((d / "manifest.json").read_text())["statistics"] for d in (memory, streamed)]
    assert statistics[1] == statistics[0], "the card's numbers: one pass over the spool, seed counts on disk"
    assert statistics[0]["seed_coverage"]["kept_per_seed_row"] == {"0": 3, "1": 4}
    assert statistics[0]["languages"] == {"en": 2, "zh": 2}
    assert stages(memory)[2] == ("filter:length", 7, 6, {"length_too_short": 1})
    for run_dir in (memory, streamed):
        lines = (run_dir / "exports" / "messages.jsonl").read_text().splitlines()
        assert len(lines) == 4 and all(json.loads(x)["messages"][-1]["role"] == "assistant" for x in lines)
        assert (run_dir / "README.md").exists()


RIVER = ("The Nile is the longest river in Africa and flows north through eleven countries into the "
         "Mediterranean Sea near Alexandria in Egypt, passing Khartoum and Cairo on the way to the sea.")


def river_answer(kind, body):
    text = body["messages"][-1]["content"]
    if "river" in text:  # three near-copies of one answer, and one exact copy
        return RIVER + {"long": " It is long.", "great": " It is great.", "again": ""}.get(text.split()[1], "")
    return answer(kind, body)


def test_near_duplicates_are_found_on_the_streaming_path_as_in_memory(tmp_path, monkeypatch):
    rows = ROWS + [{"instruction": f"Describe {w} river."} for w in ("a", "long", "great", "again")]

    def run(name: str, spill_rows: int) -> Path:
        write_jsonl(tmp_path / "seeds.jsonl", rows)
        cfg_path = write_config(tmp_path / f"{name}.yaml", name=name, recipe="instruct", seeds="seeds.jsonl",
                                sampling={"max_tokens": 16},
                                dedup={"exact": True, "near": True, "threshold": 0.6, "fields": ["response"]})
        cfg, base = load_config(cfg_path, {"engine.base_url": server.base_url, "engine.kind": "openai"})
        monkeypatch.setattr(runner, "SPILL_ROWS", spill_rows)
        asyncio.run(runner.run(cfg, base, quiet=True))
        return tmp_path / "runs" / name

    def rejected(run_dir: Path) -> list:
        out = [json.loads(line) for line in (run_dir / "rejected.jsonl").read_text().splitlines()]
        by_id = {r["id"]: r["instruction"] for f in sorted((run_dir / "data").glob("*.parquet"))
                 for r in pq.read_table(f).to_pylist()}
        return sorted((r["reason"], r["record"]["instruction"], by_id[r["duplicate_of"]], r["similarity"] >= 0.6)
                      for r in out)

    with ScriptedServer(river_answer) as server:
        memory, streamed = run("memory", 1_000), run("streamed", 2)
    assert rejected(streamed) == rejected(memory) == [
        ("exact_duplicate", "Describe again river.", "Describe a river.", True),
        ("exact_duplicate", "Name a bird!", "Name a bird.", True),
        ("near_duplicate", "Describe great river.", "Describe a river.", True),
        ("near_duplicate", "Describe long river.", "Describe a river.", True)]
    stages = [json.loads((d / "manifest.json").read_text())["stages"] for d in (memory, streamed)]
    assert [(s["name"], s["in"], s["kept"], s["dropped_by_reason"]) for s in stages[1]] == \
        [(s["name"], s["in"], s["kept"], s["dropped_by_reason"]) for s in stages[0]]
    assert stages[0][-1]["dropped_by_reason"] == {"exact_duplicate": 2, "near_duplicate": 2}


def test_first_values_on_disk_give_back_what_was_put(tmp_path):
    values = {-2**63: "a", 0: 7, 5: None, 2**63 - 1: ["x", {"y": 1.5}], 9: 2.5, 11: True}
    with spool.FirstValues(tmp_path, memory_keys=2) as seen:
        for key, value in values.items():
            seen.put(key, value)
        assert len(list(tmp_path.glob(".keys-*.sqlite"))) == 1, "more keys than memory_keys: on disk"
        assert seen.known([*values, 1, 2]) == values
        assert seen.known([3]) == {}
    assert list(tmp_path.iterdir()) == []
