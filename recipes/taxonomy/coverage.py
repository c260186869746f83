"""What the kept records cover of the grid, and the top-up rows for the cells left thin.

Both work on the first-pass cells (round 0: their quota is the cell's) and the records kept after
filters and dedup, and both are pure functions of them: the same run gives the same report and the
same top-up rows, which is what lets a re-run find every top-up done.

>>> cells = {"c1": {"cell": "c1", "round": 0, "quota": 2, "path": ["信贷", "征信"], "task": "qa",
...                 "difficulty": "basic", "persona": None, "persona_slot": None, "language": "zh"}}
>>> kept = [{"cell": "c1", "instruction": "Q1", "taxonomy": {"path": ["信贷", "征信"], "task": "qa",
...          "difficulty": "basic", "persona": None, "language": "zh"}}]
>>> report(cells, [cells["c1"]], kept)["thin_cells"]
['c1: 信贷 / 征信 · qa · basic · zh: 1/2']
>>> [(r["round"], r["quota"], r["avoid"]) for r in top_ups(cells, [cells["c1"]], kept, max_rounds=1)]
[(1, 1, ['Q1'])]
>>> top_ups(cells, [cells["c1"], {**cells["c1"], "round": 1, "quota": 1}], kept, max_rounds=1)
[]
"""

from __future__ import annotations

from collections import Counter, defaultdict

AVOID_MAX = 20  # kept questions quoted in a top-up prompt as "do not repeat"
DIMENSIONS = (("task", "rows_by_task"), ("difficulty", "rows_by_difficulty"), ("persona", "rows_by_persona"),
              ("language", "rows_by_language"))


def describe(cell: dict) -> str:
    """`path · task · difficulty[ · persona] · language`; a generated persona shows as its number."""
    persona = cell.get("persona") or (f"#{cell['persona_slot']}" if cell.get("persona_slot") is not None else None)
    parts = [" / ".join(cell["path"]), cell["task"], cell["difficulty"], *([persona] if persona else []),
             cell["language"]]
    return " · ".join(str(p) for p in parts)


def report(cells: dict[str, dict], seeds: list[dict], kept: list[dict]) -> dict:
    """Rows per leaf and dimension, quotas, and the thin cells and leaves (below their quota)."""
    mine = [r for r in kept if r.get("cell") in cells]
    per_cell = Counter(r["cell"] for r in mine)
    quota = sum(c["quota"] for c in cells.values())
    out: dict = {"cells": len(cells), "quota": quota, "rows": len(mine),
                 "fill_rate": round(len(mine) / quota, 4) if quota else 0.0,
                 "top_up_rows": sum(1 for s in seeds if int(s.get("round") or 0) > 0)}
    out["thin_cells"] = [f"{cid}: {describe(c)}: {per_cell[cid]}/{c['quota']}"
                         for cid, c in cells.items() if per_cell[cid] < c["quota"]]
    leaf_rows: dict[str, int] = {}
    leaf_quota: Counter = Counter()
    for c in cells.values():
        leaf_rows.setdefault(" / ".join(c["path"]), 0)
        leaf_quota[" / ".join(c["path"])] += c["quota"]
    for r in mine:
        leaf_rows[" / ".join(r["taxonomy"]["path"])] += 1
    out["thin_leaves"] = [f"{leaf}: {n}/{leaf_quota[leaf]}" for leaf, n in leaf_rows.items() if n < leaf_quota[leaf]]
    out["rows_by_leaf"] = leaf_rows
    for dim, label in DIMENSIONS:
        # every value of the grid, also those without rows; generated personas are named by the records
        counts = {_value(c, dim): 0 for c in cells.values()
                  if not (dim == "persona" and c.get("persona_slot") is not None)}
        for r in mine:
            value = r["taxonomy"][dim] or "(none)"
            counts[value] = counts.get(value, 0) + 1
        if dim in ("task", "difficulty") or len(counts) > 1:
            out[label] = counts
    return out


def top_ups(cells: dict[str, dict], seeds: list[dict], kept: list[dict], *, max_rounds: int) -> list[dict]:
    """One row per thin cell whose last round is below `max_rounds`: the next round, quota = the
    shortfall, the cell's kept questions to avoid."""
    last_round: dict[str, int] = defaultdict(int)
    for s in seeds:
        if s.get("cell") in cells:
            last_round[s["cell"]] = max(last_round[s["cell"]], int(s.get("round") or 0))
    have: dict[str, list[str]] = defaultdict(list)
    for r in kept:
        if r.get("cell") in cells:
            have[r["cell"]].append(r["instruction"])
    return [{**c, "round": last_round[cid] + 1, "quota": c["quota"] - len(have[cid]), "avoid": have[cid][:AVOID_MAX]}
            for cid, c in cells.items() if len(have[cid]) < c["quota"] and last_round[cid] < max_rounds]


def _value(cell: dict, dim: str) -> str:
    return cell.get(dim) or "(none)"
