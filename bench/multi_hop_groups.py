"""How related are the groups `multi-hop` proposes? On a folder of documents (default: the example
documents), the proposed groups beside random groups of the same sizes (seeded, averaged over 20
draws): the share of groups in which every pair of members shares a distinctive term, in which two
members share a heading term below the document title, that span documents, and the mean number of
distinctive terms two or more members hold (synth.recipes.multi_hop.groups.relatedness).

    python bench/multi_hop_groups.py [FOLDER] [--scope any|cross|within] [--chunk-size 500] [--show]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from synth.recipes.doc_qa.chunks import chunk_info, read_chunks
from synth.recipes.multi_hop.groups import Similarity, chunk_terms, make_groups, relatedness

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", default=str(REPO / "examples/docs/manufacturing-zh"))
    ap.add_argument("--scope", default="any")
    ap.add_argument("--chunk-size", type=int, default=500)
    ap.add_argument("--group-size", type=int, default=3)
    ap.add_argument("--max-uses", type=int, default=1)
    ap.add_argument("--show", action="store_true", help="print each group's chunks and shared terms")
    a = ap.parse_args()
    rows = read_chunks(Path(a.folder), "text", a.chunk_size, None)
    bags = [chunk_terms(r["text"], chunk_info(r)["headings"]) for r in rows]
    distinctive = set(Similarity(bags).idf)
    groups = make_groups(rows, group_size=a.group_size, scope=a.scope, max_uses=a.max_uses)
    infos = [{**chunk_info(r), "text": r["text"]} for r in rows]
    draws = []
    for seed in range(20):
        rng = random.Random(seed)
        draws.append(relatedness([{"chunks": rng.sample(infos, len(g["chunks"]))} for g in groups], distinctive))
    keys = [k for k in draws[0] if k not in ("groups", "pairs")] if groups else []
    baseline = {k: round(sum(d[k] for d in draws) / len(draws), 3) for k in keys}
    print(json.dumps({"chunks": len(rows), "proposed": relatedness(groups, distinctive),
                      "random_same_sizes": baseline}, ensure_ascii=False, indent=1))
    if a.show:
        for g in groups:
            print(g["similarity"], [(c["source"], c["headings"][-1:]) for c in g["chunks"]], g["shared_terms"][:8])


if __name__ == "__main__":
    main()
