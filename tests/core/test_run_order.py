"""What a run keeps does not depend on which row finished first: records reach the stages in seed
order, so dedup (which keeps the first record of each text) keeps the same one every time, on the
in-memory path and on the streaming one."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from synth.cli import main
from tests.conftest import write_config, write_jsonl
from tests.servers import ScriptedServer

ROWS = ["Name a colour.", "Name a color, please.", "Name a shade."]
SAME = "Blue."  # every row gets this answer: exact duplicates by `response`


def row_of(body: dict) -> str | None:
    prompt = json.dumps(body.get("messages") or [], ensure_ascii=False)
    return next((r for r in ROWS if r in prompt), None)


class ReversedServer(ScriptedServer):
    """Holds each row's request until the row after it (in seed order) has been answered, so the rows
    finish last to first."""

    def __init__(self) -> None:
        super().__init__(lambda kind, body: SAME)
        self.answered: dict[str, asyncio.Event] = {}
        self.finished: list[str] = []

    async def _choices(self, kind: str, body: dict) -> list[str]:
        for r in ROWS:
            self.answered.setdefault(r, asyncio.Event())
        row = row_of(body)
        if row is not None and ROWS.index(row) + 1 < len(ROWS):
            try:  # bounded: a run that asks one row at a time must not hang the test
                await asyncio.wait_for(self.answered[ROWS[ROWS.index(row) + 1]].wait(), 10)
            except asyncio.TimeoutError:
                pass
        out = await super()._choices(kind, body)
        if row is not None:
            self.finished.append(row)
            self.answered[row].set()
        return out


def run(tmp_path: Path, server: ScriptedServer, name: str) -> tuple[list[str], list[str]]:
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": r} for r in ROWS])
    cfg = write_config(tmp_path / f"{name}.yaml", name=name, recipe="instruct", seeds="seeds.jsonl",
                       dedup={"fields": ["response"]}, engine={"max_in_flight": 4}, sampling={"max_tokens": 8})
    out = tmp_path / name
    try:
        main(["run", str(cfg), "--base-url", server.base_url, "--out", str(out), "-q"])
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code
    kept = [r["instruction"] for f in sorted((out / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    rejected = [json.loads(line)["record"]["instruction"] for line in (out / "rejected.jsonl").read_text().splitlines()]
    return kept, rejected


@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "streamed"])
def test_dedup_keeps_the_first_seed_rows_record_whichever_row_finishes_first(tmp_path, monkeypatch, streamed):
    if streamed:
        monkeypatch.setattr("synth.runner.SPILL_ROWS", 1)  # stream these three rows as a large run would
    with ReversedServer() as server:
        kept, rejected = run(tmp_path, server, "reversed")
    assert server.finished == ROWS[::-1], "the rows finished last to first"
    assert len(kept) == 1 and ROWS[0] in kept[0], (kept, "the first seed row's record survives")
    assert sorted(ROWS.index(next(r for r in ROWS if r in x)) for x in rejected) == [1, 2]
