"""Precision and recall of the cheap grounding checks (synth.grounding, no judge) on labelled pairs.

Each pair is (chunk, answer, evidence quotes, label supported/unsupported), written by hand in
tests/grounding/labelled_pairs.jsonl: finance, medicine, manufacturing and law, Chinese and English,
with the tricky kinds (wrong number, swapped entity, paraphrased or fabricated quote, full-width
and whitespace differences, PDF line breaks inside a quote). The label says whether every claim of
the answer is supported by the chunk, whatever the quality of the quotes.

A pair counts as *kept* when the verdict is "pass". "uncertain" (left for the judge) and "fail"
both count as not kept, which is what a run with ``judge: never`` does. Precision = kept pairs that
are supported / kept; recall = supported pairs kept / supported pairs.

    .venv/bin/python bench/grounding.py              # default thresholds, per-kind table
    .venv/bin/python bench/grounding.py --sweep      # also precision/recall over thresholds
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from synth.grounding import Thresholds, check_answer

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "grounding" / "labelled_pairs.jsonl"


def load(path: Path = PAIRS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(pairs: list[dict], thresholds: Thresholds = Thresholds()) -> dict:
    """Counts, precision and recall of 'pass' as the prediction of 'supported'."""
    verdicts = [check_answer(p["answer"], p["evidence"], p["chunk"], thresholds=thresholds) for p in pairs]
    tp = sum(v.status == "pass" and p["label"] == "supported" for p, v in zip(pairs, verdicts))
    fp = sum(v.status == "pass" and p["label"] != "supported" for p, v in zip(pairs, verdicts))
    fn = sum(v.status != "pass" and p["label"] == "supported" for p, v in zip(pairs, verdicts))
    failed = [(p, v) for p, v in zip(pairs, verdicts) if v.status == "fail"]
    return {
        "pairs": len(pairs), "tp": tp, "fp": fp, "fn": fn, "tn": len(pairs) - tp - fp - fn,
        "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
        # of the hard rejections (no judge could rescue them), how many were right to reject
        "fail_precision": (sum(p["label"] != "supported" for p, _ in failed) / len(failed)) if failed else 1.0,
        "status": Counter(v.status for v in verdicts), "reasons": Counter(v.reason for v in verdicts if v.reason),
        "verdicts": verdicts,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    ap.add_argument("--sweep", action="store_true", help="precision/recall over support and quote thresholds")
    args = ap.parse_args()
    pairs = load(args.pairs)
    evaluate(pairs[:4])  # imports and lazy tables out of the timing
    t0 = time.perf_counter()
    result = evaluate(pairs * 10)
    seconds = (time.perf_counter() - t0) / 10
    result = evaluate(pairs)
    print(f"{result['pairs']} pairs ({sum(p['label'] == 'supported' for p in pairs)} supported), "
          f"{result['pairs'] / seconds:,.0f} pairs/s")
    print(f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
          f"(tp {result['tp']} fp {result['fp']} fn {result['fn']} tn {result['tn']})")
    print(f"verdicts {dict(result['status'])}; hard rejections right {result['fail_precision']:.3f}")
    print(f"reasons {dict(result['reasons'])}")
    by_kind: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for p, v in zip(pairs, result["verdicts"]):
        by_kind[(p["kind"], p["label"])][v.status] += 1
    print("\n| kind | label | pass | uncertain | fail |\n|---|---|---:|---:|---:|")
    for (kind, label), c in sorted(by_kind.items()):
        print(f"| {kind} | {label} | {c['pass']} | {c['uncertain']} | {c['fail']} |")
    wrong = [(p, v) for p, v in zip(pairs, result["verdicts"])
             if (v.status == "pass") != (p["label"] == "supported")]
    if wrong:
        print("\nmisjudged:")
        for p, v in wrong:
            print(f"  {p['id']} {p['kind']} label={p['label']} -> {v.status} {v.reason or ''} "
                  f"support={v.checks['lexical_support']}")
    if args.sweep:
        print("\n| support | quote score | precision | recall |\n|---:|---:|---:|---:|")
        for support in (0.3, 0.4, 0.5, 0.6, 0.7):
            for quote in (80.0, 85.0, 90.0, 95.0):
                r = evaluate(pairs, Thresholds(quote_score=quote, support=support))
                print(f"| {support} | {quote:g} | {r['precision']:.3f} | {r['recall']:.3f} |")


if __name__ == "__main__":
    main()
