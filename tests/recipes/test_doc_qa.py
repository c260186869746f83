"""`doc-qa`: exact question counts, standalone rewrite/reject, question dedup before any answer is paid
for, grounding verdicts, RAFT layout and coverage, on a scripted server whose answers we choose; then
the real embedded model end to end (structure and provenance only: the toy model writes nonsense)."""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path

import pytest

from synth.errors import ConfigError, InputError
from synth.recipes.doc_qa import questions as q
from synth.recipes.doc_qa import raft
from synth.recipes.doc_qa.recipe import DocQARecipe
from tests.conftest import EXAMPLES, synth_cli, write_jsonl
from tests.recipes.helpers import run_recipe, sent
from tests.servers import ScriptedServer

WELD = ("5.3 焊接工艺要求\n焊接前应清除坡口两侧20mm范围内的油污、铁锈和水分。预热温度不低于120℃，层间温度应控制在\n"
        "120～250℃之间。焊后应立即进行消氢处理，加热温度为300～350℃，保温时间不少于2小时。")
LEAVE = "员工累计工作已满1年不满10年的，年休假5天；已满10年不满20年的，年休假10天；已满20年的，年休假15天。"
DOSE = ("The usual starting dose of metformin is 500 mg orally twice daily, given with meals. "
        "The dose may be increased by 500 mg weekly, up to a maximum of 2,550 mg per day.")
CHUNKS = [
    {"id": "weld-1", "source": "docs/weld.md", "doc_id": "weld", "headings": ["第五章 焊接", "5.3 焊接工艺要求"],
     "start": 100, "end": 100 + len(WELD), "text": WELD, "lang": "zh"},
    {"id": "leave-1", "source": "docs/hr.md", "doc_id": "hr", "headings": ["年休假"], "start": 0, "end": len(LEAVE),
     "text": LEAVE, "lang": "zh"},
    {"id": "dose-1", "source": "docs/label.txt", "doc_id": "label", "headings": [], "start": 40,
     "end": 40 + len(DOSE), "text": DOSE, "lang": "en"},
]


def prompt_of(body: dict) -> str:
    """The last message as the recipe wrote it (without the schema note a server without
    response_format gets appended, synth.engines.probing.schema_in_prompt)."""
    return body["messages"][-1]["content"].split("\n\nReply with one JSON object", 1)[0]


def kind_of(body: dict) -> str:
    p = prompt_of(body)
    if "提出恰好" in p or "write exactly" in p:
        return "questions"
    if "改写成一个独立" in p or "rewrite it as one self-contained" in p:
        return "rewrite"
    if "是否完全由资料支持" in p or "fully supported by the text" in p:
        return "judge"
    if "请只根据下面的资料回答问题" in p or "Answer the question using only" in p:
        return "answer"
    return "probe"


def question_in(body: dict) -> str:
    return prompt_of(body).rsplit("问题：", 1)[-1].rsplit("Question: ", 1)[-1].strip()


class Script:
    """Answers by request kind; `questions` maps chunk text -> list of question lists (one per ask)."""

    def __init__(self, questions: dict[str, list[list]], answers: dict[str, dict], judge=None, rewrite=None):
        self.questions, self.answers, self.judge, self.rewrite = questions, answers, judge or {}, rewrite or {}
        self.asks: dict[str, int] = {}

    def __call__(self, kind: str, body: dict) -> str:
        k = kind_of(body)
        if k == "questions":
            text = next(t for t in self.questions if t in prompt_of(body))
            i = self.asks[text] = self.asks.get(text, -1) + 1
            lists = self.questions[text]
            return json.dumps({"questions": lists[min(i, len(lists) - 1)]}, ensure_ascii=False)
        if k == "answer":
            return json.dumps(self.answers[question_in(body)], ensure_ascii=False)
        if k == "judge":
            return json.dumps(self.judge[prompt_of(body).split("回答：")[-1].split("Answer: ")[-1].split("\n")[0]],
                              ensure_ascii=False)
        if k == "rewrite":
            return self.rewrite[question_in(body)]
        return "ok"


def items(*questions: str, kind: str | None = None) -> list[dict]:
    return [{"question": x, "task_type": kind} for x in questions]


def run(options: dict, script: Script, rows=CHUNKS[:1], *, pool_file=None):
    recipe = DocQARecipe({"max_questions": 2, **options})
    if pool_file is not None:
        recipe.read_seeds(pool_file)
    with ScriptedServer(script) as server:
        records = run_recipe(recipe, list(rows), server.base_url, max_tokens=256)
        return records, [k for b in sent(server) if (k := kind_of(b)) != "probe"], recipe


# -- pure parts ------------------------------------------------------------------------------------
def test_doctests_of_the_recipe_modules():
    for module in (q, raft):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_question_count_follows_length_and_cap():
    assert [q.question_count("字" * n, 300, 4) for n in (1, 300, 301, 900, 5000)] == [1, 1, 2, 3, 4]
    assert q.question_count("  \n" * 500 + "字", 300, 4) == 1  # whitespace does not count


def test_bad_options_name_the_field():
    with pytest.raises(ConfigError, match="options.judge"):
        DocQARecipe({"judge": "sometimes"})
    with pytest.raises(ConfigError, match="options.raft.oracle_probability"):
        DocQARecipe({"raft": {"oracle_probability": 2}})


def test_seeds_from_documents_a_glob_or_a_chunks_table(tmp_path):
    docs = tmp_path / "kb"
    docs.mkdir()
    (docs / "weld.md").write_text("# 焊接工艺\n\n" + WELD, encoding="utf-8")
    (docs / "label.txt").write_text(DOSE, encoding="utf-8")
    recipe = DocQARecipe({"chunk_size": 80})
    rows = recipe.read_seeds(docs)
    # sources are named inside the document folder: provenance does not leak where it sits on disk,
    # and moving the folder keeps the same chunk ids (so a run's cache and done rows still apply)
    assert {r["source"] for r in rows} == {"weld.md", "label.txt"} and len(rows) >= 3
    moved = tmp_path / "elsewhere" / "kb"
    moved.parent.mkdir()
    import shutil

    shutil.copytree(docs, moved)
    assert [r["id"] for r in DocQARecipe({"chunk_size": 80}).read_seeds(moved)] == [r["id"] for r in rows]
    for r in rows:
        text = (docs / Path(r["source"]).name).read_text(encoding="utf-8")
        assert text[r["start"]:r["end"]] == r["text"] and r["id"] and r["lang"] in ("zh", "en")
    assert len(recipe.pool) == len(rows)
    assert [r["id"] for r in recipe.read_seeds(docs / "*.md")] == [r["id"] for r in rows if r["source"].endswith(".md")]
    table = write_jsonl(tmp_path / "chunks.jsonl", CHUNKS)
    assert recipe.read_seeds(table) == CHUNKS and sorted(recipe.pool.by_id) == sorted(c["id"] for c in CHUNKS)
    with pytest.raises(InputError, match="not found"):
        recipe.read_seeds(tmp_path / "missing.jsonl")
    with pytest.raises(InputError, match="nothing could be ingested"):
        recipe.read_seeds(tmp_path / "nothing-*.pdf")


# -- grounding verdicts --------------------------------------------------------------------------
PREHEAT = "Q345R钢板焊接前的预热温度有什么要求？"


def test_supported_answer_is_kept_with_quote_offsets_and_reasoning_apart():
    answer = {"answer": "预热温度不低于120℃，层间温度应控制在120～250℃之间。",
              "evidence": ["预热温度不低于１２０℃，层间温度应控制在120～250℃之间"]}  # full width, PDF break
    script = Script({WELD: [items(PREHEAT)]}, {})
    thinking = "<think>看资料第二句。</think>" + json.dumps(answer, ensure_ascii=False)
    records, kinds, _ = run({}, lambda kind, body: thinking if kind_of(body) == "answer" else script(kind, body))
    assert kinds == ["questions", "answer"]
    (r,) = records
    assert "rejected" not in r and r["question"] == PREHEAT and r["answer"] == answer["answer"]
    assert r["reasoning"] == "看资料第二句。"
    assert r["messages"] == [{"role": "user", "content": PREHEAT}, {"role": "assistant", "content": answer["answer"]}]
    assert (r["instruction"], r["response"]) == (PREHEAT, answer["answer"])
    assert r["chunk"] == {k: CHUNKS[0][k] for k in ("id", "source", "doc_id", "headings", "start", "end")}
    assert r["context"] == WELD and r["genre"] is None and r["audience"] is None
    g = r["grounding"]
    assert g["supported"] is True and g["method"] == "checks" and g["reason"] is None and g["judge"] is None
    (e,) = g["evidence"]
    assert WELD[e["start"]:e["end"]] == "预热温度不低于120℃，层间温度应控制在\n120～250℃之间"
    assert (e["doc_start"], e["doc_end"]) == (100 + e["start"], 100 + e["end"]) and e["method"] == "exact"
    assert g["checks"]["missing_numbers"] == [] and g["checks"]["lexical_support"] >= 0.5
    assert r["generation"]["model"] == "scripted" and r["generation"]["finish_reason"] == "stop"


def test_unsupported_answers_are_rejected_with_the_reason_never_kept():
    qs = ["消氢处理的加热温度是多少？", "焊接坡口需要清除什么？", "焊后多久进行消氢处理？", "层间温度应控制在什么范围？"]
    answers = {
        qs[0]: {"answer": "加热温度为250～300℃。", "evidence": ["加热温度为300～350℃"]},         # wrong numbers
        qs[1]: {"answer": "需要清除油污和油漆。", "evidence": ["清除坡口两侧的油漆和焊渣"]},      # quote not in chunk
        qs[2]: {"answer": "根据资料，焊后应立即进行消氢处理。", "evidence": ["焊后应立即进行消氢处理"]},  # leaks source
        qs[3]: {"answer": "层间温度应控制在120～250℃之间。", "evidence": []},                  # no evidence
    }
    records, kinds, _ = run({"chars_per_question": 20, "max_questions": 4, "task_types": ["fact"], "judge": "never"},
                            Script({WELD: [items(*qs)]}, answers))
    assert kinds == ["questions"] + ["answer"] * 4
    assert [r["rejected"] for r in records] == ["ungrounded_number", "ungrounded_quote", "answer_leaks_source",
                                                "ungrounded_no_evidence"]
    assert records[0]["grounding"]["checks"]["missing_numbers"] == ["250"]
    assert records[1]["grounding"]["evidence"][0]["method"] is None
    assert all(r["grounding"]["supported"] is False for r in records)


def test_uncertain_answers_go_to_the_judge_whose_quotes_are_verified_too():
    qs = ["焊前预热有什么要求？", "消氢处理怎么做？", "焊后处理的保温时间是多少？"]
    paraphrase = {  # verified quote, but few of the answer's words are the chunk's: uncertain
        qs[0]: "开始焊以前要把钢板烤到至少120℃。", qs[1]: "焊完马上加热到300～350℃做消氢。",
        qs[2]: "保温至少要持续2小时才行。"}
    quotes = {qs[0]: "预热温度不低于120℃", qs[1]: "加热温度为300～350℃", qs[2]: "保温时间不少于2小时"}
    answers = {k: {"answer": v, "evidence": [quotes[k]]} for k, v in paraphrase.items()}
    judge = {paraphrase[qs[0]]: {"supported": True, "evidence": ["预热温度不低于120℃"], "missing": []},
             paraphrase[qs[1]]: {"supported": False, "evidence": [], "missing": ["马上"]},
             paraphrase[qs[2]]: {"supported": True, "evidence": ["保温时间至少两小时"], "missing": []}}
    options = {"chars_per_question": 20, "max_questions": 3, "task_types": ["fact"]}
    records, kinds, _ = run(options, Script({WELD: [items(*qs)]}, answers, judge))
    # the rows' answers and judgements run concurrently: which comes first is not the point
    assert kinds[0] == "questions" and sorted(kinds[1:]) == ["answer"] * 3 + ["judge"] * 3
    assert [r["grounding"]["checks"]["status"] for r in records] == ["uncertain"] * 3
    assert [r.get("rejected") for r in records] == [None, "judge_unsupported", "judge_ungrounded_quote"]
    kept = records[0]["grounding"]
    assert kept["supported"] is True and kept["method"] == "judge" and kept["judge"]["evidence"][0]["method"] == "exact"
    assert records[1]["grounding"]["judge"]["missing"] == ["马上"]
    # judge: never sends no judge request and rejects what the cheap checks could not vouch for
    records, kinds, _ = run({**options, "judge": "never"}, Script({WELD: [items(*qs)]}, answers, judge))
    assert "judge" not in kinds and {r["rejected"] for r in records} == {"ungrounded_low_support"}


# -- questions -----------------------------------------------------------------------------------
def test_exactly_n_questions_extra_cut_missing_asked_once_then_recorded():
    many = items("预热温度是多少？", "层间温度范围是多少？", "坡口清理范围多大？", "消氢温度是多少？", "保温多久？")
    answer = {"answer": "x", "evidence": []}
    records, kinds, _ = run({"chars_per_question": 50, "max_questions": 2, "judge": "never"},
                            Script({WELD: [many]}, {i["question"]: answer for i in many}))
    assert len(records) == 2 and kinds == ["questions", "answer", "answer"]        # five offered, two asked
    assert [r["slot"] for r in records] == [0, 1]
    # three asked, one given, the second ask gives one more: the third slot is a recorded shortfall
    script = Script({WELD: [items("预热温度是多少？"), items("消氢处理的保温时间是多久？")]},
                    {"预热温度是多少？": answer, "消氢处理的保温时间是多久？": answer})
    with ScriptedServer(script) as server:
        recipe = DocQARecipe({"chars_per_question": 40, "max_questions": 3, "judge": "never"})
        records = run_recipe(recipe, CHUNKS[:1], server.base_url, max_tokens=256)
        asks = [prompt_of(b) for b in sent(server) if kind_of(b) == "questions"]
    assert len(records) == 3 and len(asks) == 2
    assert "恰好 3 个问题" in asks[0] and "恰好 2 个问题" in asks[1] and "预热温度是多少？" in asks[1]
    assert records[2]["rejected"] == "question_shortfall" and records[2]["question"] is None
    plan = q.plan_slots("weld-1|None|None", 3, list(q.TASK_TYPES))
    assert [r["task_type"] for r in records] == plan


def test_calculation_only_for_chunks_with_numbers():
    text = "操作人员必须经过培训并取得上岗证，方可独立操作焊机。" * 3
    row = {"id": "n1", "text": text}
    options = {"chars_per_question": 10, "max_questions": 7, "judge": "never"}
    qs = items(*[f"关于上岗证的第{c}个问题是什么？" for c in "甲乙丙丁戊己庚"])
    records, _, _ = run(options, Script({text: [qs]}, {i["question"]: {"answer": "x", "evidence": []} for i in qs}),
                        rows=[row])
    assert len(records) == 7 and "calculation" not in {r["task_type"] for r in records}


def test_context_dependent_question_is_rewritten_once_or_rejected_without_an_answer():
    qs = ["文中提到的预热温度是多少？", "上述消氢处理的保温时间是多久？"]
    rewrite = {qs[0]: "Q345R钢板焊接前的预热温度是多少？", qs[1]: "问题：上述处理的保温时间是多久？"}
    answers = {rewrite[qs[0]]: {"answer": "预热温度不低于120℃。", "evidence": ["预热温度不低于120℃"]}}
    records, kinds, _ = run({"chars_per_question": 50, "task_types": ["fact"]},
                            Script({WELD: [items(*qs)]}, answers, rewrite=rewrite))
    assert kinds.count("rewrite") == 2 and kinds.count("answer") == 1
    first, second = records
    assert first["question"] == rewrite[qs[0]] and first["question_original"] == qs[0] and "rejected" not in first
    assert second["rejected"] == "question_not_standalone" and second["question_original"] == qs[1]
    assert second["answer"] is None
    # rewrite off: rejected straight away, nothing sent for it
    records, kinds, _ = run({"chars_per_question": 50, "task_types": ["fact"], "rewrite": False},
                            Script({WELD: [items(*qs)]}, answers))
    assert kinds == ["questions"] and {r["rejected"] for r in records} == {"question_not_standalone"}


def test_near_duplicate_questions_within_a_chunk_are_dropped_before_any_answer_request():
    weld_qs = items("焊接前的预热温度是多少？", "焊接前预热温度是多少？", "消氢处理的保温时间是多久？")
    leave_qs = items("员工工作满10年后年休假有几天？", "焊接前的预热温度是多少呢？", "工作满二十年的员工年休假几天？")
    answer = {"answer": "x", "evidence": []}
    answers = {i["question"]: answer for i in weld_qs + leave_qs}
    records, kinds, recipe = run({"chars_per_question": 10, "max_questions": 3, "judge": "never"},
                                 Script({WELD: [weld_qs], LEAVE: [leave_qs]}, answers), rows=CHUNKS[:2])
    assert kinds.count("answer") == 5                      # 6 questions, the one near-duplicate within a chunk never answered
    dups = [r for r in records if r.get("rejected") == "question_near_duplicate"]
    assert [(d["question"], d["duplicate_of"]["question"], d["duplicate_of"]["chunk_id"]) for d in dups] == [
        ("焊接前预热温度是多少？", "焊接前的预热温度是多少？", "weld-1")]
    assert all(d["duplicate_of"]["similarity"] >= 0.7 and d["answer"] is None for d in dups)
    # across chunks: the recipe's stage, once generation is done, over the answered questions (here all
    # five, their ungrounded "x" answers aside; order-independence: tests/recipes/test_doc_qa_order.py)
    (stage,) = recipe.stages()
    answered = [{k: v for k, v in r.items() if k != "rejected"} for r in records if r not in dups]
    kept, rejected, report = stage.run(answered)
    assert [(d["record"]["question"], d["record"]["duplicate_of"]["question"], d["stage"]) for d in rejected] == [
        ("焊接前的预热温度是多少呢？", "焊接前的预热温度是多少？", "recipe:doc-qa:question-dedup")]
    assert report.as_dict()["dropped_by_reason"] == {"question_near_duplicate": 1} and len(kept) == 4
    # dedup off: every question is answered, and no stage is added
    _, kinds, recipe = run({"chars_per_question": 10, "max_questions": 3, "judge": "never", "dedup_threshold": None},
                           Script({WELD: [weld_qs], LEAVE: [leave_qs]}, answers), rows=CHUNKS[:2])
    assert kinds.count("answer") == 6 and recipe.stages() == []


def test_unparseable_questions_become_rejected_slots_with_the_error():
    records, kinds, _ = run({"chars_per_question": 50, "retries": 1},
                            lambda kind, body: "不是JSON" if kind_of(body) == "questions" else "ok")
    assert kinds == ["questions", "questions"]                  # the first ask and one retry
    assert [r["rejected"] for r in records] == ["json_unparseable"] * 2
    assert all("no valid JSON" in r["error"] for r in records)


def test_audience_pairs_ask_once_per_pair_and_label_rows():
    qs = {"新员工": "新员工焊接前要把钢板预热到多少度？", "监管人员": "监管检查时焊后消氢处理的保温时间要求是多少？"}
    answers = {qs["新员工"]: {"answer": "不低于120℃。", "evidence": ["预热温度不低于120℃"]},
               qs["监管人员"]: {"answer": "不少于2小时。", "evidence": ["保温时间不少于2小时"]}}

    def script(kind, body):
        k, p = kind_of(body), prompt_of(body)
        if k == "questions":
            who = "新员工" if "新员工" in p else "监管人员"
            return json.dumps({"questions": items(qs[who])}, ensure_ascii=False)
        return json.dumps(answers[question_in(body)], ensure_ascii=False) if k == "answer" else "ok"

    audiences = [{"genre": "岗前培训", "audience": "新员工"}, {"genre": "合规检查", "audience": "监管人员"}]
    records, kinds, _ = run({"audiences": audiences, "judge": "never", "support_threshold": 0.0}, script)
    assert kinds.count("questions") == 2
    assert [(r["genre"], r["audience"], r["question"]) for r in records] == [
        ("岗前培训", "新员工", qs["新员工"]), ("合规检查", "监管人员", qs["监管人员"])]
    assert all("rejected" not in r for r in records)


# -- RAFT and coverage -----------------------------------------------------------------------------
def test_raft_records_hold_oracle_and_distractors_deterministically(tmp_path):
    pool = write_jsonl(tmp_path / "chunks.jsonl", CHUNKS + [
        {"id": "weld-2", "source": "docs/weld.md", "doc_id": "weld", "headings": [], "start": 0, "end": 30,
         "text": "焊工应持证上岗，焊接材料应按规定烘干。", "lang": "zh"}])
    answer = {"answer": "预热温度不低于120℃。", "evidence": ["预热温度不低于120℃"]}
    script = Script({WELD: [items(PREHEAT)]}, {PREHEAT: answer})
    (r,), _, _ = run({"raft": {"distractors": 2, "oracle_probability": 1.0}}, script, pool_file=pool)
    assert r["raft"]["oracle_id"] == "weld-1" and r["raft"]["oracle_included"] is True
    assert sorted(r["raft"]["distractor_ids"]) == ["dose-1", "leave-1"]           # other documents first
    assert sorted(r["raft"]["document_ids"]) == ["dose-1", "leave-1", "weld-1"]
    user = r["messages"][0]["content"]
    assert user.count("<DOCUMENT>") == 3 and user.rstrip().endswith(PREHEAT) and WELD in user
    order = [user.index(c["text"]) for c in (CHUNKS[0], CHUNKS[1], CHUNKS[2])]
    by_position = [cid for _, cid in sorted(zip(order, ["weld-1", "leave-1", "dose-1"]))]
    assert by_position == r["raft"]["document_ids"]
    assert r["response"] == "##begin_quote##预热温度不低于120℃##end_quote##\n<ANSWER>: 预热温度不低于120℃。"
    (again,), _, _ = run({"raft": {"distractors": 2, "oracle_probability": 1.0}}, script, pool_file=pool)
    assert again["raft"] == r["raft"]
    (r0,), _, _ = run({"raft": {"distractors": 3, "oracle_probability": 0.0, "cite": False}}, script, pool_file=pool)
    assert r0["raft"]["oracle_included"] is False and "weld-1" not in r0["raft"]["document_ids"]
    assert WELD not in r0["instruction"] and r0["instruction"].count("<DOCUMENT>") == 3
    assert r0["raft"]["distractor_ids"][-1] == "weld-2" and r0["response"] == answer["answer"]


def test_coverage_reports_chunks_headings_documents_and_task_types():
    recipe = DocQARecipe({})
    seeds = CHUNKS + [{"id": "weld-9", "source": "docs/weld.md", "doc_id": "weld", "headings": ["附录"], "text": "x"}]
    kept = [{"chunk": {"id": "weld-1"}, "task_type": "fact"}, {"chunk": {"id": "weld-1"}, "task_type": "summary"},
            {"chunk": {"id": "dose-1"}, "task_type": "fact"}]
    cov = recipe.coverage(seeds, kept)
    assert (cov["chunks"], cov["chunks_covered"], cov["chunks_uncovered"]) == (4, 2, 2)
    assert cov["chunk_ids_uncovered"] == ["leave-1", "weld-9"]
    assert cov["documents"] == 3 and cov["documents_uncovered"] == ["docs/hr.md"]
    assert cov["headings_uncovered"] == ["docs/hr.md > 年休假", "docs/weld.md > 附录"]
    assert cov["rows_by_task_type"]["fact"] == 2 and cov["rows_by_task_type"]["summary"] == 1
    assert cov["rows_by_task_type"]["calculation"] == 0


# -- the real embedded model, and `synth run` through the CLI ----------------------------------------
REASONS = {"json_unparseable", "question_shortfall", "question_not_standalone", "question_near_duplicate",
           "answer_leaks_source", "empty_answer", "ungrounded_no_evidence", "ungrounded_quote", "ungrounded_number",
           "ungrounded_term", "ungrounded_low_support", "judge_unsupported", "judge_ungrounded_quote",
           "judge_json_unparseable"}


def check_provenance(records: list[dict], seeds: list[dict]) -> None:
    """Every slot of every chunk is a record, kept or rejected with a known reason, with its provenance."""
    by_id = {s["id"]: s for s in seeds}
    for r in records:
        seed = by_id[r["chunk"]["id"]]
        assert r["chunk"] == {k: seed.get(k) for k in ("id", "source", "doc_id", "headings", "start", "end")}
        assert r["context"] == seed["text"] and r["task_type"] in q.TASK_TYPES
        if r.get("rejected"):
            assert r["rejected"] in REASONS, r["rejected"]
        else:
            g = r["grounding"]
            assert g["supported"] is True and g["evidence"] and r["messages"][-1]["role"] == "assistant"
            for e in g["evidence"]:
                assert e["method"] and seed["text"][e["start"]:e["end"]]
                assert e["doc_start"] == seed["start"] + e["start"]


def kept_rows(run_dir) -> list[dict]:
    import pyarrow.parquet as pq

    return [r for shard in sorted((run_dir / "data").glob("*.parquet")) for r in pq.read_table(shard).to_pylist()]


def _between(prompt: str, start: str, end: str) -> str:
    return prompt.split(start, 1)[1].split(end, 1)[0].strip()


def grounded_script(kind: str, body: dict) -> str:
    """Quotes the chunk's first line back for the first chunk of each document; invents a fact otherwise."""
    k, p = kind_of(body), prompt_of(body)
    if k == "questions":
        n = int(re.search(r"(?:恰好|exactly) (\d+)", p).group(1))
        text = _between(p, "资料：" if "资料：" in p else "Text:", "\u0000")
        return json.dumps({"questions": items(*[f"{text[:30]} 第{i}问？" for i in range(n)])}, ensure_ascii=False)
    if k == "answer":
        text = _between(p, "资料：" if "资料：" in p else "Text:", "问题：" if "问题：" in p else "Question:")
        first = next(line for line in text.splitlines() if len(line.strip()) > 8).strip()
        if "2 When lockout is required" in text:
            return json.dumps({"answer": "Unplug the press for 30 minutes before changing a die.",
                               "evidence": ["Changing, adjusting or cleaning a die."]})  # 30: not in the chunk
        return json.dumps({"answer": first, "evidence": [first]}, ensure_ascii=False)
    if k == "judge":
        return json.dumps({"supported": False, "evidence": [], "missing": ["30 minutes"]})
    return "ok"


def test_example_config_through_the_cli_coverage_matches_the_data(tmp_path):
    with ScriptedServer(grounded_script) as server:
        out = tmp_path / "run"
        proc = synth_cli("run", str(EXAMPLES / "doc-qa-zh.yaml"), "--base-url", server.base_url, "--limit", "2",
                         "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    rows = kept_rows(out)
    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
    cov = manifest["coverage"]
    covered = {r["chunk"]["id"] for r in rows}
    assert cov["chunks"] == manifest["rows"]["selected"] == 2
    assert cov["chunks_covered"] == len(covered) == 1 and cov["chunks_uncovered"] == 1
    made = {r["record"]["chunk"]["id"] for r in rejected} | covered
    assert len(made) == 2 and cov["chunk_ids_uncovered"] == sorted(made - covered)
    assert sum(cov["rows_by_task_type"].values()) == len(rows) == manifest["outputs"]["kept"]
    assert cov["documents_uncovered"] == [] and len(cov["headings_uncovered"]) == 1
    # a calculation slot leaves a number it cannot find to the judge; any other slot rejects it outright
    assert {r["reason"] for r in rejected} <= {"ungrounded_number", "judge_unsupported"}
    assert all(r["record"]["grounding"]["checks"]["missing_numbers"] == ["30"] for r in rejected)
    assert all(r["stage"] == "recipe:doc-qa" for r in rejected)
    rag = [json.loads(line) for line in (out / "exports" / "rag.jsonl").read_text().splitlines()]
    assert [x["question"] for x in rag] == [r["question"] for r in rows] and all(x["evidence"] for x in rag)
    card = (out / "README.md").read_text()
    assert "chunks_uncovered: 1" in card and "rows_by_task_type" in card


def test_example_config_on_the_embedded_model(tmp_path, llm_server):
    out = tmp_path / "run"
    proc = synth_cli("run", str(EXAMPLES / "doc-qa-zh.yaml"), "--base-url", llm_server, "--limit", "2",
                     "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows"] == {"seed_rows": 2, "selected": 2, "duplicate": 0, "done": 2, "failed": 0}
    assert manifest["coverage"]["chunks"] == 2
    records = [json.loads(line) for shard in sorted((out / "records").rglob("*.jsonl"))
               for line in shard.read_text().splitlines()]
    from synth.ingest import IngestOptions, iter_chunks

    folder = EXAMPLES / "docs" / "manufacturing-zh"
    seeds = list(iter_chunks([str(folder)], IngestOptions(chunk_size=500), root=folder))[:2]
    assert len(records) == sum(q.question_count(s["text"], q.CHARS_PER_QUESTION[s["lang"]], 3) for s in seeds)
    check_provenance(records, seeds)                      # sources inside the folder, so the same chunk ids
    assert manifest["coverage"]["chunks_covered"] == len({r["chunk"]["id"] for r in kept_rows(out)})
