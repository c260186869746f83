"""Which step prefixes to roll out, and the labels that follow: Math-Shepherd (linear) or OmegaPRM (binary).

``evaluate(i)`` rolls out N continuations from the prefix ending with step ``i`` and returns how many reached
the reference answer. The last step's prefix is the whole solution, so its label is the solution's own
verdict: no rollouts are spent on it.

- ``linear`` (Math-Shepherd, Wang et al. 2023, arXiv 2312.08935): every prefix but the last is rolled out
  (S-1 evaluations for S steps). Hard estimation: +1 if any rollout is correct; soft: +1 if
  ``mc_value >= soft_threshold`` (``mc_value`` = correct / N is stored either way).
- ``binary`` (OmegaPRM's first-error search, Luo et al. 2024, arXiv 2406.06592): a correct solution needs no
  rollouts — every prefix of it has a correct completion, the solution itself, so every step is +1 (hard).
  For a wrong solution the last prefix is known bad (MC = 0); binary search over the others finds the
  first prefix with MC = 0 in about log2(S) evaluations. Steps before it are +1 (``label_source``
  ``mc_*`` where rolled out, ``assumed`` where implied by a later prefix with a correct rollout), it is -1, the
  steps after it are not labelled (``None``), as in PRM800K phase 2, which stops at the first error.
  Left out: OmegaPRM's MCTS around the search (the α/β selection score, exploration term, re-using rollouts as
  new solutions); one wrong solution gives one search.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal


@dataclass
class Rollouts:
    n: int
    correct: int

    @property
    def mc_value(self) -> float:
        return self.correct / self.n if self.n else 0.0


Evaluate = Callable[[int], Awaitable[Rollouts]]


@dataclass
class StepLabels:
    labels: list[int | None]
    sources: list[str | None]
    rollouts: dict[int, Rollouts]     # step index -> rollouts from the prefix ending with it
    first_error: int | None
    evaluations: int


def _rule(r: Rollouts, estimation: str, soft_threshold: float) -> int:
    ok = r.correct > 0 if estimation == "hard" else r.mc_value >= soft_threshold
    return 1 if ok else -1


async def label_steps(n_steps: int, final_correct: bool, evaluate: Evaluate, *,
                      search: Literal["linear", "binary"] = "linear", estimation: Literal["hard", "soft"] = "hard",
                      soft_threshold: float = 0.5) -> StepLabels:
    """Label the ``n_steps`` steps of one solution, evaluating prefixes in order (shortest first)."""
    if n_steps == 0:
        return StepLabels([], [], {}, None, 0)
    rollouts: dict[int, Rollouts] = {}

    async def run(i: int) -> Rollouts:
        if i not in rollouts:
            rollouts[i] = await evaluate(i)
        return rollouts[i]

    last = n_steps - 1
    final = 1 if final_correct else -1
    src = f"mc_{estimation}"
    if search == "linear":
        labels: list[int | None] = [_rule(await run(i), estimation, soft_threshold) for i in range(last)] + [final]
        sources: list[str | None] = [src] * last + ["final_answer"]
    elif final_correct:
        labels, sources = [1] * n_steps, ["final_answer"] * n_steps
    else:
        good, bad = -1, last            # prefix `good` reaches the answer (-1: the bare question, assumed)
        while bad - good > 1:
            mid = (good + bad) // 2
            if (await run(mid)).correct > 0:
                good = mid
            else:
                bad = mid
        labels, sources = [], []
        for i in range(n_steps):
            if i in rollouts:
                labels.append(_rule(rollouts[i], estimation, soft_threshold))
                sources.append(src)
            elif i < bad:
                labels.append(1)
                sources.append("assumed")
            else:
                labels.append(-1 if i == bad else None)
                sources.append(("final_answer" if i == last else src) if i == bad else None)
    first_error = next((i for i, label in enumerate(labels) if label == -1), None)
    if search == "binary" and first_error is not None:  # nothing is claimed after the first error
        labels[first_error + 1:] = [None] * (n_steps - first_error - 1)
        sources[first_error + 1:] = [None] * (n_steps - first_error - 1)
    return StepLabels(labels, sources, rollouts, first_error, len(rollouts))
