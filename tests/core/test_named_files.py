"""Every file a run config names is checked before the first request: decontamination benchmarks,
filter option files, recipe path options and seeds. A bad one stops the run with one line naming it,
exit code 2, no request sent and nothing written. Benchmarks are read once per run, also when the
stages stream the records chunk by chunk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import cli_in_process, write_config, write_jsonl
from tests.servers import ScriptedServer

QUESTION = "Natalia sold clips to 48 of her friends in April and then she sold half as many clips in May"


def base_config(tmp_path: Path, **fields) -> Path:
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": "Say hi."}, {"instruction": "Say bye."}])
    write_jsonl(tmp_path / "bench.jsonl", [{"question": QUESTION}])
    base = dict(name="named", recipe="instruct", seeds="seeds.jsonl", dedup=None, sampling={"max_tokens": 8})
    return write_config(tmp_path / "run.yaml", **{**base, **fields})


BAD_FILES = {  # config fields naming a file that is bad, and the file name the error line must give
    "decontam benchmark missing": (dict(decontam={"benchmarks": ["missing.jsonl:question"]}), "missing.jsonl"),
    "decontam benchmark empty": (dict(decontam={"benchmarks": ["empty.jsonl"]}), "empty.jsonl"),
    "decontam benchmark without the field": (dict(decontam={"benchmarks": ["bench.jsonl:nope"]}), "nope"),
    "decontam benchmark a directory": (dict(decontam={"benchmarks": ["folder.jsonl"]}), "folder.jsonl"),
    "blocklist missing": (dict(filters=[{"name": "blocklist", "path": "missing.txt"}]), "missing.txt"),
    "blocklist a directory": (dict(filters=[{"name": "blocklist", "path": "folder.jsonl"}]), "folder.jsonl"),
    "recipe path option missing": (dict(recipe="problem-augment", seeds="problems.jsonl",
                                        options={"benchmarks": ["missing.jsonl:question"]}), "missing.jsonl"),
    "seeds missing": (dict(seeds="missing.jsonl"), "missing.jsonl"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_named_file_stops_the_run_before_any_request(tmp_path, capsys, case):
    fields, needle = BAD_FILES[case]
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "folder.jsonl").mkdir()
    write_jsonl(tmp_path / "problems.jsonl", [{"problem": "What is 2 + 3?", "answer": "5"}])
    cfg = base_config(tmp_path, **fields)
    with ScriptedServer(lambda kind, body: "Hi.") as server:
        code, _, err = cli_in_process(capsys, "run", str(cfg), "--base-url", server.base_url, "--model", "scripted",
                                      "-q")
        sent = server.requests()  # chat and completion requests (the model list is not logged)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert needle in lines[0], lines[0]
    assert sent == [], f"{len(sent)} requests sent before the bad file was noticed"
    assert not Path("runs").exists()


def test_streamed_decontam_reads_each_benchmark_once(tmp_path, monkeypatch):
    """The streaming path runs the stages once per chunk; the benchmark table is built once, up front."""
    from synth.dedup import DecontamConfig, decontam
    from synth.stages import DedupStage, run_stages_spooled

    write_jsonl(tmp_path / "bench.jsonl", [{"question": QUESTION}])
    reads = []
    real = decontam.load_benchmark
    monkeypatch.setattr(decontam, "load_benchmark", lambda *a, **kw: reads.append(a[0]) or real(*a, **kw))
    stage = DedupStage(DecontamConfig(benchmarks=[str(tmp_path / "bench.jsonl:question")], ngram=8), decontam=True)
    records = [{"id": f"r{i}", "response": f"Answer number {i} about something else entirely"} for i in range(25)]
    records[17]["response"] = f"As the problem says: {QUESTION}."
    kept, rejected, reports = asyncio.run(run_stages_spooled([stage], iter(records), tmp_path / "spool",
                                                             chunk_size=5))
    assert len(reads) == 1, f"benchmark read {len(reads)} times for {len(records) // 5} chunks"
    assert [r["record"]["id"] for r in rejected] == ["r17"]
    assert (reports[0].n_in, reports[0].n_kept) == (25, 24)
