"""`reasoning`: verification against gold, majority votes over equivalence classes, thresholds, path dedup,
DPO pairs and exports, driven by a scripted server whose k samples we choose (sample i = seed i)."""

from __future__ import annotations

import pytest

from synth.errors import ConfigError, RecipeError
from synth.recipes._math import group_answers, majority, path_signature, reference_answer
from synth.recipes._records import to_dpo, to_prm800k, to_trl_stepwise
from synth.recipes.reasoning.recipe import ReasoningRecipe
from tests.recipes.helpers import run_recipe
from tests.servers import ScriptedServer

SAMPLES = [
    "Half of 1 is 1/2.\nThe answer is 1/2.",
    "Half of 1 is 0.5.\nThe answer is 0.5.",
    "half of 1 is 1/2\n\nthe answer is: 1/2",      # the path of sample 0 again (case, punctuation)
    "I think it is 2.\nThe answer is 2.",
    "No idea.",                                   # no answer at all
]
ROW = {"problem": "What is half of 1?", "answer": "0.5"}


def scripted(kind, body):
    return "hi" if body["seed"] is None else SAMPLES[body["seed"]]  # seedless: the engine's probe


def run(options, rows=(ROW,)):
    recipe = ReasoningRecipe({"k": 5, "seed": 0, **options})
    with ScriptedServer(scripted) as server:
        return run_recipe(recipe, list(rows), server.base_url)


def test_equivalent_answers_form_one_class_and_empty_ones_no_vote():
    classes = group_answers(["1/2", "0.5", "2", None, "50%", "2.0", ""])
    assert [(c.answer, c.votes, c.members) for c in classes] == [("1/2", 3, [0, 1, 4]), ("2", 2, [2, 5])]
    assert majority(classes) == ({"answer": "1/2", "votes": 3, "total": 5, "agreement": 0.6}, None)
    assert majority(classes, min_votes=4) == (None, "votes 3 < min_votes 4")
    assert majority(classes, min_agreement=0.7) == (None, "agreement 0.6 < min_agreement 0.7")
    assert majority([]) == (None, "no sample gave an answer")


def test_reference_answer_takes_the_final_answer_of_a_gold_solution():
    assert reference_answer("48 / 2 = 24 clips.\n#### 72") == "72"
    assert reference_answer("答案是：15") == "15" and reference_answer(" 3/4 ") == "3/4"
    assert reference_answer("") is None and reference_answer(None) is None


def test_gold_mode_keeps_distinct_correct_paths_with_wrong_ones_for_dpo():
    records = run({"rejected_per_record": 1})
    assert [r["sample_index"] for r in records] == [0, 1]       # sample 2 repeats sample 0's path
    first, second = records
    assert first["reference_answer"] == "0.5" and first["reference_answer_source"] == "gold"
    assert first["votes"] == [{"answer": "1/2", "votes": 3}, {"answer": "2", "votes": 1}]
    assert first["majority"] == {"answer": "1/2", "votes": 3, "total": 4, "agreement": 0.75}
    assert first["stats"] == {"samples": 5, "answered": 4, "correct": 3, "distinct_correct": 2, "kept": 2,
                              "duplicates_dropped": 1}
    assert first["verification"] == {"status": "correct", "method": "number", "detail": None}
    assert [s["text"] for s in first["steps"]] == ["Half of 1 is 1/2.", "The answer is 1/2."]
    # the two wrong paths are spread over the two kept records: two different DPO pairs
    assert [r["rejected_solutions"][0]["solution"] for r in records] == [SAMPLES[3], SAMPLES[4]]
    assert [r["rejected_solutions"][0]["status"] for r in records] == ["incorrect", "no_answer"]
    assert first["messages"][-1] == {"role": "assistant", "content": SAMPLES[0]}
    assert first["generation"]["seed"] == 0 and first["generation"]["k"] == 5
    dpo = to_dpo(second)
    assert dpo == {"prompt": second["messages"][:-1], "chosen": [second["messages"][-1]],
                   "rejected": [{"role": "assistant", "content": SAMPLES[4]}]}
    assert to_trl_stepwise(first) == {"prompt": ROW["problem"], "labels": [True, True],
                                      "completions": ["Half of 1 is 1/2.", "The answer is 1/2."]}
    assert to_prm800k(first)["label"]["finish_reason"] == "solution"


def test_path_dedup_off_and_cap_per_problem():
    assert [r["sample_index"] for r in run({"dedup_paths": False})] == [0, 1, 2]
    assert [r["sample_index"] for r in run({"max_per_problem": 1, "rejected_per_record": 2})] == [0]
    assert [len(r["rejected_solutions"]) for r in run({"rejected_per_record": 0})] == [0, 0]


def test_majority_mode_labels_by_the_largest_equivalence_class():
    records = run({"label": "majority", "min_votes": 3, "min_agreement": 0.75}, rows=[{"problem": "Half of 1?"}])
    assert [r["sample_index"] for r in records] == [0, 1]
    assert records[0]["reference_answer"] == "1/2" and records[0]["reference_answer_source"] == "majority_vote"
    assert records[1]["verification"]["method"] == "majority_vote"


@pytest.mark.parametrize("thresholds", [{"min_votes": 4}, {"min_agreement": 0.8}])
def test_majority_below_the_thresholds_keeps_nothing_or_all_unverified(thresholds):
    options = {"label": "majority", **thresholds}
    assert [r["rejected"] for r in run(options)] == ["no_label"]  # rejected, with its reason (not lost)
    every = run({**options, "keep": "all"})
    assert [r["verification"]["status"] for r in every] == ["unverifiable"] * 4 + ["no_answer"]
    assert all(r["reference_answer"] is None and not r["selected"] and r["messages"] is None for r in every)
    assert all(to_dpo(r) is None and to_trl_stepwise(r) is None for r in every)


def test_a_problem_with_no_kept_solution_is_one_rejected_record_saying_why():
    from synth.stages import RecipeRejectStage

    (wrong,) = run({}, rows=[{"problem": "What is half of 1?", "answer": "7"}])
    assert wrong["rejected"] == "no_correct_solution" and wrong["reference_answer"] == "7"
    assert wrong["stats"]["samples"] == 5 and wrong["stats"]["kept"] == 0 and wrong["votes"][0]["votes"] == 3
    assert wrong["solution"] is None and wrong["messages"] is None and not wrong["selected"]
    solved = run({})
    assert set(wrong) == set(solved[0])  # one schema for every record
    (unlabelled,) = run({"label": "majority", "min_votes": 4})
    assert unlabelled["rejected"] == "no_label" and unlabelled["reference_answer"] is None
    kept, rejected, report = RecipeRejectStage("reasoning").run(solved + [wrong, unlabelled])
    assert kept == [{k: v for k, v in r.items() if k != "rejected"} for r in solved]  # the key leaves kept records
    assert report.dropped == {"no_correct_solution": 1, "no_label": 1}
    assert [r["record"]["problem"] for r in rejected] == [ROW["problem"]] * 2


def test_keep_all_marks_each_sample():
    records = run({"keep": "all"})
    assert [(r["correct"], r["selected"]) for r in records] == [(True, True), (True, True), (True, False),
                                                                 (False, False), (False, False)]
    assert to_trl_stepwise(records[3]) is None


def test_bad_options_and_rows_are_reported():
    with pytest.raises(ConfigError, match="no template 'nope.j2'"):
        ReasoningRecipe({"template": "nope.j2"})
    with pytest.raises(ConfigError, match="options.k"):
        ReasoningRecipe({"k": 0})
    with pytest.raises(RecipeError, match="no reference answer"):
        run({"label": "gold"}, rows=[{"problem": "x", "answer": ""}])


def test_path_signature_ignores_case_space_and_punctuation():
    assert path_signature(["A = 1.", "So 2!"]) == path_signature(["a=1", "so  2"])
    assert path_signature(["a = 1"]) != path_signature(["a = 2"])
