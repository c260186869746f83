"""The instruction grid: leaf × task type × difficulty × persona × language, with a quota per cell.

Diversity by construction (Persona Hub's attribute sampling, arXiv 2406.20094) and coverage by
construction (GLAN's per-concept homework, arXiv 2402.13064): every cell is one seed row asking for
exactly `quota` questions. Weights scale the quota of a subtree or a task type; a weight that rounds
the quota to 0 removes the cell. `sample: N` keeps N cells spread evenly over the leaves (a shuffled
round-robin with a fixed seed), so a large grid can be tried at a fraction of its cost and every leaf
still gets cells.

>>> cells = build_cells([("a", "x"), ("a", "y")], tasks=["qa", "case"], difficulties=["basic"],
...                     personas=[None], languages=["en"], quota=2, task_weights={"case": 0.5})
>>> [(c["leaf"], c["task"], c["quota"]) for c in cells]
[('x', 'qa', 2), ('x', 'case', 1), ('y', 'qa', 2), ('y', 'case', 1)]
>>> [c["leaf"] for c in sample_cells(cells, 2, seed=0)]
['x', 'y']
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict

from synth.errors import ConfigError

# Built-in task types and difficulty levels: name -> description per language. Users add their own
# with `task_descriptions` / `difficulty_descriptions`.
TASK_TYPES: dict[str, dict[str, str]] = {
    "qa": {"en": "a knowledge question with a definite, checkable answer",
           "zh": "有明确、可核对答案的知识问答题"},
    "explanation": {"en": "a request to explain a concept, rule or mechanism and why it works that way",
                    "zh": "请求解释某个概念、规则或机制，并说明其原因"},
    "howto": {"en": "a practical how-to question that asks for concrete steps",
              "zh": "询问具体办理或操作步骤的实务问题"},
    "case": {"en": "a realistic scenario with concrete details that asks for an analysis or a recommendation",
             "zh": "带有具体情节和细节的真实场景，要求分析问题或给出建议"},
    "calculation": {"en": "a problem with concrete numbers that needs a calculation",
                    "zh": "给出具体数字、需要计算才能回答的题目"},
    "comparison": {"en": "a question comparing two or more related concepts, products or options",
                   "zh": "比较两个或多个相关概念、产品或方案的问题"},
}
DIFFICULTIES: dict[str, dict[str, str]] = {
    "basic": {"en": "basic: recall of one fact or definition, answerable by a newcomer to the field",
              "zh": "基础：考查单个事实或定义，入门者即可回答"},
    "intermediate": {"en": "intermediate: applying the concept to a situation, combining several facts",
                     "zh": "进阶：把概念用到具体情境中，需要综合几条知识"},
    "advanced": {"en": "advanced: multi-step reasoning, edge cases or trade-offs a practitioner would weigh",
                 "zh": "高级：需要多步推理，涉及例外情形或专业人士才会权衡的取舍"},
}


def describe(catalog: dict[str, dict[str, str]], custom: dict[str, str], name: str, language: str) -> str:
    """The description of a task type or difficulty in `language` (a custom one as written)."""
    if name in custom:
        return custom[name]
    return catalog[name].get(language) or catalog[name]["en"]


def check_names(option: str, names: list[str], catalog: dict, custom: dict[str, str], custom_option: str) -> None:
    unknown = [n for n in names if n not in catalog and n not in custom]
    if unknown:
        raise ConfigError(f"recipe 'taxonomy': options.{option}: unknown {unknown[0]!r} (built in: "
                          f"{', '.join(catalog)}; describe your own in options.{custom_option})")


def cell_id(path: tuple[str, ...] | list[str], task: str, difficulty: str, persona: str | None, language: str) -> str:
    """A stable id of a cell: the same coordinates give the same id in every run."""
    key = json.dumps([list(path), task, difficulty, persona, language], ensure_ascii=False)
    return "c" + hashlib.sha256(key.encode()).hexdigest()[:11]


def leaf_weight(path: tuple[str, ...], weights: dict[tuple[str, ...], float]) -> float:
    """The weight of the longest prefix of `path` that has one (1.0 when none does)."""
    for n in range(len(path), 0, -1):
        if path[:n] in weights:
            return weights[path[:n]]
    return 1.0


def parse_leaf_weights(raw: dict[str, float], leaves: list[tuple[str, ...]]) -> dict[tuple[str, ...], float]:
    """`{"topic/subtopic": 2.0}` -> {("topic", "subtopic"): 2.0}; every key must name a node of the tree."""
    prefixes = {leaf[:n] for leaf in leaves for n in range(1, len(leaf) + 1)}
    out = {}
    for key, weight in raw.items():
        path = tuple(part.strip() for part in key.split("/") if part.strip())
        if path not in prefixes:
            raise ConfigError(f"recipe 'taxonomy': options.leaf_weights: {key!r} names no node of the tree "
                              "(write the path from a top topic, parts joined by '/')")
        out[path] = weight
    return out


def build_cells(leaves: list[tuple[str, ...]], *, tasks: list[str], difficulties: list[str],
                personas: list[str | int | None], languages: list[str], quota: int,
                leaf_weights: dict[tuple[str, ...], float] | None = None,
                task_weights: dict[str, float] | None = None) -> list[dict]:
    """One seed row per cell, in tree order; `personas` holds texts, slot numbers (generated later) or None."""
    cells = []
    for path in leaves:
        lw = leaf_weight(path, leaf_weights or {})
        for task in tasks:
            n = int(quota * lw * (task_weights or {}).get(task, 1.0) + 0.5)
            if n < 1:
                continue
            for difficulty in difficulties:
                for persona in personas:
                    for language in languages:
                        text = persona if isinstance(persona, str) else None
                        slot = persona if isinstance(persona, int) else None
                        pid = text if slot is None else f"#{slot}"
                        cells.append({"cell": cell_id(path, task, difficulty, pid, language), "round": 0,
                                      "quota": n, "path": list(path), "leaf": path[-1], "task": task,
                                      "difficulty": difficulty, "persona": text, "persona_slot": slot,
                                      "language": language, "avoid": []})
    return cells


def sample_cells(cells: list[dict], n: int, *, seed: int = 0) -> list[dict]:
    """`n` cells spread evenly over the leaves (shuffled round-robin), returned in grid order."""
    if n >= len(cells):
        return cells
    rng = random.Random(seed)
    by_leaf: dict[tuple, list[int]] = defaultdict(list)
    for i, c in enumerate(cells):
        by_leaf[tuple(c["path"])].append(i)
    for members in by_leaf.values():
        rng.shuffle(members)
    leaves = list(by_leaf)
    rng.shuffle(leaves)
    chosen: list[int] = []
    depth = 0
    while len(chosen) < n:
        for leaf in leaves:
            if depth < len(by_leaf[leaf]) and len(chosen) < n:
                chosen.append(by_leaf[leaf][depth])
        depth += 1
    return [cells[i] for i in sorted(chosen)]
