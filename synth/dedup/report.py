"""The dedup report: counts, clusters, the (b, r) used and its S-curve, timings; as a dict and as text."""

from __future__ import annotations

import numpy as np

from synth.dedup.params import midpoint, s_curve


def build_report(config, n, reason, dup_of, dup_ix, stats, times, fields, *, index_before=0, index=None) -> dict:
    b, r = config.params
    exact = reason == 1
    near = reason == 2
    # clusters: a survivor (batch row or index row) with the rows that duplicate it
    targets = np.concatenate([dup_of[(reason > 0) & (dup_of >= 0)], -1 - dup_ix[(reason > 0) & (dup_ix >= 0)]])
    _, sizes = np.unique(targets, return_counts=True)
    sizes = sizes + 1
    rep = {
        "config": str(config),
        "params": {"threshold": config.threshold, "num_perm": config.num_perm, "bands": b, "rows": r,
                   "ngram": config.ngram, "cjk_ngram": config.cjk_ngram, "seed": config.seed,
                   "keep": config.keep, "fields": fields, "midpoint": round(midpoint(b, r), 4)},
        "s_curve": {f"{s:.2f}": round(p, 4) for s, p in s_curve(b, r)},
        "rows_in": int(n),
        "rows_kept": int(n - exact.sum() - near.sum()),
        "dropped_exact": int(exact.sum()),
        "dropped_near": int(near.sum()),
        "dropped_vs_index": int(((reason > 0) & (dup_ix >= 0)).sum()),
        "clusters": int(len(sizes)),
        "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        "candidate_pairs": int(stats["candidate_pairs"]),
        "verified_pairs": int(stats["verified_pairs"]),
        "seconds": {k: round(v, 3) for k, v in times.items()},
        "rows_per_s": round(n / times["total_s"], 1) if times.get("total_s") else None,
    }
    if index is not None:
        rep["index"] = {"rows_before": int(index_before), "rows_after": int(index.count),
                        "bytes_per_row": round(index.nbytes / index.count, 1) if index.count and hasattr(index, "nbytes") else None}
    return rep


def format_report(rep: dict) -> str:
    """Human-readable summary with the S-curve, as printed by ``synth dedup``."""
    p = rep["params"]
    lines = [
        f"rows in {rep['rows_in']:,}  kept {rep['rows_kept']:,}  dropped exact {rep['dropped_exact']:,}  "
        f"near {rep['dropped_near']:,}  (of which vs index {rep['dropped_vs_index']:,})",
        f"clusters {rep['clusters']:,} (largest {rep['largest_cluster']})  candidate pairs "
        f"{rep['candidate_pairs']:,} -> verified {rep['verified_pairs']:,}",
        f"MinHash {p['num_perm']} perms, word {p['ngram']}-grams / CJK char {p['cjk_ngram']}-grams; "
        f"LSH b x r = {p['bands']} x {p['rows']} (50 % point J={p['midpoint']:.3f}); "
        f"pairs verified at J >= {p['threshold']}",
        "P(pair becomes a candidate) at Jaccard: "
        + "  ".join(f"{s}:{v:.2f}" for s, v in rep["s_curve"].items()),
    ]
    if "index" in rep:
        ix = rep["index"]
        lines.append(f"index rows {ix['rows_before']:,} -> {ix['rows_after']:,}"
                     + (f" ({ix['bytes_per_row']} bytes/row in memory)" if ix.get("bytes_per_row") else ""))
    if rep.get("rows_per_s"):
        lines.append(f"{rep['rows_per_s']:,.0f} rows/s, {rep['seconds']['total_s']} s")
    return "\n".join(lines)
