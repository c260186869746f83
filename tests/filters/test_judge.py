"""The LLM judge against a scripted server: scores parsed, thresholds, retries, rejections, cache, manifest."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from synth.cli import main
from synth.engines.base import Sampling
from synth.engines.openai_http import OpenAIEngine
from synth.filter import make_filter
from synth.llm import LLM
from synth.stages import FilterStage, run_stages_async
from synth.store import RunStore
from tests.conftest import write_config, write_jsonl
from tests.servers import ScriptedServer

GOOD = {"rationale": "Correct and complete.", "score": 9}
BAD = {"rationale": "Wrong number.", "score": 2}


def chat(question: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}


def is_judge(body: dict) -> bool:
    system = body["messages"][0]["content"] if body.get("messages") else ""
    return "judge" in system or "评审" in system


def judge_reply(body: dict) -> str:
    """What the scripted judge says, picked from the response it is shown."""
    item = body["messages"][-1]["content"]
    if "broken" in item:
        return "I would rate this answer quite highly overall."  # never JSON
    if "flaky" in item:  # garbage greedily; JSON once the retry samples (a seed alone changes nothing at 0)
        return json.dumps({"rationale": "Fine on a second look.", "score": 7}) if body["temperature"] > 0 else "{{"
    if "repairable" in item:
        return 'Sure! ```json\n{"rationale": "Mostly right", "score": 6,}\n```'
    if "pass-fail" in body["messages"][0]["content"] or '"verdict"' in body["messages"][0]["content"]:
        return json.dumps({"rationale": "ok", "verdict": "fail" if "wrong" in item else "pass"})
    return json.dumps(BAD if "wrong" in item or "错误" in item else GOOD, ensure_ascii=False)


def script(kind: str, body: dict) -> str:
    if body.get("max_tokens") == 1:
        return "ok"  # capability probes
    return judge_reply(body) if is_judge(body) else "A generated answer to the question."


def judge_requests(server) -> list[dict]:
    return [b for b in server.requests("chat") if b.get("max_tokens") != 1 and is_judge(b)]


def synth(*args: str) -> None:
    """`synth ARGS` in this process (the scripted server lives in a thread here); fails unless it exits 0."""
    try:
        main(list(args))
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code


def run_judge(server, records, options, store_dir: Path):
    async def go():
        async with OpenAIEngine(server.base_url, max_retries=0) as engine:
            store = RunStore(store_dir, "t")
            try:
                llm = LLM(engine, store, Sampling(max_tokens=64), run_seed=0)
                stage = FilterStage(make_filter("judge", options))
                result = await run_stages_async([stage], records, llm=llm, concurrency=3)
                return (*result, llm)
            finally:
                store.close()

    return asyncio.run(go())


RECORDS = [chat("What is 2 + 2?", "4, a good answer."), chat("2 + 2 等于几？", "等于 4。"),
           chat("What is 3 + 3?", "7, a wrong answer."), chat("Q?", "A broken one."), chat("Q?", "A flaky one."),
           chat("Q?", "A repairable one.")]


def test_scores_thresholds_retries_and_unparseable_rows(tmp_path):
    with ScriptedServer(script) as server:
        kept, rejected, reports, llm = run_judge(server, RECORDS, {"threshold": 5}, tmp_path / "cache")
        asked = judge_requests(server)
    assert [r["scores"]["judge"] for r in kept] == [9.0, 9.0, 7.0, 6.0]
    assert kept[0]["scores"]["judge_rationale"] == "Correct and complete."
    assert [(r["reason"], r["record"]["scores"]["judge"]) for r in rejected] == [
        ("judge_below_threshold", 2.0), ("judge_unparseable", None)]
    assert rejected[1]["detail"].startswith("no valid JSON after 3 answers")
    # one request per row, three for the row that never parses, two for the flaky one
    assert len(asked) == 6 + 2 + 1
    zh = [b for b in asked if "等于 4" in b["messages"][-1]["content"]][0]
    assert "评审" in zh["messages"][0]["content"] and "【回答】\n等于 4。" in zh["messages"][1]["content"]
    en = [b for b in asked if "good answer" in b["messages"][-1]["content"]][0]
    assert en["temperature"] == 0.0 and "[Response]\n4, a good answer." in en["messages"][1]["content"]
    summary = reports[0].as_dict()["scores"]["judge"]
    assert summary["histogram"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0, "6": 1, "7": 1, "8": 0, "9": 2, "10": 0}
    assert (summary["n"], summary["unscored"], summary["mean"]) == (5, 1, round((9 + 9 + 2 + 7 + 6) / 5, 3))
    assert llm.structured["failed"] == 1 and llm.structured["repaired"] == 1 and llm.structured["retries"] == 3


def test_score_only_keeps_everything_and_a_rerun_asks_nothing(tmp_path):
    options = {"on_error": "keep"}  # no threshold: a score, not a filter
    with ScriptedServer(script) as server:
        kept, rejected, _, _ = run_judge(server, RECORDS, options, tmp_path / "cache")
        first = len(judge_requests(server))
        again, _, _, llm = run_judge(server, RECORDS, options, tmp_path / "cache")
        second = len(judge_requests(server))
    assert not rejected and [r["scores"]["judge"] for r in kept] == [9.0, 9.0, 2.0, None, 7.0, 6.0]
    assert second == first and llm.cache_stats.misses == 0  # answered from the request cache
    assert [r["scores"] for r in again] == [r["scores"] for r in kept]


def test_pass_fail_scale(tmp_path):
    records = [chat("Q?", "right"), chat("Q?", "wrong")]
    with ScriptedServer(script) as server:
        kept, rejected, reports, _ = run_judge(server, records, {"scale": "pass-fail", "threshold": 1},
                                               tmp_path / "cache")
    assert [r["scores"]["judge"] for r in kept] == [1.0] and rejected[0]["reason"] == "judge_below_threshold"
    assert reports[0].as_dict()["scores"]["judge"]["histogram"] == {"0": 1, "1": 1}


def test_synth_filter_with_the_judge_over_http(tmp_path, capsys):
    write_jsonl(tmp_path / "in.jsonl", [{"instruction": "What is 2 + 2?", "output": "4, a good answer."},
                                        {"instruction": "What is 3 + 3?", "output": "7, a wrong answer."}])
    args = ["filter", "in.jsonl", "--out", "out.jsonl", "--filter", "length", "--filter", "judge:threshold=5",
            "--base-url", "", "--model", "scripted", "--quiet"]
    with ScriptedServer(script) as server:
        args[args.index("--base-url") + 1] = server.base_url
        synth(*args)
        asked = len(judge_requests(server))
        synth(*args)  # same command again: the cache beside OUT answers
        assert len(judge_requests(server)) == asked == 2
    kept = [json.loads(line) for line in Path("out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["scores"]["judge"] for r in kept] == [9.0] and kept[0]["scores"]["length"] == 4
    report = json.loads(Path("out.report.json").read_text(encoding="utf-8"))
    judge = report["stages"][1]
    assert (judge["name"], judge["in"], judge["kept"], judge["dropped_by_reason"]) == (
        "filter:judge", 2, 1, {"judge_below_threshold": 1})
    assert judge["scores"]["judge"]["histogram"]["9"] == 1 and Path("out.cache/cache.sqlite").exists()


def test_synth_run_judges_with_the_runs_engine_and_reports_the_distribution(tmp_path, capsys):
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": "What is 2 + 2?"}, {"instruction": "2 + 2 等于几？"}])
    with ScriptedServer(script) as server:
        cfg = write_config(tmp_path / "run.yaml", name="judged", recipe="instruct", seeds="seeds.jsonl",
                           engine={"base_url": server.base_url, "model": "scripted"}, dedup=None,
                           sampling={"max_tokens": 32}, filters=["length", {"name": "judge", "threshold": 5}])
        synth("run", str(cfg), "--quiet")
        asked = len(judge_requests(server))
        synth("run", str(cfg), "--quiet")  # re-run: generation and judgements come from cache.sqlite
        assert len(judge_requests(server)) == asked == 2
    manifest = json.loads(Path("runs/judged/manifest.json").read_text(encoding="utf-8"))
    stage = {s["name"]: s for s in manifest["stages"]}["filter:judge"]
    assert (stage["in"], stage["kept"]) == (2, 2) and stage["scores"]["judge"]["histogram"]["9"] == 2
    import pyarrow.parquet as pq

    table = pq.read_table(sorted(Path("runs/judged/data").rglob("*.parquet"))[0])
    scores = table.column("scores").to_pylist()
    assert [s["judge"] for s in scores] == [9.0, 9.0] and all(s["length"] > 0 for s in scores)
    card = Path("runs/judged/README.md").read_text(encoding="utf-8")
    assert "Scores `judge` (filter:judge, 1-10): mean 9.0 over 2 rows (0 unscored)" in card
    assert "9: 2" in card


# -- a judge request the server refuses is that row's outcome, not the stage's end --------------------------
OVERFLOW = "This model's maximum context length is 2048 tokens. However, you requested 4100 tokens."


def too_long(kind: str, body: dict) -> str | None:
    """The judge's context overflows on the row with a very long item (HTTP 400, as vLLM says it)."""
    return OVERFLOW if is_judge(body) and "very long" in body["messages"][-1]["content"] else None


ONE_TOO_LONG = [chat("What is 2 + 2?", "4, a good answer."), chat("Q?", "A very long answer."),
                chat("What is 3 + 3?", "7, a wrong answer.")]


def refused(server) -> list[dict]:
    return [e["body"] for e in server.log if e.get("status") == 400]


def test_a_refused_judge_request_rejects_that_row_as_judge_failed(tmp_path):
    with ScriptedServer(script, refuse=too_long) as server:
        kept, rejected, reports, _ = run_judge(server, ONE_TOO_LONG, {"threshold": 5}, tmp_path / "cache")
        assert len(refused(server)) == 1  # a 400 is not retried, and the other rows were still judged
    assert [r["scores"]["judge"] for r in kept] == [9.0]
    assert [(r["reason"], r["record"]["scores"]["judge"]) for r in rejected] == [
        ("judge_failed", None), ("judge_below_threshold", 2.0)]
    assert "maximum context length" in rejected[0]["detail"]
    report = reports[0].as_dict()
    assert (report["in"], report["kept"], report["failed_requests"]) == (3, 1, 1)
    assert report["dropped_by_reason"] == {"judge_failed": 1, "judge_below_threshold": 1}


def test_on_error_keep_keeps_a_row_whose_judge_request_failed_unscored(tmp_path):
    with ScriptedServer(script, refuse=too_long) as server:
        kept, rejected, reports, _ = run_judge(server, ONE_TOO_LONG, {"on_error": "keep"}, tmp_path / "cache")
    assert not rejected and [r["scores"]["judge"] for r in kept] == [9.0, None, 2.0]
    report = reports[0].as_dict()
    assert report["failed_requests"] == 1 and report["scores"]["judge"]["unscored"] == 1


def test_a_refused_judge_request_on_the_streaming_path(tmp_path):
    from synth.stages import run_stages_spooled

    async def go(server):
        async with OpenAIEngine(server.base_url, max_retries=0) as engine:
            llm = LLM(engine, None, Sampling(max_tokens=64), run_seed=0)
            stage = FilterStage(make_filter("judge", {"threshold": 5}))
            return await run_stages_spooled([stage], ONE_TOO_LONG * 2, tmp_path / "spool", llm=llm, chunk_size=2)

    with ScriptedServer(script, refuse=too_long) as server:
        kept, rejected, (report,) = asyncio.run(go(server))
    assert [r["scores"]["judge"] for r in kept] == [9.0, 9.0]
    assert sorted(r["reason"] for r in rejected) == ["judge_below_threshold"] * 2 + ["judge_failed"] * 2
    assert report.as_dict()["failed_requests"] == 2 and report.dropped["judge_failed"] == 2


def test_synth_run_finishes_when_a_judge_request_is_refused_and_so_does_its_rerun(tmp_path):
    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": "What is 2 + 2?"}, {"instruction": "A very long question?"}])
    with ScriptedServer(script, refuse=too_long) as server:
        cfg = write_config(tmp_path / "run.yaml", name="judged", recipe="instruct", seeds="seeds.jsonl",
                           engine={"base_url": server.base_url, "model": "scripted"}, dedup=None,
                           sampling={"max_tokens": 32}, filters=[{"name": "judge", "threshold": 5}])
        for attempt in (1, 2):  # the re-run asks the refused request again, and finishes the same way
            synth("run", str(cfg), "--quiet")
            assert len(refused(server)) == attempt
    manifest = json.loads(Path("runs/judged/manifest.json").read_text(encoding="utf-8"))
    stage = {s["name"]: s for s in manifest["stages"]}["filter:judge"]
    assert (stage["in"], stage["kept"], stage["dropped_by_reason"]) == (2, 1, {"judge_failed": 1})
    lines = Path("runs/judged/rejected.jsonl").read_text(encoding="utf-8").splitlines()
    rejected = [json.loads(line) for line in lines]
    assert [(r["reason"], "maximum context length" in r["detail"]) for r in rejected] == [("judge_failed", True)]
    assert sorted(Path("runs/judged/data").rglob("*.parquet"))


def test_synth_run_on_a_server_without_response_format_judges_and_counts_every_request(tmp_path):
    def no_response_format(kind, body):
        return "response_format is not supported" if "response_format" in body else None

    write_jsonl(tmp_path / "seeds.jsonl", [{"instruction": f"What is {i} + {i}?"} for i in range(4)])
    with ScriptedServer(script, refuse=no_response_format) as server:
        cfg = write_config(tmp_path / "run.yaml", name="judged", recipe="instruct", seeds="seeds.jsonl",
                           engine={"base_url": server.base_url, "model": "scripted"}, dedup=None,
                           sampling={"max_tokens": 32}, filters=[{"name": "judge", "threshold": 5}])
        synth("run", str(cfg), "--quiet")
        seen = len(server.log)
    manifest = json.loads(Path("runs/judged/manifest.json").read_text(encoding="utf-8"))
    stage = {s["name"]: s for s in manifest["stages"]}["filter:judge"]
    assert (stage["in"], stage["kept"], stage["dropped_by_reason"]) == (4, 4, {})
    assert manifest["engine"]["json_schema"] == "none"  # the schema went in the prompt
    # 4 answers + 4 judgements + the n probe + two schema probes, once: all in the manifest
    assert manifest["requests"]["sent"] == seen == 4 + 4 + 1 + 2
