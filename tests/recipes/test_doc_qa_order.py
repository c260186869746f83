"""doc-qa's question dedup across chunks does not depend on which chunk finishes first, nor on whether
the run was resumed: the same config gives the same kept and rejected records every time."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pyarrow.parquet as pq

from synth.cli import main
from tests.conftest import write_config, write_jsonl
from tests.servers import ScriptedServer

A = "焊接前应清除坡口两侧20mm范围内的油污和铁锈。预热温度不低于120℃，焊后应立即进行消氢处理。"
B = "预热温度不低于120℃，层间温度应控制在120～250℃之间，保温时间不少于2小时。"
QUESTION = {A: "焊接前的预热温度是多少？", B: "焊接前的预热温度是多少呢？"}  # near duplicates (Jaccard > 0.7)
ANSWER = {"answer": "预热温度不低于120℃。", "evidence": ["预热温度不低于120℃"]}


def chunk_of(body: dict) -> str | None:
    prompt = body["messages"][-1]["content"]
    return next((text for text in (A, B) if text in prompt), None)


def is_questions(body: dict) -> bool:
    return "提出恰好" in body["messages"][-1]["content"]


class OrderedServer(ScriptedServer):
    """Answers chunk `first`'s question request at once and holds the other chunk's until an answer
    request for `first` has come in: the order in which the rows get their questions is forced."""

    def __init__(self, first: str) -> None:
        super().__init__(self.reply)
        self.first = first
        self.first_answered: asyncio.Event | None = None

    def reply(self, kind: str, body: dict) -> str:
        if body.get("max_tokens") == 1 or chunk_of(body) is None:
            return "ok"  # capability probes
        if is_questions(body):
            return json.dumps({"questions": [{"question": QUESTION[chunk_of(body)], "task_type": "fact"}]},
                              ensure_ascii=False)
        return json.dumps(ANSWER, ensure_ascii=False)

    async def _choices(self, kind: str, body: dict) -> list[str]:
        if self.first_answered is None:
            self.first_answered = asyncio.Event()
        chunk = chunk_of(body) if body.get("max_tokens") != 1 else None
        if chunk is not None and chunk != self.first and is_questions(body):
            try:  # bounded, so a recipe that waits for this row itself cannot hang the test
                await asyncio.wait_for(self.first_answered.wait(), 10)
            except asyncio.TimeoutError:
                pass
        if chunk == self.first and not is_questions(body):
            self.first_answered.set()
        return await super()._choices(kind, body)


def config(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "chunks.jsonl", [{"id": "weld-a", "text": A, "lang": "zh"},
                                            {"id": "weld-b", "text": B, "lang": "zh"}])
    options = {"max_questions": 1, "task_types": ["fact"], "judge": "never", "support_threshold": 0.0}
    return write_config(tmp_path / "doc-qa.yaml", name="doc-qa", recipe="doc-qa", seeds="chunks.jsonl",
                        options=options, dedup=None, sampling={"max_tokens": 128})


def synth_run(cfg: Path, url: str, out: Path, *extra: str) -> None:
    try:
        main(["run", str(cfg), "--base-url", url, "--out", str(out), "-q", *extra])
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code


def outcome(run_dir: Path) -> tuple[list[tuple], list[tuple]]:
    """(kept (chunk, question), rejected (chunk, question, reason))."""
    kept = [r for f in sorted((run_dir / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    rejected = [json.loads(line) for line in (run_dir / "rejected.jsonl").read_text().splitlines()]
    return (sorted((json.loads(r["chunk"])["id"] if isinstance(r["chunk"], str) else r["chunk"]["id"], r["question"])
                   for r in kept),
            sorted((r["record"]["chunk"]["id"], r["record"]["question"], r["reason"]) for r in rejected))


def test_the_chunk_that_finishes_first_does_not_decide_which_question_is_kept(tmp_path):
    cfg = config(tmp_path)
    results = []
    for first in (A, B):
        with OrderedServer(first) as server:
            synth_run(cfg, server.base_url, tmp_path / f"run-{len(results)}")
        results.append(outcome(tmp_path / f"run-{len(results)}"))
    (kept, rejected), (kept2, rejected2) = results
    assert len(kept) == 1 and [r[2] for r in rejected] == ["question_near_duplicate"]
    assert (kept, rejected) == (kept2, rejected2)


def test_a_resumed_run_keeps_what_an_uninterrupted_run_keeps(tmp_path):
    cfg = config(tmp_path)
    with OrderedServer(A) as server:
        synth_run(cfg, server.base_url, tmp_path / "whole")
        synth_run(cfg, server.base_url, tmp_path / "resumed", "--limit", "1")  # stopped after the first row
        synth_run(cfg, server.base_url, tmp_path / "resumed")                  # and resumed
    whole, resumed = outcome(tmp_path / "whole"), outcome(tmp_path / "resumed")
    assert [r[2] for r in whole[1]] == ["question_near_duplicate"]
    assert resumed == whole
