"""Requests per problem for `step-labels`: every prefix (Math-Shepherd) vs binary search (OmegaPRM).

A deterministic in-process model (no server, no GPU) stands in for the LLM, so only the search differs:

- each problem's solution has S steps; in a share of them (``--correct``) every step is right, otherwise
  the first wrong step is uniform over the steps (seeded);
- a rollout from a prefix that contains the wrong step always ends wrong; from a clean prefix it reaches
  the gold answer with probability ``--p-correct`` (hashed from the request seed, so runs repeat exactly).

The recipe runs unchanged (`StepLabelsRecipe.run` through the real `LLM`), and every labelling is checked to
find the planted first error whenever it has a correct rollout to go by. One prefix evaluation is one
request on a server with native ``n`` (vLLM); ``rollouts`` counts the samples.

    .venv/bin/python bench/step_labels.py --problems 200 --rollouts 8
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import statistics

from synth.engines.base import Completion, Engine, Sampling
from synth.llm import LLM
from synth.recipes.step_labels.recipe import StepLabelsRecipe


class PlantedModel(Engine):
    """Chat: the planted solution of the problem. Completions: right unless the prefix holds the error."""

    kind = "bench"

    def __init__(self, solutions: dict[str, str], p_correct: float) -> None:
        super().__init__("planted")
        self.solutions, self.p_correct = solutions, p_correct
        self.capabilities.native_n = self.capabilities.completions = True

    async def chat(self, messages, sampling: Sampling, *, n=1, json_schema=None):
        problem = messages[-1]["content"].rsplit("\n\n", 1)[-1]
        self.stats.requests += 1
        return [Completion(self.solutions[problem], "stop") for _ in range(n)]

    async def complete(self, prompt: str, sampling: Sampling, *, n=1):
        self.stats.requests += 1
        partial = prompt.split("<|im_start|>assistant\n", 1)[1]
        out = []
        for i in range(n):
            h = int(hashlib.sha256(f"{prompt}:{sampling.seed}:{i}".encode()).hexdigest()[:8], 16) / 2**32
            right = "WRONG" not in partial and h < self.p_correct
            out.append(Completion(f"The answer is {1 if right else 2}.", "stop"))
        return out


def plant(rng: random.Random, index: int, steps: int, correct_share: float) -> tuple[str, str, int | None]:
    error = None if rng.random() < correct_share else rng.randrange(steps)
    lines = [f"Step {i + 1}: {'WRONG' if error is not None and i >= error else 'ok'} move {index}."
             for i in range(steps - 1)]
    lines.append(f"Step {steps}: The answer is {2 if error is not None else 1}.")
    return f"Problem {index}: find the answer.", "\n".join(lines), error


async def measure(search: str, problems, args) -> dict:
    solutions = {p: s for p, s, _ in problems}
    engine = PlantedModel(solutions, args.p_correct)
    llm = LLM(engine, None, Sampling(max_tokens=16), run_seed=0)
    recipe = StepLabelsRecipe({"rollouts": args.rollouts, "search": search})
    requests, rollouts, found = [], [], 0
    for problem, _, error in problems:
        (record,) = await recipe.run({"problem": problem, "answer": "1"}, llm)
        requests.append(record["search"]["prefix_evaluations"])
        rollouts.append(record["search"]["rollouts"])
        found += record["first_error_step"] == error
    return {"requests": statistics.mean(requests), "rollouts": statistics.mean(rollouts),
            "first_error_found": found / len(problems)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", type=int, default=200, help="problems per step count")
    ap.add_argument("--steps", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--rollouts", type=int, default=8)
    ap.add_argument("--p-correct", type=float, default=0.7, help="chance a rollout from a clean prefix is right")
    ap.add_argument("--correct", type=float, default=0.25, help="share of solutions with no wrong step")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"rollouts per prefix {args.rollouts}, p_correct {args.p_correct}, correct solutions "
          f"{args.correct:.0%}, {args.problems} problems per row; requests = prefix evaluations (native n)")
    print("| steps | linear req/problem | binary req/problem | ratio | linear rollouts | binary rollouts "
          "| first error found (lin / bin) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for steps in args.steps:
        rng = random.Random(f"{args.seed}:{steps}")
        problems = [plant(rng, i, steps, args.correct) for i in range(args.problems)]
        lin = asyncio.run(measure("linear", problems, args))
        bin_ = asyncio.run(measure("binary", problems, args))
        print(f"| {steps} | {lin['requests']:.2f} | {bin_['requests']:.2f} | "
              f"{lin['requests'] / max(bin_['requests'], 1e-9):.1f}x | {lin['rollouts']:.1f} | {bin_['rollouts']:.1f} "
              f"| {lin['first_error_found']:.0%} / {bin_['first_error_found']:.0%} |")


if __name__ == "__main__":
    main()
