"""Answer checking: accuracy, false-equal count, and CPU + wall time against math-verify, side by side.

    .venv/bin/python bench/answer_check.py --pairs 2000
    .venv/bin/python bench/answer_check.py --sets sympy --repeat 3 --baseline /tmp/old   # time another synth too

Four generated, labelled, deterministic sets (seed 0):

* ``numeric``: plain numbers in many formats, fractions and percent, Chinese numerals, decimal
  commas, MATH-style money (``\\$1,\\!000``);
* ``latex``: radicals, LaTeX fractions, intervals, polynomials, ordered pairs (a quarter of ``--pairs``);
* ``sympy``: distinct pairs of the kinds in ``latex`` that only sympy can settle (none equal as
  written, no pair repeated): the worst case for synth, every pair costs one math-verify call;
* ``mixed``: all of the above plus option letters (bare and in en/zh/fr prose) and whole solutions
  (long ``<think>`` output with a box, "Answer:" lines, Chinese and French sentences).

Each checker runs on each set in a fresh child process (``--repeat`` times, interleaved; medians
reported), so imports and worker start-up are counted,
as a user running ``synth answer-check --file`` pays them. The parent measures wall seconds and CPU
seconds (user + system of the child and of every process it started). Checkers:

* ``math-verify``: ``verify(parse(gold), parse(pred))`` per pair, main thread, its own default
  timeouts; bare answers wrapped in ``$...$`` so its LaTeX reader sees them;
* ``synth``: ``synth.verify.check_many`` as the CLI calls it (math-verify in this process);
* ``synth --workers 2``: ``check_many(pool=WorkerPool(2), inline=False)`` (math-verify in 2 worker processes);
* ``baseline``: with ``--baseline DIR``, ``check_many`` from the synth package under DIR.

Accuracy is per kind; "false equal" counts pairs labelled different that a checker calls
equivalent (it must be 0 for synth). Then both checkers on ``tests/verify/answer_table.jsonl`` by
category. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "verify" / "answer_table.jsonl"
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


def _numeric(rng: random.Random) -> tuple[str, str, bool]:
    n = rng.randint(1, 2_000_000)
    same = rng.random() < 0.5
    value = n if same else n + rng.choice([-10, -1, 1, 9, 100])
    pred = rng.choice([f"{value:,}", f"${value:,}", f"{value}.00", f"{value} dollars", f"\\boxed{{{value}}}",
                       f"{value:,}".replace(",", " "), f"{value} cm", str(value)])
    return str(n), pred, same


def _fraction(rng: random.Random) -> tuple[str, str, bool]:
    den = rng.choice([2, 4, 5, 8, 10, 20, 25])
    num = rng.randint(1, den - 1)
    same = rng.random() < 0.5
    num_pred = num if same else num + 1
    if rng.random() < 0.3:  # percent
        return f"{100 * num / den:g}%", f"{num_pred / den:g}", same
    return rng.choice([f"{num}/{den}", f"\\frac{{{num}}}{{{den}}}"]), f"{num_pred / den:g}", same


def _choice(rng: random.Random) -> tuple[str, str, bool]:
    gold = rng.choice("ABCD")
    same = rng.random() < 0.5
    letter = gold if same else rng.choice([c for c in "ABCD" if c != gold])
    pred = rng.choice([letter, f"({letter})", f"The answer is ({letter}).", f"答案：{letter}", f"option {letter.lower()}"])
    return gold, pred, same


def _choice_prose(rng: random.Random) -> tuple[str, str, bool]:
    gold = rng.choice("ABCD")
    same = rng.random() < 0.5
    chosen = gold if same else rng.choice([c for c in "ABCD" if c != gold])
    out = [c for c in "ABCD" if c != chosen]
    a, b = rng.sample(out, 2)
    if not same and rng.random() < 0.5:
        a = gold  # a near miss: the gold letter is named, but ruled out (often last)
    pred = rng.choice([
        f"{a} and {b} are wrong, so the answer is {chosen}.",
        f"The answer is {chosen}, not {a}.",
        f"Not ({a}): it overcounts. ({chosen}) fits.",
        f"排除 {a} 和 {b}，正确答案是 {chosen}。",
        f"答案是 {chosen}，不是 {a}。",
        f"La bonne réponse est {chosen} : {a} et {b} sont exclues.",
        f"On élimine {a} et {b}, donc {chosen}.",
    ])
    if rng.random() < 0.2:  # a gold with the option's text
        gold = f"{gold}. {rng.randint(2, 99)}"
    return gold, pred, same


def _chinese(rng: random.Random) -> tuple[str, str, bool]:
    n = rng.randint(1, 9999)
    same = rng.random() < 0.5
    return str(n), _zh(n if same else n + 1) + rng.choice(["", "个", "元"]), same


def _decimal_comma(rng: random.Random) -> tuple[str, str, bool]:
    whole, frac = rng.randint(0, 999), rng.randint(1, 99)
    same = rng.random() < 0.5
    point = f"{whole}.{frac:02d}"
    comma = f"{whole},{frac:02d}" if same else f"{whole},{(frac + 1) % 100:02d}"
    if rng.random() < 0.25:  # a near miss: 12,345 is twelve thousand and more, not 12.345
        head, tail = rng.randint(1, 99), rng.randint(100, 999)
        pair = (f"{head},{tail}", f"{head}.{tail}")
        return (*(pair if rng.random() < 0.5 else pair[::-1]), False)
    pred = comma + rng.choice(["", " €", " kg", "元"])
    return (point, pred, same) if rng.random() < 0.5 else (pred, point, same)


def _money(rng: random.Random) -> tuple[str, str, bool]:
    n = rng.randint(1000, 99999)
    same = rng.random() < 0.5
    value = n if same else n + rng.choice([-1, 1, 10])
    head, tail = divmod(n, 1000)
    gold = rng.choice([f"\\${head},\\!{tail:03d}", f"\\${head}{{,}}{tail:03d}", f"\\${head}\\,{tail:03d}"])
    return gold, rng.choice([str(value), f"\\${value:,}", f"{value} dollars"]), same


def _latex(rng: random.Random, kinds: tuple[int, ...] = (0, 1, 2, 3, 4)) -> tuple[str, str, bool]:
    a, b = rng.randint(2, 99), rng.randint(2, 99)  # wide ranges: few repeats for the dedup to exploit
    same = rng.random() < 0.5
    kind = rng.choice(kinds)
    if kind == 0:  # a*sqrt(b) vs sqrt(a^2 b)
        return f"{a}\\sqrt{{{b}}}", f"\\sqrt{{{a * a * b + (0 if same else 1)}}}", same
    if kind == 1:  # sqrt(b)/b vs 1/sqrt(b)
        return f"\\frac{{\\sqrt{{{b}}}}}{{{b}}}", f"\\frac{{1}}{{\\sqrt{{{b if same else b + 1}}}}}", same
    if kind == 2:  # intervals
        close = "]" if same else ")"
        return f"({-a}, {b}]", f"\\left({-a},{b}\\right{close}", same
    if kind == 3:  # ordered pairs: swapped is different
        return f"({a}, {-b})", f"\\left({a},{-b}\\right)" if same else f"({-b}, {a})", same
    return f"(x+{a})^2", f"x^2+{2 * a if same else a}x+{a * a}", same


def _sympy(rng: random.Random) -> tuple[str, str, bool]:
    """LaTeX pairs that only sympy can settle: no presentation-only differences."""
    return _latex(rng, (0, 1, 4))


def _think(rng: random.Random, final: str) -> str:
    steps = [f"Try {rng.randint(2, 99)}: that gives {rng.randint(2, 999)}, which is too many; adjust by {rng.randint(2, 9)}."
             for _ in range(rng.choice([3, 40]))]  # some short, some over 2,000 characters
    return "<think>\n" + "\n".join(steps) + f"\n</think>\nSo the result is $\\boxed{{{final}}}$."


def _solution(rng: random.Random) -> tuple[str, str, bool]:
    n, a, b = rng.randint(10, 500), rng.randint(2, 9), rng.randint(2, 9)
    same = rng.random() < 0.5
    kind = rng.randrange(4)
    if kind == 0:  # reasoning output; a near miss mentions the gold while thinking
        final = n if same else n + 1
        return str(n), _think(rng, str(final)).replace("<think>\n", f"<think>\nMaybe {n}?\n"), same
    if kind == 1:  # an Answer: line holding an expression
        return f"{a}x+{b}", f"Collect the terms: {a}x and {b}.\nAnswer: {a}x + {b if same else b + 1}", same
    if kind == 2:  # a Chinese sentence ending with the answer and a unit
        return str(n), f"先算出每组 {a} 个，再乘以组数，所以一共有 {n if same else n + a} 个。", same
    return str(n), f"On additionne les {a} parts.\nLa réponse est {n if same else n - 1}.", same


KINDS = {
    "numeric": _numeric, "fraction": _fraction, "choice": _choice, "choice_prose": _choice_prose,
    "chinese": _chinese, "decimal_comma": _decimal_comma, "money": _money, "latex": _latex, "sympy": _sympy,
    "solution": _solution,
}
SETS = {
    "numeric": {"numeric": 0.5, "fraction": 0.15, "chinese": 0.15, "decimal_comma": 0.1, "money": 0.1},
    "latex": {"latex": 1.0},
    "sympy": {"sympy": 1.0},
    "mixed": {"numeric": 0.3, "fraction": 0.1, "choice": 0.05, "choice_prose": 0.05, "chinese": 0.05,
              "decimal_comma": 0.05, "money": 0.05, "solution": 0.15, "latex": 0.2},
}


def generate(name: str, n: int, seed: int = 0) -> list[tuple[str, str, bool, str]]:
    rng = random.Random(f"{name}-{seed}")
    kinds, weights = zip(*SETS[name].items())
    rows: list[tuple[str, str, bool, str]] = []
    seen: set[tuple[str, str]] = set()
    while len(rows) < n:
        kind = rng.choices(kinds, weights)[0]
        gold, pred, same = KINDS[kind](rng)
        if name == "sympy" and (gold, pred) in seen:
            continue  # no repeats: nothing for de-duplication or caches to save
        seen.add((gold, pred))
        rows.append((gold, pred, same, kind))
    return rows


# ---------------------------------------------------------------- child: one checker, one set


def _child(checker: str, pairs: list[tuple[str, str]]) -> list[bool]:
    if checker == "math-verify":
        import logging

        from math_verify import parse, verify

        logging.disable(logging.WARNING)  # it logs every parse failure

        def wrap(text: str) -> str:
            return text if "$" in text or "\\boxed" in text else f"${text}$"

        return [bool(verify(parse(wrap(g)), parse(wrap(p)))) for g, p in pairs]
    from synth.verify import check_many

    if checker == "synth-workers":
        from synth.verify import WorkerPool

        pool = WorkerPool(size=2)
        verdicts = check_many(pairs, pool=pool, inline=False)
        pool.close()
    else:  # "synth", also for a baseline checkout
        verdicts = check_many(pairs)
    return [v.correct for v in verdicts]


def _measure(checker: str, pairs: list[tuple[str, str]], pythonpath: str | None = None) -> tuple[list[bool], float, float]:
    """Run a checker in a fresh process; return its answers, wall seconds and CPU seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "pairs.json", Path(tmp) / "out.json"
        src.write_text(json.dumps(pairs), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=pythonpath or str(ROOT))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        # cwd: a temporary folder, so that "python -m synth.verify._worker" finds the synth on PYTHONPATH
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", checker, "--input", str(src),
                        "--output", str(out)], check=True, env=env, cwd=tmp)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return json.loads(out.read_text()), wall, cpu


# ---------------------------------------------------------------- report


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


def _accuracy(answers: list[bool], labels: list[bool]) -> tuple[float, int]:
    right = sum(a == lab for a, lab in zip(answers, labels))
    false_equal = sum(a and not lab for a, lab in zip(answers, labels))
    return right / max(1, len(labels)), false_equal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000, help="pairs in the numeric and mixed sets (LaTeX sets: a quarter)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sets", default="numeric,latex,sympy,mixed")
    parser.add_argument("--baseline", help="a directory holding another synth checkout to time side by side")
    parser.add_argument("--no-table", action="store_true", help="skip the answer table")
    parser.add_argument("--repeat", type=int, default=1, help="runs per checker and set, interleaved; medians reported")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        pairs = [tuple(p) for p in json.loads(Path(args.input).read_text(encoding="utf-8"))]
        Path(args.output).write_text(json.dumps(_child(args.child, pairs)))
        return

    checkers = [("math-verify", "math-verify", None), ("synth", "synth", None), ("synth --workers 2", "synth-workers", None)]
    if args.baseline:
        checkers.append(("baseline", "synth", str(Path(args.baseline).resolve())))
    print(f"machine: {_machine()}\n")
    print("| set | pairs | checker | wall s | CPU s | CPU vs math-verify | accuracy | false equal |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    by_kind: dict[str, dict[str, list[tuple[bool, bool]]]] = defaultdict(lambda: defaultdict(list))
    for name in args.sets.split(","):
        data = generate(name, args.pairs // 4 if name in ("latex", "sympy") else args.pairs, args.seed)
        pairs = [(g, p) for g, p, _, _ in data]
        labels = [lab for _, _, lab, _ in data]
        runs: dict[str, list[tuple[list[bool], float, float]]] = defaultdict(list)
        for _ in range(args.repeat):  # interleaved, so a change in machine load hits every checker alike
            for label, checker, path in checkers:
                runs[label].append(_measure(checker, pairs, path))
        reference_cpu = None
        for label, checker, path in checkers:
            answers = runs[label][0][0]
            wall = statistics.median(r[1] for r in runs[label])
            cpu = statistics.median(r[2] for r in runs[label])
            reference_cpu = reference_cpu or cpu
            accuracy, false_equal = _accuracy(answers, labels)
            print(f"| {name} | {len(pairs)} | {label} | {wall:.1f} | {cpu:.1f} | {cpu / reference_cpu:.2f}x "
                  f"| {accuracy:.1%} | {false_equal} |", flush=True)
            if name in ("mixed", "latex", "sympy") and checker != "synth-workers":
                for (_, _, lab, kind), answer in zip(data, answers):
                    by_kind[label][kind].append((answer, lab))

    if by_kind:
        labels = [label for label, _, _ in checkers if label in by_kind]
        print("\nAccuracy by kind (mixed and latex sets; false equal in brackets):\n")
        print("| kind | pairs | " + " | ".join(labels) + " |")
        print("|---|---:|" + "---:|" * len(labels))
        for kind in sorted(by_kind[labels[0]]):
            cells = []
            for label in labels:
                answers, truth = zip(*by_kind[label][kind])
                accuracy, false_equal = _accuracy(list(answers), list(truth))
                cells.append(f"{accuracy:.1%} ({false_equal})")
            print(f"| {kind} | {len(by_kind[labels[0]][kind])} | " + " | ".join(cells) + " |")
    if not args.no_table:
        _table(checkers)


def _table(checkers: list[tuple[str, str, str | None]]) -> None:
    """Every checker on the hand-labelled answer table, by category."""
    rows = [json.loads(line) for line in TABLE.open(encoding="utf-8")]
    rows = [r for r in rows if r.get("order", "tuples") == "tuples"]  # the other policies need synth's option
    pairs = [(r["gold"] or "", r["pred"] or "") for r in rows]
    truth = [r["expected"] == "correct" for r in rows]
    results = {}
    for label, checker, path in checkers:
        if checker != "synth-workers":
            results[label] = _measure(checker, pairs, path)[0]
    print(f"\nAnswer table ({len(rows)} rows with the default order policy; counted right when 'equivalent' "
          "matches a 'correct' label; false equal in brackets):\n")
    print("| category | rows | " + " | ".join(results) + " |")
    print("|---|---:|" + "---:|" * len(results))
    categories = sorted({r["category"] for r in rows})
    for category in categories + ["**all**"]:
        idx = [i for i, r in enumerate(rows) if category in (r["category"], "**all**")]
        cells = []
        for answers in results.values():
            accuracy, false_equal = _accuracy([answers[i] for i in idx], [truth[i] for i in idx])
            cells.append(f"{accuracy:.1%} ({false_equal})")
        print(f"| {category} | {len(idx)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
