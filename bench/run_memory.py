"""Peak memory of a whole `synth run` as the seed file grows: `instruct` over N generated seed rows
against an instant local OpenAI-compatible server (bench/run_throughput.py's), default config
(exact dedup, the parquet dataset, card and plots), or with near-duplicate dedup too (`--near`).

    python bench/run_memory.py --rows 100000 --rows 1000000
    python bench/run_memory.py --near --rows 100000 --rows 300000

Prints, per size: peak RSS of the synth process (the kernel's high-water mark, from wait4), wall and
CPU seconds, and the run's record count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run_throughput import start_server  # noqa: E402


def one(url: str, n: int, work: Path, in_flight: int, near: bool = False) -> dict:
    seeds = work / f"seeds-{n}.jsonl"
    rng = random.Random(0)
    with open(seeds, "w", encoding="utf-8") as fh:
        for i in range(n):
            # near: instructions of 12 random words from 20,000, so MinHash finds only what chance makes
            text = " ".join(f"w{rng.randrange(20_000)}" for _ in range(12)) if near else \
                f"Instruction number {i}: write one line about item {i * 7919}."
            fh.write(json.dumps({"instruction": text}) + "\n")
    cfg = work / f"run-{n}.yaml"
    cfg.write_text(f"name: mem\nrecipe: instruct\nseeds: {seeds}\nsampling: {{max_tokens: 8}}\n"
                   + ("dedup: {exact: true, near: true, fields: [instruction]}\n" if near else ""))
    out = work / f"run-{n}"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "synth", "run", str(cfg), "--base-url", url, "--model", "m",
                             "--max-in-flight", str(in_flight), "--out", str(out), "-q"], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"synth run failed with {proc.returncode}")
    manifest = json.loads((out / "manifest.json").read_text())
    return {"rows": n, "peak_rss_mb": usage.ru_maxrss / 1024, "wall_s": time.perf_counter() - t0,
            "cpu_s": usage.ru_utime + usage.ru_stime, "kept": manifest["outputs"]["kept"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, action="append", help="seed rows (repeat for several sizes)")
    ap.add_argument("--in-flight", type=int, default=64)
    ap.add_argument("--near", action="store_true", help="near-duplicate dedup too (MinHash over the instructions)")
    args = ap.parse_args()
    server, url, _ = start_server(0.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print("| seed rows | peak RSS | wall | CPU | kept |\n|---:|---:|---:|---:|---:|")
            for n in args.rows or [100_000]:
                r = one(url, n, Path(tmp), args.in_flight, args.near)
                print(f"| {n:,} | {r['peak_rss_mb']:.0f} MB | {r['wall_s']:.0f} s | {r['cpu_s']:.0f} s | {r['kept']:,} |",
                      flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
