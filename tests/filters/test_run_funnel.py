"""A real `synth run` on the embedded model with every text filter: the funnel adds up, rejects carry reasons."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from synth.cli import main
from tests.conftest import write_config, write_jsonl

FILTERS = ["truncation", "length", "refusal", "template-leak", "lang-match", "repetition",
           {"name": "blocklist", "terms": ["Acme Corp"]}]


def test_funnel_of_a_real_run(tmp_path, llm_server):
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": "Name a colour."}, {"instruction": "说出一种颜色。"},
                                           {"instruction": "Name a fruit."}])
    cfg = write_config(tmp_path / "run.yaml", name="funnel", recipe="instruct", seeds="seeds.jsonl", dedup=None,
                       options={"samples": 2}, engine={"base_url": llm_server, "model": "smollm2-135m-instruct"},
                       sampling={"max_tokens": 24, "temperature": 0.8}, filters=FILTERS)
    try:
        main(["run", str(cfg), "--quiet"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    root = Path("runs/funnel")
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    stages = manifest["stages"]
    names = [s["name"] for s in stages]
    assert names[:2] == ["generate", "recipe:instruct"]
    assert names[2:] == [f"filter:{f if isinstance(f, str) else f['name']}" for f in FILTERS]
    assert stages[0]["kept"] == 6
    for before, after in zip(stages[1:], stages[2:]):  # each stage starts with what the last one kept
        assert after["in"] == before["kept"] and after["in"] == after["kept"] + after["dropped"]
    rejected = [json.loads(line) for line in (root / "rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    by_stage = Counter((r["stage"], r["reason"]) for r in rejected)
    assert by_stage == Counter({(s["name"], reason): n for s in stages[1:]
                                for reason, n in s["dropped_by_reason"].items()})
    assert manifest["outputs"]["kept"] == stages[-1]["kept"]
    assert stages[names.index("filter:length")]["scores"]["length"]["n"] == stages[names.index("filter:length")]["in"]
    if stages[-1]["kept"]:
        import pyarrow.parquet as pq

        scores = pq.read_table(sorted((root / "data").rglob("*.parquet"))[0]).column("scores").to_pylist()
        assert {tuple(sorted(s)) for s in scores} == {("language", "length", "repetition")}
