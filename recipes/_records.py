"""Record pieces and export views shared by `reasoning`, `step-labels` and `problem-augment`.

Record schema: docs/recipes.md and recipes.md §6.2. Steps carry PRM800K semantics: ``label`` is +1 / -1 /
``None`` (not labelled); ``mc_value`` is the Monte-Carlo share of rollouts that reached the reference answer.

Exports (``Recipe.exports``; each takes one record and returns one row, or ``None`` to skip it):

- ``trl_stepwise``: ``{prompt, completions, labels}``, cut after the first error (the stepwise-supervision shape
  of TRL's ``PRMTrainer``, which TRL has since removed; kept for datasets and tools that still read it);
- ``openrlhf_prm``: Math-Shepherd-style rows for OpenRLHF's ``ProcessRewardDataset`` (``train_prm``): the
  problem and steps in ``input``, each step followed by the step tag ``ки``, and one ``"+"`` / ``"-"`` per tag
  in ``label`` (``--input_key input --label_key label --placeholder_token ки --reward_tokens + -``);
- ``prm800k``: PRM800K-like rows (``question`` / ``label.steps[].completions[].rating``);
- ``dpo``: TRL conversational preference rows ``{prompt, chosen, rejected}``.

>>> rec = {"problem": "1+2*3?", "steps": [{"text": "2*3=6", "label": 1}, {"text": "1+6=8", "label": -1}]}
>>> to_openrlhf_prm(rec)
{'input': '1+2*3? 2*3=6 ки\\n1+6=8 ки', 'label': ['+', '-']}
"""

from __future__ import annotations

from synth.engines.base import Completion


def generation_info(llm, completion: Completion, **sampling) -> dict:
    """Where a sample came from: model, seed, finish reason, token counts and the sampling asked for."""
    return {"model": llm.engine.model, "seed": completion.seed, "finish_reason": completion.finish_reason,
            "prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens,
            **{k: v for k, v in sampling.items()}}


def unlabelled_steps(steps: list[str]) -> list[dict]:
    return [{"index": i, "text": text, "label": None, "label_source": None, "mc_value": None,
             "n_rollouts": 0, "n_correct": 0} for i, text in enumerate(steps)]


def verification(verdict) -> dict:
    """A Verdict as a fixed-shape dict (parquet needs the same keys on every row)."""
    return {"status": verdict.status, "method": verdict.method, "detail": verdict.detail}


def sft_messages(prompt: list[dict], solution: str) -> list[dict]:
    return [*prompt, {"role": "assistant", "content": solution}]


def _step_labels(record: dict) -> list[bool] | None:
    """Bool labels up to and including the first error; derived from the outcome when steps are unlabelled.

    A correct final answer means every prefix has a rollout that reaches it (the solution itself), so under
    Math-Shepherd's hard estimation every step is positive. Unlabelled wrong solutions give ``None``.
    """
    steps = record.get("steps") or []
    if not steps:
        return None
    if all(s.get("label") is None for s in steps):
        return [True] * len(steps) if record.get("correct") else None
    labels = []
    for step in steps:
        if step.get("label") is None:
            break
        labels.append(step["label"] > 0)
        if step["label"] < 0:
            break
    return labels or None


def to_trl_stepwise(record: dict) -> dict | None:
    labels = _step_labels(record)
    if labels is None:
        return None
    return {"prompt": record["problem"], "completions": [s["text"] for s in record["steps"][: len(labels)]],
            "labels": labels}


STEP_TAG = "ки"  # Math-Shepherd's step tag; OpenRLHF needs it to be a single token of the model's tokenizer


def to_openrlhf_prm(record: dict) -> dict | None:
    """Math-Shepherd's ``input`` (a step tag after every step) with the labels as the list OpenRLHF reads.

    OpenRLHF puts the i-th label on the i-th tag, so the input holds exactly as many tags as labels:
    steps after the first error are left out, and a record whose text already contains the tag is skipped.
    """
    labels = _step_labels(record)
    if labels is None:
        return None
    steps = [s["text"].strip() for s in record["steps"][: len(labels)]]
    if STEP_TAG in record["problem"] or any(STEP_TAG in text for text in steps):
        return None
    return {"input": f"{record['problem'].strip()} " + "\n".join(f"{text} {STEP_TAG}" for text in steps),
            "label": ["+" if ok else "-" for ok in labels]}


def to_prm800k(record: dict) -> dict | None:
    """PRM800K's shape (openai/prm800k README) with generated ratings; stops at the first error like phase 2."""
    labels = _step_labels(record)
    if labels is None:
        return None
    steps = [{"completions": [{"text": s["text"], "rating": 1 if ok else -1, "flagged": None}],
              "human_completion": None, "chosen_completion": 0 if ok else None}
             for s, ok in zip(record["steps"], labels)]
    found_error = not all(labels)
    return {
        "labeler": f"synth:{record.get('recipe', '')}",
        "is_quality_control_question": False, "is_initial_screening_question": False,
        "question": {"problem": record["problem"], "ground_truth_answer": record.get("reference_answer"),
                     "pre_generated_steps": [s["text"] for s in record["steps"]],
                     "pre_generated_answer": record.get("final_answer")},
        "label": {"steps": steps, "total_time": None, "finish_reason": "found_error" if found_error else "solution"},
    }


def to_dpo(record: dict) -> dict | None:
    """Chosen = this (correct) solution, rejected = the first wrong one stored with it (`rejected_solutions`)."""
    rejected = record.get("rejected_solutions") or []
    messages = record.get("messages") or []
    if not record.get("correct") or not rejected or not messages:
        return None
    return {"prompt": messages[:-1], "chosen": [messages[-1]],
            "rejected": [{"role": "assistant", "content": rejected[0]["solution"]}]}


EXPORTS = {"trl_stepwise": to_trl_stepwise, "openrlhf_prm": to_openrlhf_prm, "prm800k": to_prm800k, "dpo": to_dpo}
