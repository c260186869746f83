"""Answer-checking throughput and accuracy: synth's check_many vs math-verify called directly.

    .venv/bin/python bench/answer_check.py --pairs 10000

Generates a deterministic mixed set of labelled (gold, pred, equivalent) pairs — plain numbers in
many formats, fractions/percent, option letters, Chinese numerals and LaTeX (radicals, fractions,
intervals, polynomials) — then times, on the same pairs in the same run:

* ``synth``: ``synth.verify.check_many`` (fast paths inline, math-verify in worker processes with a
  wall-clock limit; worker start-up included);
* ``math-verify``: ``verify(parse(gold), parse(pred))`` per pair, in this process, main thread, its
  own signal timeouts; bare answers are wrapped in ``$...$`` as synth does, so both see the same text.

It prints pairs/s and the ratio per kind, accuracy of both against the labels, and both checkers'
accuracy on ``tests/verify/answer_table.jsonl``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import time
from collections import defaultdict
from pathlib import Path

from synth.verify import check_many
from synth.verify._worker import _delimit

TABLE = Path(__file__).resolve().parents[1] / "tests" / "verify" / "answer_table.jsonl"
_ZH_DIGITS = "零一二三四五六七八九"


def _zh(n: int) -> str:
    """Chinese numerals for 0 <= n < 10000 (三千零五, 二百一十)."""
    if n == 0:
        return "零"
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            out += ("零" if zero and out else "") + _ZH_DIGITS[digit] + unit
            zero = False
        else:
            zero = True
    return out


def _numeric(rng: random.Random) -> tuple[str, str, bool, str]:
    n = rng.randint(1, 2_000_000)
    gold = str(n)
    same = rng.random() < 0.5
    value = n if same else n + rng.choice([-10, -1, 1, 9, 100])
    pred = rng.choice([f"{value:,}", f"${value:,}", f"{value}.00", f"{value} dollars", f"\\boxed{{{value}}}",
                       f"{value:,}".replace(",", " "), f"{value} cm", str(value)])
    return gold, pred, same, "numeric"


def _fraction(rng: random.Random) -> tuple[str, str, bool, str]:
    den = rng.choice([2, 4, 5, 8, 10, 20, 25])
    num = rng.randint(1, den - 1)
    same = rng.random() < 0.5
    num_pred = num if same else num + 1
    if rng.random() < 0.3:  # percent
        return f"{100 * num / den:g}%", f"{num_pred / den:g}", same, "fraction"
    gold = rng.choice([f"{num}/{den}", f"\\frac{{{num}}}{{{den}}}"])
    return gold, f"{num_pred / den:g}", same, "fraction"


def _choice(rng: random.Random) -> tuple[str, str, bool, str]:
    gold = rng.choice("ABCD")
    same = rng.random() < 0.5
    letter = gold if same else rng.choice([c for c in "ABCD" if c != gold])
    pred = rng.choice([letter, f"({letter})", f"The answer is ({letter}).", f"答案：{letter}", f"option {letter.lower()}"])
    return gold, pred, same, "choice"


def _chinese(rng: random.Random) -> tuple[str, str, bool, str]:
    n = rng.randint(1, 9999)
    same = rng.random() < 0.5
    return str(n), _zh(n if same else n + 1) + rng.choice(["", "个", "元"]), same, "chinese"


def _latex(rng: random.Random) -> tuple[str, str, bool, str]:
    a, b = rng.randint(2, 99), rng.randint(2, 99)  # wide ranges: few repeats for the dedup to exploit
    same = rng.random() < 0.5
    kind = rng.randrange(4)
    if kind == 0:  # a*sqrt(b) vs sqrt(a^2 b)
        return f"{a}\\sqrt{{{b}}}", f"\\sqrt{{{a * a * b + (0 if same else 1)}}}", same, "latex"
    if kind == 1:  # sqrt(b)/b vs 1/sqrt(b)
        return f"\\frac{{\\sqrt{{{b}}}}}{{{b}}}", f"\\frac{{1}}{{\\sqrt{{{b if same else b + 1}}}}}", same, "latex"
    if kind == 2:  # intervals
        close = "]" if same else ")"
        return f"({-a}, {b}]", f"\\left({-a},{b}\\right{close}", same, "latex"
    return f"(x+{a})^2", f"x^2+{2 * a if same else a}x+{a * a}", same, "latex"


MIX = [(_numeric, 0.5), (_fraction, 0.15), (_choice, 0.1), (_chinese, 0.05), (_latex, 0.2)]


def generate(n: int, seed: int = 0) -> list[tuple[str, str, bool, str]]:
    rng = random.Random(seed)
    makers, weights = zip(*MIX)
    return [rng.choices(makers, weights)[0](rng) for _ in range(n)]


def math_verify_direct(pairs: list[tuple[str, str]]) -> list[bool]:
    from math_verify import parse, verify

    return [bool(verify(parse(_delimit(g)), parse(_delimit(p)))) for g, p in pairs]


def _machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"math-verify {version('math-verify')}, {platform.system()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # math-verify logs every parse failure

    data = generate(args.pairs, args.seed)
    pairs = [(g, p) for g, p, _, _ in data]
    kinds = defaultdict(list)
    for i, (_, _, _, kind) in enumerate(data):
        kinds[kind].append(i)

    started = time.perf_counter()
    verdicts = check_many(pairs)
    synth_s = time.perf_counter() - started
    synth_ok = [v.correct for v in verdicts]

    started = time.perf_counter()
    direct_ok = math_verify_direct(pairs)
    direct_s = time.perf_counter() - started

    # Per kind, each checker on that kind alone (synth with warm workers).
    print(f"machine: {_machine()}")
    print(f"{len(pairs)} pairs, seed {args.seed}\n")
    print("| kind | pairs | synth pairs/s | math-verify pairs/s | ratio | synth acc | math-verify acc |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, idx in sorted(kinds.items()):
        sub = [pairs[i] for i in idx]
        t = time.perf_counter()
        check_many(sub)
        s = time.perf_counter() - t
        t = time.perf_counter()
        math_verify_direct(sub)
        d = time.perf_counter() - t
        acc_s = sum(synth_ok[i] == data[i][2] for i in idx) / len(idx)
        acc_d = sum(direct_ok[i] == data[i][2] for i in idx) / len(idx)
        print(f"| {kind} | {len(idx)} | {len(idx) / s:,.0f} | {len(idx) / d:,.0f} | {d / s:.1f}x | {acc_s:.1%} | {acc_d:.1%} |")
    acc_s = sum(ok == d[2] for ok, d in zip(synth_ok, data)) / len(data)
    acc_d = sum(ok == d[2] for ok, d in zip(direct_ok, data)) / len(data)
    print(f"| **all** (cold start) | {len(pairs)} | {len(pairs) / synth_s:,.0f} | {len(pairs) / direct_s:,.0f} "
          f"| {direct_s / synth_s:.1f}x | {acc_s:.1%} | {acc_d:.1%} |")
    methods = defaultdict(int)
    for v in verdicts:
        methods[v.method] += 1
    print(f"\nsynth methods: {dict(sorted(methods.items()))}")

    rows = [json.loads(line) for line in TABLE.open(encoding="utf-8")]
    table_pairs = [(r["gold"], r["pred"]) for r in rows]
    table_synth = check_many(table_pairs)
    hits_s = sum(v.status == r["expected"] for v, r in zip(table_synth, rows))
    graded = [(g or "", p or "") for g, p in table_pairs]
    direct = math_verify_direct(graded)
    # math-verify answers a bool: count it right when it says True exactly for "correct" rows.
    hits_d = sum(ok == (r["expected"] == "correct") for ok, r in zip(direct, rows))
    print(f"answer table ({len(rows)} rows): synth {hits_s}/{len(rows)} = {hits_s / len(rows):.1%}, "
          f"math-verify alone {hits_d}/{len(rows)} = {hits_d / len(rows):.1%}")


if __name__ == "__main__":
    main()
