"""The knowledge probe (synth.knowledge_probe) behind doc-qa's `probe` option: a scripted student whose
yes/no answers have a known probability of being right per chunk, read from OpenAI-format logprobs or,
on a server without them, from sampled answers. The probe ranks the chunks in the known order, gives
the chunks the student gets wrong more questions, and the run counts each engine's requests."""

from __future__ import annotations

import json
import math

import pytest

from synth.knowledge_probe import says_true
from synth.testing import ScriptedServer, run_config
from tests.conftest import write_config, write_jsonl
from tests.recipes.test_doc_qa import CHUNKS, grounded_script, prompt_of

# chunk id -> the student's probability of answering a statement of it right
KNOWS = {"weld-1": 0.9, "leave-1": 0.6, "dose-1": 0.3}


def chunk_in(text: str) -> str | None:
    return next((c["id"] for c in CHUNKS if c["text"] in text), None)


def teacher(kind: str, body: dict) -> str:
    p = prompt_of(body)
    if '"pairs"' in p:  # the probe's statements: marked with their chunk, so the student can be scripted
        cid = chunk_in(p)
        n = 3
        return json.dumps({"pairs": [{"true": f"[{cid}] fact {i}.", "false": f"[{cid}] fact {i}, changed."}
                                     for i in range(n)]})
    return grounded_script(kind, body)


def statement_of(body: dict) -> tuple[str, bool] | None:
    p = body["messages"][-1]["content"]
    cid = next((c for c in KNOWS if f"[{c}]" in p), None)
    return (cid, "changed" not in p) if cid else None


def logprobs(kind: str, body: dict) -> dict[str, float]:
    st = statement_of(body)
    if st is None:
        return {"Hi": -0.01}
    cid, true = st
    p_yes = KNOWS[cid] if true else 1 - KNOWS[cid]
    return {"Yes": math.log(p_yes), "No": math.log(1 - p_yes), "Maybe": math.log(0.001)}


def student_text(kind: str, body: dict) -> str:
    st = statement_of(body)
    if st is None:
        return "Hi"
    cid, true = st
    right = (body["seed"] % 10) < round(10 * KNOWS[cid])  # 10 samples with consecutive seeds: exact share
    return "Yes" if right == true else "No"


def run(tmp_path, name: str, *, with_logprobs: bool):
    write_jsonl(tmp_path / "chunks.jsonl", CHUNKS)
    with ScriptedServer(teacher, model="teacher-72b") as t, \
            ScriptedServer(student_text, model="student-1b", logprobs=logprobs if with_logprobs else None) as s:
        cfg = write_config(tmp_path / f"{name}.yaml", name=name, recipe="doc-qa", seeds="chunks.jsonl",
                           engine={"base_url": t.base_url, "model": "teacher-72b"},
                           engines={"student": {"base_url": s.base_url, "model": "student-1b"}},
                           options={"chars_per_question": 10, "max_questions": 5, "dedup_threshold": None,
                                    "judge": "never",
                                    "probe": {"engine": "student", "statements": 3, "samples": 10}},
                           sampling={"max_tokens": 256}, dedup=None)
        result = run_config(cfg, tmp_path / name)
        return result, s.requests(), t.requests()


@pytest.mark.parametrize("with_logprobs", [True, False], ids=["logprobs", "accuracy"])
def test_the_probe_ranks_chunks_by_what_the_student_gets_wrong_and_weights_questions(tmp_path, with_logprobs):
    result, at_student, at_teacher = run(tmp_path, "probe", with_logprobs=with_logprobs)
    cov = result.manifest["coverage"]
    assert list(cov["student_loss_by_chunk"]) == ["dose-1", "leave-1", "weld-1"]  # knows least first
    method = "logprobs" if with_logprobs else "accuracy"
    assert cov["student_probe_method"] == method
    expected = {cid: round(-math.log(p), 4) if with_logprobs else round(1 - p, 4) for cid, p in KNOWS.items()}
    assert cov["student_loss_by_chunk"] == pytest.approx(expected, abs=1e-3)
    # questions: 5 at most, times min(1, 2 * error): weld 0.1 -> 1, leave 0.4 -> 4, dose 0.7 -> 5
    assert cov["student_questions_by_chunk"] == {"dose-1": 5, "leave-1": 4, "weld-1": 1}
    asked = {}
    for body in at_teacher:
        if "exactly" in prompt_of(body) or "恰好" in prompt_of(body):
            asked.setdefault(chunk_in(prompt_of(body)), []).append(body)
    assert {cid: len(bodies) >= 1 for cid, bodies in asked.items()} == dict.fromkeys(KNOWS, True)
    rows = {}
    for r in result.kept:
        rows[r["chunk"]["id"]] = rows.get(r["chunk"]["id"], 0) + 1
        assert r["probe"]["method"] == method and r["probe"]["statements"] == 6
    assert rows["dose-1"] > rows["weld-1"]

    asks = [b for b in at_student if statement_of(b)]
    if with_logprobs:  # one greedy yes/no request per statement, logprobs asked for
        assert len(asks) == 3 * 6 and all(b["logprobs"] is True and b["top_logprobs"] == 5 for b in asks)
    else:  # the server gave none: 10 sampled answers per statement
        assert len(asks) == 3 * 6 * 10 and not any(b.get("top_logprobs") for b in asks)
    by_engine = result.manifest["requests_by_engine"]
    assert by_engine["student"]["sent"] == len(at_student) and by_engine["default"]["sent"] == len(at_teacher)
    assert result.manifest["engines"]["student"]["used_by"] == ["recipe:doc-qa"]
    card = (result.dir / "README.md").read_text(encoding="utf-8")
    assert "| student_loss_by_chunk | value |" in card and f"student_probe_method: {method}" in card


def test_a_rerun_probes_from_the_cache(tmp_path):
    first, at_first, _ = run(tmp_path, "again", with_logprobs=True)
    n = len([b for b in at_first if statement_of(b)])
    assert n == 18
    # the same run directory with new servers: every probe answer comes from the run's cache
    second, at_second, _ = run(tmp_path, "again", with_logprobs=True)
    assert not [b for b in at_second if statement_of(b)]
    assert second.manifest["coverage"]["student_loss_by_chunk"] == first.manifest["coverage"]["student_loss_by_chunk"]


def test_sampled_answers_read_as_yes_or_no():
    assert [says_true(t) for t in ("Yes.", "no", "是的", "否", "不对", "Maybe")] == [True, False, True, False,
                                                                                  False, None]


def test_yes_no_logprobs_from_the_real_embedded_server(llm_server, tmp_path):
    """llama.cpp's server answers chat logprobs in OpenAI's format: parsed into Completion.logprobs, the
    request keyed with them in the cache (a second ask is a hit), read as P(yes) by the probe."""
    import asyncio

    from synth.engines.base import Sampling
    from synth.engines.openai_http import OpenAIEngine
    from synth.knowledge_probe import p_true_from_logprobs
    from synth.llm import LLM
    from synth.store import RunStore

    async def ask(tmp):
        async with OpenAIEngine(llm_server) as engine:
            store = RunStore(tmp, "f")
            try:
                llm = LLM(engine, store, Sampling(temperature=0.0, max_tokens=1))
                assert await llm.supports_logprobs()
                messages = [{"role": "user", "content": "Is Paris the capital of France? Answer yes or no."}]
                (first,) = await llm.chat(messages, top_logprobs=5)
                (again,) = await llm.chat(messages, top_logprobs=5)
                (plain,) = await llm.chat(messages)
                return first, again, plain, llm.cache_stats
            finally:
                store.close()

    first, again, plain, stats = asyncio.run(ask(tmp_path))
    top = first.logprobs[0]["top"]
    assert len(top) == 5 and all(lp <= 0 for lp in top.values()) and first.logprobs[0]["token"] in top
    assert again.cached and again.logprobs == first.logprobs
    assert plain.logprobs is None and not plain.cached  # without logprobs: another request, another cache entry
    assert (stats.hits, stats.misses) == (1, 2)
    p = p_true_from_logprobs(top)
    assert p is None or 0 <= p <= 1
