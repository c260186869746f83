"""Answer checking on labelled pairs from other projects: synth beside math-verify alone, in one run.

    .venv/bin/python bench/answer_pairs_fetch.py          # once: writes bench/answer-pairs/*.jsonl
    .venv/bin/python bench/answer_check_external.py       # accuracy, false equal by kind and source, CPU
    .venv/bin/python bench/answer_check_external.py --misses   # and every pair synth gets wrong

The pairs (bench/answer-pairs/, origin and licence in SOURCES.md) come from released model outputs
with correctness labels, graders' own examples and reward-function tests of other projects, none
written here. Each checker runs in a fresh child process (``--repeat`` times, interleaved, medians),
imports included, and once more on no pairs, so CPU is also given per pair net of start-up:

* ``math-verify``: ``verify(parse(gold), parse(pred))`` per pair, main thread, its default
  timeouts; bare answers wrapped in ``$...$`` so its LaTeX reader sees them;
* ``synth``: ``synth.verify.check_many`` as ``synth answer-check --file`` calls it (default policy:
  ``order="tuples"``); a pair whose source states a tolerance is checked alone with it (``check(...,
  abs_tol=)``, see ``tolerance_of``);
* ``before``: with ``--baseline DIR``, the same call to the synth package under DIR (e.g.
  ``git archive <commit> synth | tar -x -C DIR``), for before/after on the same pairs in one run
  (without tolerances: an older synth has none).

"false equal" counts pairs labelled different that a checker calls equal. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAIRS = Path(__file__).resolve().parent / "answer-pairs"
KINDS = ("several", "equation", "solution_gold", "option", "prose", "plain")


def load(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        rows += [dict(json.loads(line), file=path.stem)
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def tolerance_of(row: dict) -> float | list[float] | None:
    """The tolerance the source labelled the pair under, or None.

    OlympiadBench's judge examples state a ``precision`` (the fetch script keeps it in ``note``: "labelled
    under a relative precision of [1e+34, 0.001]"); its judge (eval/auto_scoring_judge.py) applies it as
    an absolute bound, ``abs(gt - pred) <= precision * 1.01``, one per gold answer when it is a list. It
    is passed here as ``abs_tol`` as stated (synth compares exact values: no float slack needed).
    """
    note = row.get("note") or ""
    if not note.startswith("labelled under a relative precision of "):
        return None
    return json.loads(note.rsplit(" of ", 1)[1])


def _child(checker: str, pairs: list[list]) -> list[bool]:
    if checker == "math-verify":
        import logging

        from math_verify import parse, verify

        logging.disable(logging.WARNING)

        def wrap(text: str) -> str:
            return text if "$" in text or "\\boxed" in text else f"${text}$"

        out = []
        for gold, pred, _ in pairs:
            try:
                out.append(bool(verify(parse(wrap(gold)), parse(wrap(pred)))))
            except Exception:  # noqa: BLE001  a crash is a "no"
                out.append(False)
        return out
    from synth.verify import check, check_many

    if checker == "before":
        return [v.correct for v in check_many([(g, p) for g, p, _ in pairs])]
    out = [v.correct for v in check_many([(g, p) for g, p, tol in pairs if tol is None])][::-1]
    return [out.pop() if tol is None else check(g, p, abs_tol=tol).correct for g, p, tol in pairs]


def _measure(checker: str, pairs: list[list[str]], pythonpath: Path = ROOT) -> tuple[list[bool], float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "pairs.json", Path(tmp) / "out.json"
        src.write_text(json.dumps(pairs), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(pythonpath))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", checker, "--input", str(src),
                        "--output", str(out)], check=True, env=env, cwd=tmp)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return json.loads(out.read_text()), wall, cpu


def kind_group(kind: str) -> str:
    return "prose" if kind.startswith("prose_") else kind


def _score(answers: list[bool], rows: list[dict]) -> tuple[int, int, int]:
    right = sum(a == r["equal"] for a, r in zip(answers, rows))
    false_equal = sum(a and not r["equal"] for a, r in zip(answers, rows))
    return len(rows), right, false_equal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--misses", action="store_true", help="print every pair synth gets wrong")
    parser.add_argument("--baseline", type=Path, help="a folder holding an older synth package, run as 'before'")
    parser.add_argument("--child")
    parser.add_argument("--input", type=Path)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    if args.child:
        args.output.write_text(json.dumps(_child(args.child, json.loads(args.input.read_text()))))
        return

    rows = load(args.pairs)
    if not rows:
        raise SystemExit(f"no pairs in {args.pairs}: run bench/answer_pairs_fetch.py first")
    pairs = [[r["gold"], r["pred"], tolerance_of(r)] for r in rows]
    checkers = ("math-verify", "before", "synth") if args.baseline else ("math-verify", "synth")
    answers: dict[str, list[bool]] = {}
    cpu: dict[str, list[float]] = defaultdict(list)
    wall: dict[str, list[float]] = defaultdict(list)
    empty: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.repeat):
        for name in checkers:
            path = args.baseline.resolve() if name == "before" else ROOT
            got, w, c = _measure(name, pairs, path)
            answers[name] = got
            cpu[name].append(c)
            wall[name].append(w)
            empty[name].append(_measure(name, [], path)[2])

    repos = {repo.strip() for r in rows for repo in r["source"].split(",")}
    print(f"{len(rows)} pairs from {len(repos)} repositories, {len({r['file'] for r in rows})} files "
          f"({sum(r['equal'] for r in rows)} labelled equal); medians of {args.repeat} run(s)\n")
    print("| checker | accuracy | false equal | wall s | CPU s | CPU ms/pair | CPU ms/pair net of start-up |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in checkers:
        n, right, fe = _score(answers[name], rows)
        c, e = statistics.median(cpu[name]), statistics.median(empty[name])
        print(f"| {name} | {right / n:.1%} ({right}/{n}) | {fe} | {statistics.median(wall[name]):.1f} | {c:.2f} "
              f"| {1000 * c / n:.2f} | {1000 * (c - e) / n:.2f} |")

    for title, key in (("kind", lambda r: kind_group(r["kind"])), ("language (prose)", lambda r: r["kind"]),
                       ("source file", lambda r: r["file"])):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            if title.startswith("language") and not r["kind"].startswith("prose_"):
                continue
            groups[key(r)].append(i)
        print(f"\nBy {title}:\n")
        print(f"| {title} | pairs | labelled equal | " + " | ".join(checkers) + " |")
        print("|---|---:|---:|" + "---:|" * len(checkers))
        order = KINDS if title == "kind" else sorted(groups)
        for g in order:
            if g not in groups:
                continue
            idx = groups[g]
            sub = [rows[i] for i in idx]
            cells = []
            for name in checkers:
                n, right, fe = _score([answers[name][i] for i in idx], sub)
                cells.append(f"{right / n:.1%} ({fe})")
            print(f"| {g} | {len(idx)} | {sum(r['equal'] for r in sub)} | " + " | ".join(cells) + " |")
    print("\n(accuracy, false equal in brackets)")

    if args.misses:
        print("\nsynth misses:")
        for i, r in enumerate(rows):
            if answers["synth"][i] != r["equal"]:
                tag = "FALSE EQUAL" if answers["synth"][i] else "missed"
                print(f"- {tag} {r['id']} [{r['kind']}] gold={r['gold'][:80]!r} pred={r['pred'][-160:]!r}")


if __name__ == "__main__":
    main()
