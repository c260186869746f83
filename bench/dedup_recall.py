"""Near-duplicate recall and precision at synth's defaults on light edits of real text (issue 27 item 2).

    .venv/bin/pip install opencc-python-reimplemented==0.1.7     # makes the traditional-script copies
    nice -n 10 .venv/bin/python bench/dedup_recall.py [--threshold 0.6] [--ngram 3 --cjk-ngram 3]

Base texts: bench/dedup-recall/bases.jsonl, 600 English paragraphs of The Rust Programming Language
and 600 Chinese paragraphs of its Chinese translation (origin, commit, licence: SOURCES.md there),
no two sharing 30 % of their 3-grams. Each base gets one copy per edit kind below (seeded), so every
copy has a known original; copies of one base are one cluster. Rows: bases first, then the copies
shuffled; `dedup_rows` at the given settings (default: DedupConfig's) with near on.

precision = dropped rows whose survivor is of their own base / dropped rows (no base is a duplicate
of another, so every cross-base drop is a false positive); recall(kind) = copies of that kind that
end in their base's cluster. True J is the Jaccard of the word/CJK-character 3-gram sets of copy and
base after synth's normalisation.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent
FULL = {c: chr(ord(c) + 0xFEE0) for c in string.ascii_letters + string.digits + string.punctuation}
ZH_PUNCT_HALF = {"，": ",", "。": ".", "：": ":", "；": ";", "？": "?", "！": "!", "（": "(", "）": ")", "“": '"', "”": '"'}


def _few(rng):
    return rng.randint(1, 3)


def en_edits(text: str, rng: random.Random, vocab: list[str]) -> dict[str, str]:
    w = text.split()

    def sub():
        x = list(w)
        for _ in range(_few(rng)):
            x[rng.randrange(len(x))] = rng.choice(vocab)
        return " ".join(x)

    def add():
        x = list(w)
        for _ in range(_few(rng)):
            x.insert(rng.randrange(len(x) + 1), rng.choice(vocab))
        return " ".join(x)

    def dele():
        x = list(w)
        for _ in range(_few(rng)):
            del x[rng.randrange(len(x))]
        return " ".join(x)

    def punct():
        t = re.sub(r"[,;:]", lambda m: rng.choice(["", " -", ";", ","]), text)
        t = re.sub(r"\.(\s)", lambda m: rng.choice([".", "!", ";", ""]) + m.group(1), t)
        return t.replace("'", "’").replace('"', rng.choice(['"', "“"]))

    def ws():
        return "".join(c if c != " " else rng.choice([" ", " ", "  ", "\n", "\t", " \n "]) for c in text) + "\n\n"

    def width():
        return "".join(FULL.get(c, c) if rng.random() < 0.8 else c for c in text).replace(" ", rng.choice([" ", "\u3000"]))

    def case():
        return text.upper() if rng.random() < 0.5 else text.lower()

    def mixed():
        x = list(w)
        x[rng.randrange(len(x))] = rng.choice(vocab)
        t = " ".join(x)
        return re.sub(r"[,.]", "", t).replace(" ", "  ")

    return {"word-sub": sub(), "word-add": add(), "word-del": dele(), "punct": punct(), "whitespace": ws(),
            "fullwidth": width(), "case": case(), "mixed": mixed()}


def zh_edits(text: str, rng: random.Random, chars: str, t2s) -> dict[str, str]:
    def spans():  # 1-3 "words" of 1-2 characters at CJK positions
        pos = [i for i, c in enumerate(text) if "\u4e00" <= c <= "\u9fff"]
        return [(p, rng.choice([1, 2])) for p in rng.sample(pos, _few(rng))]

    def sub():
        x = list(text)
        for p, k in spans():
            for j in range(k):
                if p + j < len(x):
                    x[p + j] = rng.choice(chars)
        return "".join(x)

    def add():
        x = list(text)
        for p, k in sorted(spans(), reverse=True):
            x[p:p] = [rng.choice(chars) for _ in range(k)]
        return "".join(x)

    def dele():
        x = list(text)
        for p, k in sorted(spans(), reverse=True):
            del x[p:p + k]
        return "".join(x)

    def punct():
        return "".join(ZH_PUNCT_HALF.get(c, c) if rng.random() < 0.7 else ("" if c in "，、" else c) for c in text)

    def ws():
        out = []
        for c in text:
            out.append(c)
            if rng.random() < 0.08:
                out.append(rng.choice([" ", "\n", "\u3000", "  "]))
        return "".join(out)

    def width():  # ASCII inside the Chinese text to full width, full-width punctuation to half
        return "".join(FULL.get(c, ZH_PUNCT_HALF.get(c, c)) for c in text)

    def trad():
        return t2s.convert(text)

    def mixed():
        x = list(trad())
        p = rng.choice([i for i, c in enumerate(x) if "\u4e00" <= c <= "\u9fff"])
        x[p] = rng.choice(chars)
        return "".join(ZH_PUNCT_HALF.get(c, c) for c in x)

    return {"char-sub": sub(), "char-add": add(), "char-del": dele(), "punct": punct(), "whitespace": ws(),
            "fullwidth": width(), "traditional": trad(), "mixed": mixed()}


def build(seed: int = 0):
    from opencc import OpenCC

    bases = [json.loads(x) for x in open(HERE / "dedup-recall" / "bases.jsonl", encoding="utf-8")]
    rng = random.Random(seed)
    vocab = sorted({w for b in bases if b["lang"] == "en" for w in re.findall(r"[a-z]+", b["text"].lower())})
    chars = "".join(sorted({c for b in bases if b["lang"] == "zh" for c in b["text"] if "\u4e00" <= c <= "\u9fff"}))
    s2t = OpenCC("s2tw")
    copies = []
    for b in bases:
        edits = en_edits(b["text"], rng, vocab) if b["lang"] == "en" else zh_edits(b["text"], rng, chars, s2t)
        for kind, text in edits.items():
            copies.append({"id": f"{b['id']}-{kind}", "text": text, "base": b["id"], "kind": f"{b['lang']} {kind}"})
    rng.shuffle(copies)
    rows = [{"id": b["id"], "text": b["text"], "base": b["id"], "kind": "base"} for b in bases] + copies
    return rows


def true_j(a: str, b: str, n: int = 3) -> float:
    from synth.dedup.normalize import tokens
    from synth.dedup.shingles import iter_shingles

    x, y = set(iter_shingles(tokens(a), n)), set(iter_shingles(tokens(b), n))
    return len(x & y) / max(1, len(x | y))


def evaluate(rows, cfg) -> dict:
    from synth.dedup import dedup_rows

    res = dedup_rows(rows, cfg)
    rep = {r["id"]: r["id"] for r in res.kept}
    rep.update({d["id"]: d["duplicate_of"] for d in res.dropped})
    base_of = {r["id"]: r["base"] for r in rows}
    text_of = {r["id"]: r["text"] for r in rows}

    def root(i):
        while rep[i] != i:
            i = rep[i]
        return i

    fp = [d for d in res.dropped if base_of[root(d["id"])] != base_of[d["id"]]]
    by_kind, by_j = defaultdict(list), defaultdict(list)
    for r in rows:
        if r["kind"] == "base":
            continue
        hit = root(r["base"]) == root(r["id"])  # in its base's cluster
        by_kind[r["kind"]].append(hit)
        j = true_j(r["text"], text_of[r["base"]])
        by_j[next(lo for lo in (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.0) if j >= lo)].append(hit)
        by_kind[r["kind"] + " J"].append(j)
    allhits = [h for k, v in by_kind.items() if not k.endswith(" J") for h in v]
    return {"precision": 1 - len(fp) / max(1, len(res.dropped)), "recall": sum(allhits) / len(allhits),
            "dropped": len(res.dropped), "false_positives": len(fp), "copies": len(allhits),
            "by_kind": {k: (round(sum(v) / len(v), 4), len(v), round(min(by_kind[k + " J"]), 3),
                            round(sorted(by_kind[k + " J"])[len(v) // 2], 3))
                        for k, v in sorted(by_kind.items()) if not k.endswith(" J")},
            "by_true_j": {f">={k}": (round(sum(v) / len(v), 4), len(v)) for k, v in sorted(by_j.items())},
            "params": res.report["params"], "s_curve": res.report["s_curve"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--ngram", type=int)
    ap.add_argument("--cjk-ngram", type=int)
    ap.add_argument("--bands", type=int)
    ap.add_argument("--rows", type=int)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from synth.dedup import DedupConfig

    given = {k: v for k, v in vars(args).items() if v is not None and k != "seed"}
    cfg = DedupConfig(near=True, fields=["text"], **given)
    out = evaluate(build(args.seed), cfg)
    print(f"settings {cfg}  precision {out['precision']:.4f} ({out['false_positives']} false of {out['dropped']} "
          f"dropped)  recall {out['recall']:.4f} of {out['copies']} copies")
    print("kind              recall    n   min true J  median true J")
    for k, (r, n, lo, med) in out["by_kind"].items():
        print(f"{k:<16} {r:>7.4f} {n:>5}   {lo:>8.3f}   {med:>8.3f}")
    print("recall by true J:", out["by_true_j"])
    print("P(candidate) at J:", out["s_curve"])
    json.dump(out, sys.stdout if False else open(HERE / "out" / "dedup_recall.json", "w"), indent=1, default=str)


if __name__ == "__main__":
    main()
