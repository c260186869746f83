"""`step-labels`: per-step labels by Monte-Carlo rollouts from each step prefix (Math-Shepherd / OmegaPRM).

For each seed problem with a reference answer: take the solution in ``solution_field`` or sample
``samples`` solutions, split each into steps (``synth.verify.split_steps``), and for a step prefix
``s_1..s_i`` sample ``rollouts`` continuations *of that prefix* and check their final answers. The share
that reaches the reference answer is the step's ``mc_value``; the label follows Math-Shepherd's hard (any
correct) or soft (share >= threshold) estimation (Wang et al. 2023, arXiv 2312.08935). ``search: binary``
finds the first wrong step with OmegaPRM's binary search (Luo et al. 2024, arXiv 2406.06592) instead of
rolling out every prefix; see ``search.py`` for the labels either way.

How a prefix is continued: the question is never re-asked. The chat prompt is rendered as raw text with the
model's chat template (``prompt_format``: ``chatml`` for Qwen / SmolLM / many others, ``llama3``, ``plain``),
the assistant turn is left open with the solution text up to the end of step i, and ``/v1/completions``
continues it (``llm.complete``, ``n`` = rollouts in one call). This works on vLLM, llama.cpp and any server
with raw completions; chat ``continue_final_message`` is vLLM-only and not used. The prefix is a verbatim
slice of the solution, and prefixes are sent in order, shortest first, each with all its rollouts at once,
so vLLM's automatic prefix cache serves the shared part of the prompt.

Left out: Math-Shepherd's separate completer model (the same model continues; point ``--model`` elsewhere in
a second run to change that); LLM-judge consensus filtering (Qwen's PRM lessons, arXiv 2501.07301).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synth.errors import RecipeError
from synth.recipe import Recipe, RecipeOptions
from synth.recipes._math import reference_answer
from synth.recipes._records import EXPORTS, generation_info, sft_messages, verification
from synth.recipes.reasoning.recipe import check_template, prompt_messages
from synth.recipes.step_labels.search import Rollouts, label_steps
from synth.verify import acheck, acheck_many, extract_answer, split_steps

STOP = {"chatml": ["<|im_end|>", "<|im_start|>"], "llama3": ["<|eot_id|>", "<|start_header_id|>"],
        "plain": ["\nProblem:"]}
_MARK = "\x00PREFIX\x00"


class StepLabelOptions(RecipeOptions):
    problem_field: str = Field("problem", description="seed column holding the problem")
    answer_field: str = Field("answer", description="seed column with the reference answer")
    solution_field: str | None = Field(None, description="seed column with a solution to label; when absent "
                                       "or empty, `samples` solutions are generated")
    template: str = Field("solve.j2", description="question template in templates/ (solve.j2, solve_zh.j2)")
    system: str | None = Field(None, description="system prompt")
    samples: int = Field(1, ge=1, le=64, description="solutions generated per problem (no solution_field)")
    temperature: float | None = Field(None, ge=0, le=2, description="temperature of generated solutions")
    max_tokens: int | None = Field(None, ge=1, description="tokens per generated solution")
    rollouts: int = Field(8, ge=1, le=256, description="continuations per step prefix (Math-Shepherd: 8)")
    rollout_temperature: float | None = Field(None, ge=0, le=2, description="temperature of rollouts")
    rollout_max_tokens: int | None = Field(None, ge=1, description="tokens per rollout (default: the run's)")
    search: Literal["linear", "binary"] = Field("linear", description="linear: every prefix (Math-Shepherd); "
                                                 "binary: search the first error (OmegaPRM)")
    estimation: Literal["hard", "soft"] = Field("hard", description="hard: + if any rollout is correct; "
                                                "soft: + if the correct share >= soft_threshold")
    soft_threshold: float = Field(0.5, gt=0, le=1)
    prompt_format: Literal["chatml", "llama3", "plain"] = Field("chatml", description="chat template applied "
                                                               "client-side for raw-completion rollouts")
    seed: int | None = Field(None, description="seed of the first solution / rollout (default: derived)")
    verify_timeout: float = Field(5.0, gt=0)


class StepLabelsRecipe(Recipe):
    name = "step-labels"
    version = "1"
    description = "Label solution steps by Monte-Carlo rollouts from each prefix (Math-Shepherd / OmegaPRM)."
    Options = StepLabelOptions
    exports = EXPORTS

    def __init__(self, options=None) -> None:
        super().__init__(options)
        check_template(self, self.options.template)

    def required_fields(self) -> list[str]:
        return [self.options.problem_field, self.options.answer_field]

    def prefix_prompt(self, prompt: list[dict], prefix: str) -> str:
        """The raw text of the open assistant turn holding ``prefix`` (verbatim, trailing newline kept)."""
        system = next((m["content"] for m in prompt if m["role"] == "system"), None)
        head = self.render(f"prefix_{self.options.prompt_format}.j2", system=system, user=prompt[-1]["content"],
                           prefix=_MARK)
        return head.replace(_MARK, prefix)

    async def run(self, row, llm):
        o = self.options
        problem = str(row[o.problem_field]).strip()
        gold = reference_answer(row.get(o.answer_field))
        if gold is None:
            raise RecipeError(f"no reference answer in {o.answer_field!r}: step labels need one")
        prompt = prompt_messages(self, o.template, problem, o.system)
        given = str(row.get(o.solution_field) or "").strip() if o.solution_field else ""
        if given:
            solutions = [(given, None)]
        else:
            made = await llm.chat(prompt, n=o.samples, temperature=o.temperature, max_tokens=o.max_tokens,
                                  seed=o.seed)
            solutions = [(c.text, c) for c in made]
        return [await self.label(llm, problem, gold, prompt, i, text, c) for i, (text, c) in enumerate(solutions)]

    async def label(self, llm, problem: str, gold: str, prompt: list[dict], index: int, solution: str,
                    completion) -> dict:
        o = self.options
        steps = split_steps(solution)
        cuts = prefix_ends(solution, steps)
        found = extract_answer(solution)
        verdict = await acheck(gold, found.answer, timeout=o.verify_timeout)
        counts = {"requests": 0, "rollouts": 0}

        async def evaluate(i: int) -> Rollouts:
            prefix = solution[: cuts[i]]
            outs = await llm.complete(self.prefix_prompt(prompt, prefix), n=o.rollouts,
                                      temperature=o.rollout_temperature, max_tokens=o.rollout_max_tokens,
                                      seed=o.seed, stop=STOP[o.prompt_format])
            answers = [extract_answer(prefix + c.text).answer for c in outs]
            verdicts = await acheck_many([(gold, a) for a in answers], timeout=o.verify_timeout)
            counts["requests"] += 1 if llm.capabilities.native_n else len(outs)
            counts["rollouts"] += len(outs)
            return Rollouts(len(outs), sum(v.correct for v in verdicts))

        result = await label_steps(len(steps), verdict.correct, evaluate, search=o.search,
                                   estimation=o.estimation, soft_threshold=o.soft_threshold)
        step_rows = []
        for i, text in enumerate(steps):
            r = result.rollouts.get(i)
            final = i == len(steps) - 1 and result.sources[i] == "final_answer"
            mc = r.mc_value if r else (float(verdict.correct) if final else None)
            step_rows.append({"index": i, "text": text, "label": result.labels[i], "label_source": result.sources[i],
                              "mc_value": mc, "n_rollouts": r.n if r else 0, "n_correct": r.correct if r else 0})
        return {
            "problem": problem,
            "reference_answer": gold,
            "reference_answer_source": "gold",
            "sample_index": index,
            "solution": solution,
            "steps": step_rows,
            "first_error_step": result.first_error,
            "final_answer": found.answer,
            "answer_pattern": found.pattern,
            "correct": verdict.correct,
            "verification": verification(verdict),
            "search": {"mode": o.search, "estimation": o.estimation, "rollouts_per_prefix": o.rollouts,
                       "prefix_evaluations": result.evaluations, **counts},
            "generation": generation_info(llm, completion, temperature=o.temperature if o.temperature is not None
                                           else llm.defaults.temperature) if completion else None,
            "messages": sft_messages(prompt, solution) if verdict.correct else None,
        }


def prefix_ends(solution: str, steps: list[str]) -> list[int]:
    """Where the prefix ending with step i stops in ``solution``: at the start of step i+1, so the separator
    the model wrote (newline, blank line) stays in the prefix; the last prefix is the whole solution.

        >>> prefix_ends("a = 1.\\n\\nb = 2.\\nSo 3.", ["a = 1.", "b = 2.", "So 3."])
        [8, 15, 20]
    """
    starts, pos = [], 0
    for step in steps:
        at = solution.find(step, pos)
        at = pos if at < 0 else at
        starts.append(at)
        pos = at + len(step)
    return starts[1:] + [len(solution)]
