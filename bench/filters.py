"""Filter benchmark: rows/s of each non-LLM filter, `synth filter` end to end, and precision / recall.

    .venv/bin/python bench/filters.py                 # 100k generated rows (~2 min on 2 cores)
    .venv/bin/python bench/filters.py --rows 20000    # quick

Rows are generated (English and Chinese chats, 40-250 units, a third with a planted defect:
truncation, refusal, AI disclaimer, leaked token, wrong language, loop, empty answer). Each filter
runs alone over all rows in this process (its own rows/s), then `synth filter` runs every one of
them over the JSONL file as a user would (read, filter, write kept + rejected + report). Precision
and recall come from the labelled table tests/filters/labelled.jsonl (tests/filters/labelled.py).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EN = ["The index tracks the largest listed companies and is rebalanced every quarter.",
      "Start by measuring the flour and water, then knead the dough for ten minutes.",
      "Interest is computed on the outstanding balance at the end of each month.",
      "A good night of sleep improves memory, mood and concentration the next day.",
      "The function returns a new list and leaves the original one unchanged.",
      "Most comets orbit far beyond Neptune and only rarely pass near the Sun."]
ZH = ["指数基金跟踪市场上最大的上市公司，并且每个季度调整一次成分股。", "先称好面粉和水，然后揉面十分钟，直到面团光滑。",
      "利息按每个月末的未还本金计算，提前还款可以减少利息。", "充足的睡眠可以改善第二天的记忆力、情绪和注意力。",
      "这个函数返回一个新的列表，不会修改原来的列表。", "大多数彗星在海王星以外运行，很少靠近太阳。"]
DEFECTS = {
    "cut": lambda a, zh: a[: len(a) * 2 // 3].rstrip("。.") + ("，然后" if zh else " and the"),
    "refusal": lambda a, zh: "抱歉，我无法回答这个问题。" if zh else "I'm sorry, but I can't help with that request.",
    "disclaimer": lambda a, zh: ("作为一个人工智能语言模型，" if zh else "As an AI language model, ") + a,
    "leak": lambda a, zh: a + "<|im_end|>",
    "language": lambda a, zh: " ".join(EN[:3]) if zh else "".join(ZH[:3]),
    "loop": lambda a, zh: ("答案是五。" if zh else "The answer is five. ") * 30,
    "empty": lambda a, zh: "",
}


def make_rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        zh = rng.random() < 0.5
        pool = ZH if zh else EN
        # distinct questions, so no cache makes a filter look faster than on real data
        question = (f"请解释（第 {i} 题）：" if zh else f"Please explain (question {i}): ") + " ".join(rng.sample(pool, 2))
        answer = ("" if zh else " ").join(rng.sample(pool, k=rng.randint(2, 6)))
        if rng.random() < 0.33:
            answer = DEFECTS[rng.choice(sorted(DEFECTS))](answer, zh)
        rows.append({"id": i, "messages": [{"role": "user", "content": question},
                                           {"role": "assistant", "content": answer}]})
    return rows


NON_LLM = ["truncation", "finish-reason", "length", "refusal", "template-leak", "lang-match", "repetition",
           "final-answer", {"blocklist": {"terms": ["Acme Corp", "竞品X", r"re:\bpassword\s*[:=]"]}}]


def spec_name(spec) -> str:
    return spec if isinstance(spec, str) else next(iter(spec))


def per_filter(rows: list[dict]) -> dict[str, dict]:
    from synth.filter import make_filter
    from synth.stages import FilterStage

    out = {}
    for spec in NON_LLM:
        name = spec_name(spec)
        stage = FilterStage(make_filter(name, None if isinstance(spec, str) else spec[name]))
        stage.run(rows[:200])  # warm up (language model load, regex compile)
        start = time.perf_counter()
        kept, rejected, _ = stage.run(rows)
        seconds = time.perf_counter() - start
        out[name] = {"rows_per_s": round(len(rows) / seconds), "dropped": len(rejected)}
    return out


def cli_run(path: Path, out: Path) -> dict:
    args = [sys.executable, "-m", "synth", "filter", str(path), "--out", str(out), "--quiet"]
    for spec in NON_LLM:
        if spec == "final-answer":
            continue  # for reasoning rows: it would drop every generated chat row
        name = spec_name(spec)
        args += ["--filter", name if isinstance(spec, str) else f"{name}:{json.dumps(spec[name])}"]
    start = time.perf_counter()
    subprocess.run(args, check=True)
    seconds = time.perf_counter() - start
    report = json.loads(out.with_name(out.stem + ".report.json").read_text(encoding="utf-8"))
    return {"seconds": round(seconds, 1), "rows_per_s": round(report["rows_in"] / seconds), "rows_in": report["rows_in"],
            "rows_out": report["rows_out"],
            "stages": {s["name"]: {"dropped": s["dropped"], "rows_per_s": round(s["in"] / s["seconds"]) if s["seconds"]
                                   else None} for s in report["stages"]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    from tests.filters.labelled import load_table, precision_recall

    rows = make_rows(args.rows)
    print(f"{args.rows:,} generated rows")
    print("\nfilter           rows/s (in process)   dropped")
    for name, r in per_filter(rows).items():
        print(f"  {name:<16} {r['rows_per_s']:>14,}   {r['dropped']:>8,}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        result = cli_run(path, Path(tmp) / "clean.jsonl")
    print(f"\nsynth filter, {len(NON_LLM) - 1} filters (all but final-answer): {result['rows_in']:,} rows in {result['seconds']} s "
          f"({result['rows_per_s']:,} rows/s end to end, read + filter + write), {result['rows_out']:,} kept")
    for name, s in result["stages"].items():
        print(f"  {name:<22} {s['rows_per_s'] or 0:>10,} rows/s   dropped {s['dropped']:,}")
    table = load_table()
    print(f"\nprecision / recall on tests/filters/labelled.jsonl ({len(table)} rows, en + zh + 4 more languages)")
    for name, s in precision_recall(table).items():
        print(f"  {name:<14} P {s['precision']:.3f}  R {s['recall']:.3f}   (bad {s['bad']}, fp {s['fp']}, "
              f"fn {s['fn']}, rows {s['rows']})")


if __name__ == "__main__":
    main()
