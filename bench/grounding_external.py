"""The cheap grounding checks (synth.grounding, no judge) on items written against real public documents.

    .venv/bin/python bench/external/build.py       # once: materialise bench/external/data/
    .venv/bin/python bench/grounding_external.py [--items PATH] [--speed] [--json OUT]

Items: bench/external/data/grounding_items.jsonl unless --items names another file of the same shape
(id, label, kind, chunk, answer, evidence) (SOURCES.md: Chinese laws from the national database, NIST
SP 800-63B; chunks are real, answers were written by hand against them, half unsupported in the ways
doc-qa answers go wrong; bench/external/data/grounding_heldout.jsonl is the second set, on other documents,
used for development since: bench/RESULTS.md). Prints the verdicts (pass / uncertain / fail) by kind, the precision of "pass"
(supported answers among those passed: "pass" skips the judge), the share of supported answers that pass
and the share that fail outright (no judge can save them).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ITEMS = REPO / "bench" / "external" / "data" / "grounding_items.jsonl"


def measure(items: list[dict], slack: float = 0.0) -> dict:
    from synth.grounding import Thresholds, check_answer

    thresholds = Thresholds(binding_slack=slack)

    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    reasons: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    passed_unsupported, failed_supported = [], []
    for item in items:
        v = check_answer(item["answer"], item["evidence"], item["chunk"], thresholds=thresholds)
        key = f"{item['label']}:{item['kind']}"
        by_kind[key][v.status] += 1
        reasons[key][v.reason or "-"] += 1
        if v.status == "pass" and item["label"] == "unsupported":
            passed_unsupported.append(item["id"])
        if v.status == "fail" and item["label"] == "supported":
            failed_supported.append((item["id"], v.reason))
    sup = [c for k, c in by_kind.items() if k.startswith("supported:")]
    uns = [c for k, c in by_kind.items() if k.startswith("unsupported:")]
    n_sup = sum(sum(c.values()) for c in sup)
    sup_pass, uns_pass = sum(c["pass"] for c in sup), sum(c["pass"] for c in uns)
    return {"items": len(items), "supported": n_sup, "unsupported": len(items) - n_sup,
            "precision_of_pass": round(sup_pass / (sup_pass + uns_pass), 3) if sup_pass + uns_pass else None,
            "supported_pass": round(sup_pass / n_sup, 3), "supported_fail": round(sum(c["fail"] for c in sup) / n_sup, 3),
            "unsupported_pass": uns_pass,
            "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
            "reasons": {k: dict(v) for k, v in sorted(reasons.items())},
            "passed_unsupported": passed_unsupported, "failed_supported": failed_supported}


def speed(items: list[dict], rounds: int = 5) -> dict[str, float]:
    """Answers per CPU second (``process_time``: other jobs on the machine do not count), each with a fresh
    chunk, and with each chunk prepared once as a Context as the recipes do."""
    import time

    from synth.grounding import Context, check_answer

    out = {}
    for name, prepared in (("fresh_chunk", False), ("chunk_prepared_once", True)):
        start = time.process_time()
        for _ in range(rounds):
            contexts: dict[str, Context] = {}
            for item in items:
                text = item["chunk"]
                if prepared and text not in contexts:
                    contexts[text] = Context(text)
                check_answer(item["answer"], item["evidence"], contexts[text] if prepared else text)
        out[name] = round(rounds * len(items) / (time.process_time() - start))
    return out


def _read(path: Path) -> list[dict]:
    if not path.exists():
        sys.exit(f"error: {path} missing: run bench/external/build.py first")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def frontier(paths: list[Path], slacks: tuple[float, ...] = (0.0, 0.125, 0.17, 0.25, 0.34)) -> None:
    """What each binding_slack buys (supported passing) and costs (precision of pass), set by set."""
    print("| items | binding_slack | precision of pass | supported passing | supported failing | unsupported passing |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        items = _read(path)
        for slack in slacks:
            r = measure(items, slack)
            print(f"| {path.stem} | {slack} | {r['precision_of_pass']} | {r['supported_pass']:.1%} | "
                  f"{r['supported_fail']:.1%} | {r['unsupported_pass']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=Path, default=ITEMS, help=f"items to measure (default {ITEMS.relative_to(REPO)})")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--speed", action="store_true", help="also time the checks (answers per CPU second)")
    parser.add_argument("--binding-slack", type=float, default=0.0,
                        help="Thresholds.binding_slack: share of a claim's distinctive words its segment may lack")
    parser.add_argument("--frontier", type=Path, nargs="+", metavar="ITEMS",
                        help="instead: the trade-off of binding_slack (0 to 0.34) on each of these item files")
    args = parser.parse_args()
    if args.frontier:
        return frontier(args.frontier)
    items = _read(args.items)
    r = measure(items, args.binding_slack)
    print(f"{r['items']} items ({r['supported']} supported, {r['unsupported']} unsupported); cheap checks, no judge")
    print(f"precision of pass {r['precision_of_pass']}   supported passing {r['supported_pass']}   "
          f"supported failing {r['supported_fail']}   unsupported passing {r['unsupported_pass']}\n")
    print(f"{'label:kind':<32} {'pass':>5} {'unc.':>5} {'fail':>5}   reasons")
    for key, c in r["by_kind"].items():
        print(f"{key:<32} {c.get('pass', 0):>5} {c.get('uncertain', 0):>5} {c.get('fail', 0):>5}   {r['reasons'][key]}")
    print("\nunsupported but passed:", ", ".join(r["passed_unsupported"]) or "none")
    print("supported but failed:", ", ".join(f"{i} ({why})" for i, why in r["failed_supported"]) or "none")
    if args.speed:
        r["speed"] = speed(items)
        print("answers per CPU second:", ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in r["speed"].items()))
    if args.json:
        args.json.write_text(json.dumps(r, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
