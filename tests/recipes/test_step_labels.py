"""`step-labels`: exact labels and request counts from a scripted server whose rollouts we control."""

from __future__ import annotations

import asyncio

import pytest

from synth.recipes._records import to_prm800k, to_trl_stepwise
from synth.recipes.step_labels.recipe import StepLabelsRecipe
from synth.recipes.step_labels.search import Rollouts, label_steps
from tests.recipes.helpers import run_recipe, sent
from tests.servers import ScriptedServer

PROBLEM = "Compute (2 + 3) * 4 - 1."
# Step 2 is the first error (5 * 4 is 20); the rest follow from it.
WRONG = "Step 1: 2 + 3 = 5.\nStep 2: 5 * 4 = 21.\nStep 3: 21 - 1 = 20.\nStep 4: The answer is 20."
RIGHT = "Step 1: 2 + 3 = 5.\nStep 2: 5 * 4 = 20.\nStep 3: 20 - 1 = 19.\nStep 4: The answer is 19."
ROW = {"problem": PROBLEM, "answer": "19"}


def scripted(kind: str, body: dict) -> str:
    """Chat: the wrong solution. Rollouts: wrong after the bad step; from step 1 alone, right for even seeds."""
    if kind == "chat":
        return WRONG
    partial = body["prompt"].split("<|im_start|>assistant\n", 1)[1]
    if "= 21" in partial:
        return "The answer is 20."
    if "Step 2" not in partial:
        return "The answer is 19." if body["seed"] % 2 == 0 else "The answer is 18."
    return "The answer is 19."


def labels(record):
    return [(s["label"], s["label_source"], s["mc_value"], s["n_rollouts"]) for s in record["steps"]]


def test_linear_search_labels_every_prefix_from_its_rollouts():
    recipe = StepLabelsRecipe({"rollouts": 4, "seed": 100, "search": "linear"})
    with ScriptedServer(scripted) as server:
        (record,) = run_recipe(recipe, [ROW], server.base_url)
        completions = sent(server, "complete")
    assert labels(record) == [(1, "mc_hard", 0.5, 4), (-1, "mc_hard", 0.0, 4), (-1, "mc_hard", 0.0, 4),
                              (-1, "final_answer", 0.0, 0)]
    assert record["first_error_step"] == 1 and record["correct"] is False and record["final_answer"] == "20"
    assert record["search"] == {"mode": "linear", "estimation": "hard", "rollouts_per_prefix": 4,
                                "prefix_evaluations": 3, "requests": 12, "rollouts": 12}
    assert len(completions) == 12 and len(sent(server, "chat")) == 1
    # every rollout continues its prefix verbatim, never re-asking; prefixes go shortest first, each one's
    # rollouts consecutive (what vLLM's prefix cache needs)
    ends = [c["prompt"].split("<|im_start|>assistant\n", 1)[1] for c in completions]
    assert ends == ["Step 1: 2 + 3 = 5.\n"] * 4 + ["Step 1: 2 + 3 = 5.\nStep 2: 5 * 4 = 21.\n"] * 4 + \
        ["Step 1: 2 + 3 = 5.\nStep 2: 5 * 4 = 21.\nStep 3: 21 - 1 = 20.\n"] * 4
    assert all(c["prompt"].count(PROBLEM) == 1 and c["stop"] == ["<|im_end|>", "<|im_start|>"] for c in completions)
    assert sorted(c["seed"] for c in completions[:4]) == [100, 101, 102, 103]


def test_soft_estimation_needs_the_threshold_share():
    recipe = StepLabelsRecipe({"rollouts": 4, "seed": 100, "estimation": "soft", "soft_threshold": 0.75})
    with ScriptedServer(scripted) as server:
        (record,) = run_recipe(recipe, [ROW], server.base_url)
    assert [s["label"] for s in record["steps"]] == [-1, -1, -1, -1]
    assert record["steps"][0]["mc_value"] == 0.5 and record["first_error_step"] == 0


def test_binary_search_finds_the_first_error_with_fewer_requests():
    recipe = StepLabelsRecipe({"rollouts": 4, "seed": 100, "search": "binary"})
    with ScriptedServer(scripted, native_n=True) as server:
        (record,) = run_recipe(recipe, [ROW], server.base_url)
        completions = sent(server, "complete")
    # prefix 2 (steps 1-2) first: no rollout correct -> error at or before step 2; prefix 1: 2 of 4 correct
    assert labels(record) == [(1, "mc_hard", 0.5, 4), (-1, "mc_hard", 0.0, 4), (None, None, None, 0),
                              (None, None, None, 0)]
    assert record["first_error_step"] == 1
    assert record["search"]["prefix_evaluations"] == 2 and record["search"]["rollouts"] == 8
    assert record["search"]["requests"] == 2 and [c["n"] for c in completions] == [4, 4]  # native n: 1 per prefix
    assert to_trl_stepwise(record) == {"prompt": PROBLEM, "completions": ["Step 1: 2 + 3 = 5.",
                                                                          "Step 2: 5 * 4 = 21."],
                                       "labels": [True, False]}
    prm = to_prm800k(record)
    assert [s["completions"][0]["rating"] for s in prm["label"]["steps"]] == [1, -1]
    assert prm["label"]["finish_reason"] == "found_error" and prm["question"]["ground_truth_answer"] == "19"


def test_a_given_correct_solution_costs_no_rollouts_in_binary_mode():
    recipe = StepLabelsRecipe({"rollouts": 4, "search": "binary", "solution_field": "solution"})
    with ScriptedServer(scripted) as server:
        (record,) = run_recipe(recipe, [{**ROW, "solution": RIGHT}], server.base_url)
        assert sent(server) == []
    assert [s["label"] for s in record["steps"]] == [1, 1, 1, 1] and record["first_error_step"] is None
    assert record["search"]["requests"] == 0 and record["correct"] and record["messages"][-1]["content"] == RIGHT
    assert to_trl_stepwise(record)["labels"] == [True] * 4


@pytest.mark.parametrize("first_error,n_steps,evaluations", [(0, 8, 3), (5, 8, 3), (6, 8, 3), (7, 8, 3),
                                                              (3, 16, 4), (0, 1, 0), (1, 2, 1)])
def test_binary_search_cost_is_logarithmic(first_error, n_steps, evaluations):
    async def evaluate(i):  # prefixes before the first error reach the answer, later ones never do
        return Rollouts(4, 4 if i < first_error else 0)

    result = asyncio.run(label_steps(n_steps, False, evaluate, search="binary"))
    assert result.first_error == first_error and result.evaluations == evaluations
    assert result.labels[:first_error] == [1] * first_error and result.labels[first_error] == -1
    assert result.labels[first_error + 1:] == [None] * (n_steps - first_error - 1)
    linear = asyncio.run(label_steps(n_steps, False, evaluate, search="linear"))
    assert linear.evaluations == n_steps - 1 and linear.labels == result.labels[:first_error + 1] + \
        [-1] * (n_steps - first_error - 1)


def test_llama3_prompt_format_keeps_the_prefix_verbatim():
    recipe = StepLabelsRecipe({"prompt_format": "llama3", "system": "Be brief."})
    text = recipe.prefix_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q?"}],
                                "Step 1: a.\n")
    assert text == ("<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user"
                    "<|end_header_id|>\n\nQ?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nStep 1: a.\n")
