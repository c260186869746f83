"""`synth dedup --near` on the same corpus with each backend: local, a Redis index, Ray (issue 27 item 4).

    nice -n 10 .venv/bin/python bench/dedup_backends.py --docs 104000 --docs 520000

Corpus: bench/corpus.py as bench/dedup_stream.py writes it (bench/out/corpus-<n>.jsonl; 80 %
originals, 10 % light and 10 % heavy copies, ~30 % Chinese). Every method is the real command in its
own process; a sampler reads the process tree every 0.1 s (psutil) for CPU seconds (each process's
last reading, so a helper that exits between two readings loses < 0.1 s) and peak RSS (of our
process alone, and summed over the tree: pool workers, or Ray's GCS, raylet and workers). The
redis-server is started here on a free port; its CPU and RSS are read before and after each method.

  local             synth dedup CORPUS -o OUT.jsonl --near --field text --quiet   (streamed, 2 processes)
  ray               the same with --ray local (a Ray cluster of the machine's 2 CPUs, started by the command)
  ray-1k            --ray local on the first 1,000 rows: the fixed cost of starting a cluster and its jobs
  ray-shards        --ray local over CORPUS split into 8 JSONL shards, OUT a directory of numbered shards
  redis             the same with --index redis://127.0.0.1:PORT/NAME, an empty index: one run (in memory)
  redis-4-batches   CORPUS in 4 consecutive batches, each deduped against the growing Redis index
  dir-4-batches     the same 4 batches against a directory index (one machine)

Kept counts of local, ray, ray-shards and redis must be equal (the same decisions); the batched runs
can keep a few more (a row whose near-duplicate was itself dropped in an earlier batch is not in the
index to match against, where one run's clustering joins them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from dedup_stream import corpus, head  # noqa: E402

SYNTH = str(Path(sys.executable).parent / "synth")
BASE = ["--near", "--field", "text", "--quiet"]


class TreeSampler(threading.Thread):
    """CPU seconds and RSS of a process and its descendants, read every 0.1 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.cpu: dict[int, float] = {}
        self.peak_tree = self.peak_root = 0
        self.running = True

    def run(self):
        while self.running:
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for p in procs:
                try:
                    with p.oneshot():
                        t, rss = p.cpu_times(), p.memory_info().rss
                except psutil.Error:
                    continue
                self.cpu[p.pid] = t.user + t.system
                total += rss
                if p.pid == self.root.pid:
                    self.peak_root = max(self.peak_root, rss)
            self.peak_tree = max(self.peak_tree, total)
            time.sleep(0.1)


def measured(cmd: list[str]) -> dict:
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.running = False
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{cmd} failed:\n{err[-3000:]}")
    ours = sampler.cpu.get(proc.pid, 0.0)
    return {"wall_s": wall, "cpu_ours_s": ours, "cpu_helpers_s": sum(sampler.cpu.values()) - ours,
            "rss_ours_mb": sampler.peak_root / 2**20, "rss_tree_mb": sampler.peak_tree / 2**20,
            "load_before": load, "load_after": os.getloadavg()[0]}


def rows_in(path: Path) -> int:
    files = sorted(path.glob("part-*")) if path.is_dir() else [path]
    return sum(sum(1 for _ in open(f, "rb")) for f in files)


def split(path: Path, parts: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    lines = path.read_bytes().splitlines(keepends=True)
    step = -(-len(lines) // parts)
    out = []
    for i in range(parts):
        p = folder / f"part-{i:05d}.jsonl"
        p.write_bytes(b"".join(lines[i * step:(i + 1) * step]))
        out.append(p)
    return out


class Redis:
    def __init__(self, folder: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", str(folder)],
                                     stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        self.ps = psutil.Process(self.proc.pid)

    def cpu(self) -> float:
        t = self.ps.cpu_times()
        return t.user + t.system

    def rss_mb(self) -> float:
        return self.ps.memory_info().rss / 2**20

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def one(name: str, cmds: list[list[str]], outs: list[Path], redis: Redis | None) -> dict:
    before = redis.cpu() if redis else 0.0
    runs = [measured(c) for c in cmds]
    res = {k: sum(r[k] for r in runs) for k in ("wall_s", "cpu_ours_s", "cpu_helpers_s")}
    res.update(rss_ours_mb=max(r["rss_ours_mb"] for r in runs), rss_tree_mb=max(r["rss_tree_mb"] for r in runs),
               load=f"{runs[0]['load_before']:.1f}-{runs[-1]['load_after']:.1f}", kept=sum(rows_in(o) for o in outs))
    if redis:
        res.update(cpu_server_s=redis.cpu() - before, rss_server_mb=redis.rss_mb())
    print(name, json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in res.items()}), flush=True)
    return res


def bench(n: int, only: list[str] | None) -> dict:
    src = corpus(n)
    work = HERE / "out" / f"backends-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    batches = split(src, 4, work / "batches")
    split(src, 8, work / "shards")
    redis = Redis(work / "redis")
    results = {}
    try:
        methods = {
            "local": lambda: one("local", [[SYNTH, "dedup", str(src), "-o", str(work / "local.jsonl"), *BASE]],
                                 [work / "local.jsonl"], None),
            "ray": lambda: one("ray", [[SYNTH, "dedup", str(src), "-o", str(work / "ray.jsonl"), *BASE, "--ray", "local"]],
                               [work / "ray.jsonl"], None),
            "ray-1k": lambda: one("ray-1k", [[SYNTH, "dedup", str(head(src, 1000)), "-o", str(work / "ray-1k.jsonl"),
                                              *BASE, "--ray", "local"]], [work / "ray-1k.jsonl"], None),
            "ray-shards": lambda: one("ray-shards", [[SYNTH, "dedup", str(work / "shards"), "-o", str(work / "ray-out"),
                                                     *BASE, "--ray", "local"]], [work / "ray-out"], None),
            "redis": lambda: one("redis", [[SYNTH, "dedup", str(src), "-o", str(work / "redis.jsonl"), *BASE, "--index",
                                            f"redis://127.0.0.1:{redis.port}/one-{n}"]], [work / "redis.jsonl"], redis),
            "redis-4-batches": lambda: one("redis-4-batches", [
                [SYNTH, "dedup", str(b), "-o", str(work / f"redis-b{i}.jsonl"), *BASE, "--index",
                 f"redis://127.0.0.1:{redis.port}/batches-{n}"] for i, b in enumerate(batches)],
                [work / f"redis-b{i}.jsonl" for i in range(4)], redis),
            "dir-4-batches": lambda: one("dir-4-batches", [
                [SYNTH, "dedup", str(b), "-o", str(work / f"dir-b{i}.jsonl"), *BASE, "--index", str(work / "ix")]
                for i, b in enumerate(batches)], [work / f"dir-b{i}.jsonl" for i in range(4)], None),
        }
        for name, run in methods.items():
            if not only or name in only:
                results[name] = run()
    finally:
        redis.stop()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, action="append")
    ap.add_argument("--only", action="append")
    args = ap.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    for n in args.docs or [104_000]:
        saved = HERE / "out" / f"dedup_backends-{n}.json"  # --only reruns some methods, keeping the others
        res = {**(json.loads(saved.read_text()) if saved.exists() and args.only else {}), **bench(n, args.only)}
        saved.write_text(json.dumps(res, indent=1))
        print(f"\n{n:,} docs, {os.cpu_count()} CPUs")
        print("| method | wall s | CPU s ours | CPU s helpers | CPU s redis-server | peak RSS ours | peak RSS tree "
              "| redis-server RSS | load | kept |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, r in res.items():
            print(f"| {name} | {r['wall_s']:.1f} | {r['cpu_ours_s']:.1f} | {r['cpu_helpers_s']:.1f} | "
                  f"{r.get('cpu_server_s', 0):.1f} | {r['rss_ours_mb']:.0f} MB | {r['rss_tree_mb']:.0f} MB | "
                  f"{r.get('rss_server_mb', 0):.0f} MB | {r['load']} | {r['kept']:,} |")


if __name__ == "__main__":
    main()
