"""`problem-augment`: rephrase / FOBAR / similar problems, decontamination before solving, labels."""

from __future__ import annotations

import pytest

from synth.errors import ConfigError
from synth.dedup.ngram_index import NgramIndex
from synth.recipes.problem_augment.recipe import ProblemAugmentRecipe, backward_questions, clean_problem
from tests.conftest import write_jsonl
from tests.recipes.helpers import run_recipe, sent
from tests.servers import ScriptedServer

SEED = {"problem": "Tom has 4 apples and eats 2 of them. How many apples are left?", "answer": "2"}
REPHRASED = "After eating 2 of his 4 apples, how many does Tom still have?"
COPIED = "Tom has 4 apples and eats 2 of them. How many apples are left over?"


def scripted(kind, body):
    text = body["messages"][-1]["content"] if kind == "chat" else ""
    if body.get("max_tokens") == 1:
        return "hi"
    if text.startswith("Rephrase"):
        return f"Rephrased problem: {REPHRASED}"
    if text.startswith("Write a new math problem similar"):
        return COPIED
    if "unknown variable x" in text:
        return "4 - x = 2, so x = 4.\nThe answer is 4."
    return "4 - 2 = 2.\nThe answer is 2."


def run(options, rows=(SEED,)):
    recipe = ProblemAugmentRecipe({"k": 3, "modes": ["rephrase", "similar", "fobar"], **options})
    with ScriptedServer(scripted) as server:
        return run_recipe(recipe, list(rows), server.base_url), sent(server, "chat")


def test_rephrase_and_fobar_kept_copied_similar_dropped_before_solving():
    records, chats = run({})
    (copied,) = [r for r in records if isinstance(r.get("rejected"), str)]
    records = [r for r in records if r is not copied]
    assert copied["rejected"] == "contaminated" and copied["augment"]["mode"] == "similar"
    assert [(r["augment"]["mode"], r["problem"], r["reference_answer"]) for r in records] == [
        ("rephrase", REPHRASED, "2"),
        ("fobar", "Tom has x apples and eats 2 of them. How many apples are left? If we know the answer to the "
                  "above question is 2, what is the value of unknown variable x?", "4")]
    assert all(r["correct"] and r["selected"] and r["reference_answer_source"] == "gold" for r in records)
    assert records[0]["stats"]["duplicates_dropped"] == 2   # three identical paths, one kept
    assert records[0]["augment"] == {"mode": "rephrase", "seed_problem": SEED["problem"], "seed_answer": "2",
                                     "candidate": 0, "dropped": None, "detail": None}
    # 2 augmentation requests + 3 solutions each for the two kept problems; none for the contaminated one
    assert len(chats) == 2 + 3 + 3


def test_keep_all_returns_dropped_problems_with_the_reason():
    records, _ = run({"keep": "all", "max_per_problem": 3})
    dropped = [r for r in records if r["augment"]["dropped"]]
    assert len(dropped) == 1 and dropped[0]["augment"]["mode"] == "similar"
    assert dropped[0]["augment"]["dropped"] == "contaminated" and "with seed" in dropped[0]["augment"]["detail"]
    assert dropped[0]["solution"] is None and dropped[0]["messages"] is None
    assert set(dropped[0]) == set(records[0])  # one schema for every record


def test_every_candidate_dropped_with_keep_correct_is_a_rejected_record_with_its_reason():
    from synth.stages import RecipeRejectStage

    def answers(kind, body):
        text = body["messages"][-1]["content"]
        if body.get("max_tokens") == 1:
            return "hi"
        if text.startswith("Rephrase"):
            return "Rephrased problem: " + ("" if body["seed"] % 2 else SEED["problem"])  # empty, then a copy
        if text.startswith("Write a new math problem similar"):
            return "Ann has 7 pens and buys 3 more pens at the shop. How many pens does Ann have?"
        if "Ann has 7 pens" in text:
            return f"The answer is {body['seed'] % 3}."  # three samples, three answers: no majority label
        return "The answer is 5."  # FOBAR's x is 4: no solution reaches it

    recipe = ProblemAugmentRecipe({"k": 3, "seed": 0, "variants": 2, "modes": ["rephrase", "similar", "fobar"]})
    with ScriptedServer(answers) as server:
        records = run_recipe(recipe, [SEED], server.base_url)
    reasons = sorted((r["augment"]["mode"], r["rejected"]) for r in records)
    assert reasons == [("fobar", "no_correct_solution"), ("fobar", "no_correct_solution"),
                       ("rephrase", "copy"), ("rephrase", "empty"), ("similar", "no_label"), ("similar", "no_label")]
    assert all(r["augment"]["dropped"] == r["rejected"] for r in records)
    assert len({frozenset(r) for r in records}) == 1  # one schema for every record
    kept, rejected, report = RecipeRejectStage("problem-augment").run(records)
    assert kept == [] and sum(report.dropped.values()) == 6


def test_benchmark_files_decontaminate_every_mode(tmp_path):
    bench = write_jsonl(tmp_path / "bench.jsonl", [{"question": REPHRASED}, {"question": "unrelated"}])
    records, chats = run({"benchmarks": [f"{bench}:question"], "modes": ["rephrase"], "keep": "all"})
    assert [r["augment"]["dropped"] for r in records] == ["contaminated"]
    assert "bench.jsonl:0" in records[0]["augment"]["detail"] and len(chats) == 1
    with pytest.raises(ConfigError, match="not found"):
        ProblemAugmentRecipe({"benchmarks": [str(tmp_path / "missing.jsonl")]})


def test_similar_problems_without_agreement_get_no_label():
    def disagree(kind, body):
        text = body["messages"][-1]["content"]
        if body.get("max_tokens") == 1 or text.startswith("Write"):
            return "Ann has 7 pens and buys 3 more pens at the shop. How many pens does Ann have?"
        return f"The answer is {body['seed'] % 3}."   # three different answers from three samples

    recipe = ProblemAugmentRecipe({"k": 3, "seed": 0, "modes": ["similar"], "keep": "all"})
    with ScriptedServer(disagree) as server:
        records = run_recipe(recipe, [SEED], server.base_url)
    assert len(records) == 3 and all(r["augment"]["dropped"] == "no_label" for r in records)
    assert records[0]["augment"]["detail"] == "votes 1 < min_votes 2"
    assert records[0]["votes"] == [{"answer": "0", "votes": 1}, {"answer": "1", "votes": 1},
                                   {"answer": "2", "votes": 1}]


def test_fobar_masks_each_number_in_turn_and_chinese_uses_character_ngrams():
    qs = backward_questions("小明有12个苹果，吃了5个。", "7", "zh", 2)
    assert [a for _, a in qs] == ["12", "5"] and qs[0][0].startswith("小明有x个苹果")
    assert qs[0][0].endswith("如果已知上面问题的答案是7，那么未知数x的值是多少？")
    index = NgramIndex(8, 6)
    index.add("小明有12个苹果，吃了5个，还剩几个？", "seed")
    assert index.find("小红有12个苹果，吃了5个，还剩多少？") is not None
    assert index.find("小红有3支铅笔，又买了4支。") is None
    assert clean_problem('New problem: "Ann has 3 pens."') == "Ann has 3 pens."


def test_benchmark_paths_resolve_relative_to_the_config(tmp_path):
    from synth.config import load_config
    from synth.build import make_recipe
    from tests.conftest import write_config

    (tmp_path / "cfg").mkdir()
    cfg, base = load_config(write_config(tmp_path / "cfg" / "c.yaml", recipe="problem-augment", seeds="s.jsonl",
                                         options={"benchmarks": ["bench/t.jsonl:question", "/abs/x.jsonl"]}))
    with pytest.raises(Exception, match=str(tmp_path / "cfg" / "bench" / "t.jsonl")):
        make_recipe(cfg, base)  # loading fails on the missing file, and the message shows the resolved path
