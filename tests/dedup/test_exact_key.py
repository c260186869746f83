"""One exact-dedup key (synth.dedup.exact): the shingler, the exact-only stage in memory and streamed,
and dedup_rows all compute it and keep the same records (issue 20 item 1)."""

from __future__ import annotations

import asyncio

from synth.dedup import DedupConfig, dedup_rows
from synth.dedup.exact import exact_hashes
from synth.dedup.signatures import sketch
from synth.stages import DedupStage, run_stages, run_stages_spooled
from synth.stages.dedup import text_keys

TEXTS = ["Hello, World", "hello   world!", "ＨＥＬＬＯ ｗｏｒｌｄ", "world hello", "指数基金是什么？", "指数 基金 是 什么",
         "指数基金是什么", "東京スカイツリー", "", "   ...   ", "GDP增长5%", "gdp 增长 5", "Straße", "STRASSE"]


def test_every_path_computes_the_same_key():
    keys = exact_hashes(TEXTS)
    sketched, _ = sketch(TEXTS, num_perm=16, workers=1)
    assert keys.tolist() == sketched.tolist()
    assert keys.tolist() == text_keys([{"t": t} for t in TEXTS], ["t"]).tolist()
    equal = {(i, j) for i in range(len(TEXTS)) for j in range(len(TEXTS)) if keys[i] == keys[j] and i < j}
    assert {(0, 1), (0, 2), (4, 5), (4, 6), (8, 9), (10, 11), (12, 13)} <= equal
    assert (0, 3) not in equal  # order matters


def test_in_memory_streamed_and_dedup_rows_keep_the_same_records(tmp_path):
    records = [{"id": f"r{i}", "text": t} for i, t in enumerate(TEXTS * 3)]
    config = DedupConfig(exact=True, near=False)
    in_memory, _, _ = run_stages([DedupStage(config)], records)
    streamed, _, _ = asyncio.run(run_stages_spooled([DedupStage(config)], iter(records), tmp_path / "spool",
                                                    chunk_size=4))
    by_rows = dedup_rows(records, DedupConfig(exact=True, near=True, threshold=0.99)).kept
    ids = [r["id"] for r in in_memory]
    assert ids == [r["id"] for r in streamed] == [r["id"] for r in by_rows]
    assert len(ids) == len(set(exact_hashes(TEXTS).tolist()))
