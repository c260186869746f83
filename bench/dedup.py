"""Dedup benchmark: synth vs the plain datasketch loop, side by side in one run.

    .venv/bin/python bench/dedup.py                      # 100k docs; plain loop on a 20k subsample
    .venv/bin/python bench/dedup.py --docs 20000 --plain-docs 5000   # quick

Builds a corpus (bench/corpus.py: English + Chinese instruction-like texts with planted light 1-5 %
and heavy 5-15 % edits plus casing/punctuation/width noise), then runs each method in its own child
process so CPU time and peak RSS are its own. The plain loop is what users write: one
``MinHash.update`` per shingle, then ``MinHashLSH.query`` + ``insert`` per document, at the same
threshold and num_perm (datasketch chooses its own (b, r) for the threshold). Both use synth's
tokens and word/CJK 3-grams, so quality differences come from the LSH settings alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def _rss_mb() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(me, kids) / 1024


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_synth(rows, args) -> dict:
    from synth.dedup import DedupConfig, dedup_rows
    from synth.dedup.signatures import permutations

    # imports before the clock, as for the plain loop: synth imports datasketch (~0.35 s) lazily
    permutations(args.num_perm, 1)
    with tempfile.TemporaryDirectory() as d:
        cfg = DedupConfig(near=True, threshold=args.threshold, num_perm=args.num_perm, fields=["text"], index=d + "/ix")
        c0, t0 = _cpu(), time.perf_counter()
        res = dedup_rows(rows, cfg)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
    rep_of = {r["id"]: r["id"] for r in res.kept}
    rep_of.update({d["id"]: d["duplicate_of"] for d in res.dropped})
    return {"wall_s": wall, "cpu_s": cpu, "rep_of": rep_of, "bytes_per_doc": res.report["index"]["bytes_per_row"],
            "params": res.report["params"]}


def run_plain(rows, args) -> dict:
    from datasketch import MinHash, MinHashLSH

    from synth.dedup.normalize import tokens
    from synth.dedup.shingles import iter_shingles

    c0, t0 = _cpu(), time.perf_counter()
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
    rep_of = {}
    for r in rows:
        m = MinHash(num_perm=args.num_perm)
        for sh in iter_shingles(tokens(r["text"]), 3):
            m.update(" ".join(sh).encode("utf-8"))
        cands = lsh.query(m)
        rep_of[r["id"]] = min(cands, key=order.__getitem__) if cands else r["id"]
        lsh.insert(r["id"], m)
    return {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0, "rep_of": rep_of, "params": {"bands": lsh.b, "rows": lsh.r}}


order: dict = {}


def child(method: str, corpus: str, args) -> None:
    global order
    rows = [json.loads(x) for x in open(corpus, encoding="utf-8")]
    order = {r["id"]: i for i, r in enumerate(rows)}
    base = _rss_mb()
    out = (run_synth if method == "synth" else run_plain)(rows, args)
    out["peak_rss_mb"], out["rss_after_load_mb"], out["docs"] = _rss_mb(), base, len(rows)
    print(json.dumps(out))


def evaluate(rows, rep_of) -> dict:
    """Planted pair (original, copy) is found when both end in the same cluster (same survivor)."""
    from synth.dedup.normalize import tokens
    from synth.dedup.shingles import iter_shingles

    def root(i):
        seen = 0
        while rep_of.get(i, i) != i and seen < 50:
            i, seen = rep_of[i], seen + 1
        return i

    orig = {r["group"]: r for r in rows if r["kind"] == "original"}
    group = {r["id"]: r["group"] for r in rows}
    by_kind, by_j = {}, {}
    for r in rows:
        if r["kind"] == "original":
            continue
        o = orig[r["group"]]
        hit = root(r["id"]) == root(o["id"])
        by_kind.setdefault(r["kind"], []).append(hit)
        a, b = set(iter_shingles(tokens(o["text"]), 3)), set(iter_shingles(tokens(r["text"]), 3))
        j = len(a & b) / max(1, len(a | b))
        bucket = next(lo for lo in (0.9, 0.8, 0.7, 0.6, 0.5, 0.0) if j >= lo)
        by_j.setdefault(bucket, []).append(hit)
    dropped = [i for i, rep in rep_of.items() if rep != i]
    correct = sum(1 for i in dropped if group[root(i)] == group[i])
    light = [h for k, v in by_kind.items() if k.startswith("light") for h in v]
    return {
        "precision": correct / max(1, len(dropped)),
        "recall_light": sum(light) / max(1, len(light)),
        "recall_by_kind": {k: round(sum(v) / len(v), 4) for k, v in sorted(by_kind.items())},
        "recall_by_true_J": {f">={k}": (round(sum(v) / len(v), 4), len(v)) for k, v in sorted(by_j.items())},
        "dropped": len(dropped),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000, help="corpus size (80 %% originals, 10 %% light, 10 %% heavy copies)")
    ap.add_argument("--plain-docs", type=int, default=20_000, help="subsample for the plain datasketch loop")
    ap.add_argument("--threshold", type=float, default=0.6)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "CORPUS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child[0], args.child[1], args)
    from corpus import Corpus

    n_orig, n_copy = int(args.docs * 0.8), int(args.docs * 0.1)
    rows = Corpus(args.seed).build(n_orig, n_copy, n_copy)
    # the plain loop's subsample: the first originals and their copies, same proportions
    k = int(args.plain_docs * 0.8)
    sub = [r for r in rows if r["group"] < k][: args.plain_docs]
    results = {}
    with tempfile.TemporaryDirectory() as d:
        for name, part in (("synth", rows), ("synth-sub", sub), ("plain", sub)):
            path = Path(d) / f"{name}.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8")
            method = "plain" if name == "plain" else "synth"
            cmd = [sys.executable, __file__, "--child", method, str(path), "--threshold", str(args.threshold),
                   "--num-perm", str(args.num_perm)]
            out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            out.update(evaluate(part, out.pop("rep_of")))
            results[name] = out
            print(f"{name:9s} {out['docs']:>7,} docs  {out['docs'] / out['wall_s']:>9,.0f} docs/s wall  "
                  f"{out['docs'] / out['cpu_s']:>9,.0f} docs/CPU-s  cpu {out['cpu_s']:.1f}s  peak {out['peak_rss_mb']:.0f} MB  "
                  f"P {out['precision']:.4f}  R(light) {out['recall_light']:.4f}", flush=True)
    s, ss, p = results["synth"], results["synth-sub"], results["plain"]
    print(f"\nspeed-up (docs/s wall): synth {args.docs // 1000}k vs plain {args.plain_docs // 1000}k = "
          f"{s['docs'] / s['wall_s'] / (p['docs'] / p['wall_s']):.1f}x; same subsample: "
          f"{ss['docs'] / ss['wall_s'] / (p['docs'] / p['wall_s']):.1f}x")
    print(f"index bytes per doc: {s['bytes_per_doc']}; synth (b, r) = ({s['params']['bands']}, {s['params']['rows']}), "
          f"plain datasketch (b, r) = ({p['params']['bands']}, {p['params']['rows']})")
    mem = (s["peak_rss_mb"] - s["rss_after_load_mb"]) * 2**20 / s["docs"]
    print(f"synth peak RSS above the loaded corpus: {mem:.0f} B/doc")
    print(json.dumps({k: {kk: vv for kk, vv in v.items()} for k, v in results.items()}, indent=1, default=str))


if __name__ == "__main__":
    main()
