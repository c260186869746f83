"""The chat filters at their defaults on labelled rows nobody here wrote (bench/external), and their drop
rate on Alpaca.

    .venv/bin/python bench/external/build.py     # once: materialise bench/external/data/ from the sources
    .venv/bin/python bench/filters_external.py [--json OUT]

Rows: bench/external/data/filters_rows.jsonl (SOURCES.md: AlpacaEval model outputs, Alpaca, HH-RLHF, BELLE,
Chinese-LLaMA-Alpaca; English and Chinese; labelled good/bad with the kind of badness). Every chat filter
runs at its defaults on every row (final-answer is for reasoning rows and blocklist needs terms: both
left out). A filter's precision is the share of the rows it drops that are bad; its recall, the share of
the bad rows of its kind (wrong_language: lang-match, truncated: truncation, refusal: refusal, repetition:
repetition, template_leak: template-leak, too_short: length) that it drops. Together: bad rows out (any
filter) and good rows lost (any filter), by kind and language. Alpaca: the share of the 5,000-row sample of
the 52k set (the whole file is not in any snapshot) that each filter drops alone.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ROWS = REPO / "bench" / "external" / "data" / "filters_rows.jsonl"
CHAT = ("truncation", "finish-reason", "length", "refusal", "template-leak", "lang-match", "repetition")
OWNER = {"wrong_language": "lang-match", "truncated": "truncation", "refusal": "refusal", "repetition": "repetition",
         "template_leak": "template-leak", "too_short": "length"}


def run(rows: list[dict]) -> dict[str, list[str | None]]:
    from synth.filter import as_decision, make_filter

    out = {}
    for name in CHAT:
        flt = make_filter(name, None)
        out[name] = [None if (v := as_decision(flt.filter(r["record"]), name)).keep else v.reason for r in rows]
    return out


def measure(rows: list[dict]) -> dict:
    drops = run(rows)
    per_filter = {}
    for name in CHAT:
        dropped = [r for r, reason in zip(rows, drops[name]) if reason]
        owned = [i for i, r in enumerate(rows) if r["label"] == "bad" and OWNER.get(r["kind"]) == name]
        caught = sum(1 for i in owned if drops[name][i])
        per_filter[name] = {"dropped": len(dropped), "bad_dropped": sum(r["label"] == "bad" for r in dropped),
                            "good_dropped": [r["id"] for r in dropped if r["label"] == "good"],
                            "precision": round(sum(r["label"] == "bad" for r in dropped) / len(dropped), 3) if dropped else None,
                            "owned": len(owned), "recall": round(caught / len(owned), 3) if owned else None,
                            "missed": [rows[i]["id"] for i in owned if not drops[name][i]]}
    any_drop = [any(drops[n][i] for n in CHAT) for i in range(len(rows))]
    by = collections.defaultdict(lambda: [0, 0])
    for r, d in zip(rows, any_drop):
        key = f"{r['label']}:{r['kind'] if r['label'] == 'bad' else 'all'}:{r['lang']}"
        by[key][0] += d
        by[key][1] += 1
    bad = [d for r, d in zip(rows, any_drop) if r["label"] == "bad"]
    good = [d for r, d in zip(rows, any_drop) if r["label"] == "good"]
    return {"rows": len(rows), "bad": len(bad), "good": len(good),
            "bad_out": round(sum(bad) / len(bad), 3), "good_lost": round(sum(good) / len(good), 3),
            "good_lost_ids": [r["id"] for r, d in zip(rows, any_drop) if d and r["label"] == "good"],
            "bad_kept_ids": [r["id"] for r, d in zip(rows, any_drop) if not d and r["label"] == "bad"],
            "per_filter": per_filter, "by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by.items())}}


def alpaca_share() -> dict:
    from bench.external.build import Rows, Sources
    from synth.filter import as_decision, make_filter

    rows = Rows(Sources(Path("/work/.mirror")))._json("alpaca", "data/alpaca_5000.json")
    records = [{"instruction": r["instruction"], "input": r["input"], "output": r["output"]} for r in rows]
    out = {"rows": len(records)}
    dropped_any = [False] * len(records)
    for name in CHAT:
        flt = make_filter(name, None)
        reasons = collections.Counter()
        for i, rec in enumerate(records):
            v = as_decision(flt.filter(rec), name)
            if not v.keep:
                reasons[v.reason] += 1
                dropped_any[i] = True
        out[name] = {"share": round(sum(reasons.values()) / len(records), 4), "reasons": dict(reasons.most_common(4))}
    out["any"] = round(sum(dropped_any) / len(records), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if not ROWS.exists():
        sys.exit(f"error: {ROWS} missing: run bench/external/build.py first")
    rows = [json.loads(line) for line in ROWS.read_text(encoding="utf-8").splitlines()]
    result = measure(rows)
    print(f"{result['rows']} rows ({result['bad']} bad, {result['good']} good); chat filters at defaults")
    print(f"bad rows out: {result['bad_out']:.3f}   good rows lost: {result['good_lost']:.3f}\n")
    print(f"{'filter':<15} {'precision':>9} {'recall':>7}  dropped  good lost  (bad rows of its kind)")
    for name, s in result["per_filter"].items():
        p = "-" if s["precision"] is None else f"{s['precision']:.3f}"
        r = "-" if s["recall"] is None else f"{s['recall']:.3f}"
        print(f"{name:<15} {p:>9} {r:>7}  {s['dropped']:>7}  {len(s['good_dropped']):>9}  ({s['owned']})")
    print("\ndropped by any filter, by label:kind:language")
    for key, v in result["by_kind"].items():
        print(f"  {key:<28} {v}")
    print("\ngood rows lost:", ", ".join(result["good_lost_ids"]) or "none")
    print("bad rows kept:", ", ".join(result["bad_kept_ids"]) or "none")
    share = alpaca_share()
    print(f"\nAlpaca ({share['rows']:,}-row sample of the 52k): dropped by any chat filter {share['any']:.1%}")
    for name in CHAT:
        print(f"  {name:<15} {share[name]['share']:>7.2%}  {share[name]['reasons']}")
    result["alpaca"] = share
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
