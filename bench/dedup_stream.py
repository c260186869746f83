"""Streamed `synth dedup` at corpus scale: peak memory and time of the whole command, before/after,
and like for like against the plain datasketch loop (issue 27 items 1 and 3).

    nice -n 10 .venv/bin/python bench/dedup_stream.py --docs 520000            # everything below
    nice -n 10 .venv/bin/python bench/dedup_stream.py --docs 520000 --only synth --before b8be3bb
    nice -n 10 .venv/bin/python bench/dedup_stream.py --docs 10000000 --only synth --workers 1 --delete-corpus

Corpus: bench/corpus.py as bench/dedup.py builds it (80 % originals, 10 % light and 10 % heavy edited
copies, ~30 % Chinese), written once to bench/out/corpus-<n>.jsonl; from 2 M documents on it is
generated block by block (`Corpus.stream`, copies also across blocks) into bench/out/corpus-<n>/ as
shards of 500,000 rows, which `synth dedup` reads as one input. Every method runs in its own process
under /usr/bin/time -v (wall, CPU, and the peak RSS of the largest process: with --workers 1 that is
the whole command):

  synth-stream   `synth dedup CORPUS -o OUT.jsonl --near --field text --quiet --workers W`
                 (reads in batches, spills 136 B/row to OUT.state/, decides a band at a time, second
                 pass writes kept rows); with --before COMMIT the same command from that commit's
                 synth/ (extracted with git archive) runs first, on the same corpus and machine
  synth-memory   the in-memory path as `synth dedup` ran before: read_rows + dedup_rows + write_table
  synth-filter   `synth filter CORPUS -o OUT.jsonl --field text --filter length:min_units=5 --filter repetition`
  plain          read the JSONL, one datasketch MinHash per document (update per shingle of synth's
                 tokens) + MinHashLSH query/insert, write the kept rows: what users write, one thread

The plain loop processes ~1,800 docs/s, so on 520k it would run ~5 min of one core; it runs on the
first --plain-docs rows of the same file, and synth-stream runs on that same file with the same one
worker for the like-for-like ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
PY = sys.executable
SYNTH = str(Path(PY).parent / "synth")


SHARDED_FROM = 2_000_000  # larger corpora are generated block by block into a directory of shards


def sharded_corpus(n: int, seed: int = 0, shard_rows: int = 500_000) -> Path:
    """bench/corpus.py's `Corpus.stream` written as OUT/corpus-<n>/part-NNNNN.jsonl (a directory that
    `synth dedup` reads as one input); complete once `.done` is there."""
    folder = HERE / "out" / f"corpus-{n}"
    if (folder / ".done").exists():
        return folder
    from corpus import Corpus

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.jsonl"):
        old.unlink()
    fh = None
    for i, r in enumerate(Corpus(seed).stream(n)):
        if i % shard_rows == 0:
            if fh:
                fh.close()
            fh = open(folder / f"part-{i // shard_rows:05d}.jsonl", "w", encoding="utf-8")
            print(f"corpus: {i:,} rows", file=sys.stderr, flush=True)
        fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    fh.close()
    (folder / ".done").write_text("")
    return folder


def concatenated(folder: Path) -> Path:
    """The shards of `folder` as one JSONL file beside it (for a commit that reads one file only)."""
    out = folder.with_suffix(".jsonl")
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        with open(tmp, "wb") as dst:
            for f in sorted(folder.glob("*.jsonl")):
                with open(f, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 24)
        tmp.rename(out)
    return out


def corpus(n: int, seed: int = 0) -> Path:
    if n >= SHARDED_FROM:
        return sharded_corpus(n, seed)
    path = HERE / "out" / f"corpus-{n}.jsonl"
    if not path.exists():
        from corpus import Corpus

        path.parent.mkdir(exist_ok=True)
        rows = Corpus(seed).build(int(n * 0.8), int(n * 0.1), n - int(n * 0.8) - int(n * 0.1))
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        tmp.rename(path)
    return path


def head(path: Path, k: int) -> Path:
    out = path.with_name(f"{path.stem}-head{k}.jsonl")
    if not out.exists():
        with open(path, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i >= k:
                    break
                dst.write(line)
    return out


def synth_at(commit: str) -> Path:
    """That commit's synth/ package, extracted once to bench/out/synth-<commit>/ (run with PYTHONPATH)."""
    root = HERE / "out" / f"synth-{commit}"
    if not (root / "synth").exists():
        root.mkdir(parents=True, exist_ok=True)
        tar = subprocess.run(["git", "archive", commit, "synth"], cwd=HERE.parent, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(root)], input=tar.stdout, check=True)
    return root


def timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Wall, CPU and peak RSS of `cmd` (GNU time -v), plus the load average before it."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"{cmd} failed:\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", p.stderr).group(1))
    sys_ = float(re.search(r"System time \(seconds\): ([\d.]+)", p.stderr).group(1))
    return {"wall_s": round(wall, 1), "cpu_s": round(user + sys_, 1), "peak_rss_mb": round(rss / 1024),
            "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2), "stdout": p.stdout[-2000:]}


def child_memory(path: str, out: str) -> None:
    from synth.dedup import DedupConfig, dedup_rows
    from synth.io import read_rows, write_jsonl, write_table

    rows = read_rows(path)
    res = dedup_rows(rows, DedupConfig(near=True, fields=["text"]))
    write_table(Path(out), res.kept)
    write_jsonl(Path(out + ".dropped.jsonl"), res.dropped)
    print(json.dumps({"kept": len(res.kept)}))


def child_plain(path: str, out: str, threshold: float, num_perm: int) -> None:
    from datasketch import MinHash, MinHashLSH

    from synth.dedup.normalize import tokens
    from synth.dedup.shingles import iter_shingles

    t0 = time.perf_counter()
    rows = [json.loads(x) for x in open(path, encoding="utf-8")]
    t1 = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    kept = []
    for i, r in enumerate(rows):
        m = MinHash(num_perm=num_perm)
        for sh in iter_shingles(tokens(r["text"]), 3):
            m.update(" ".join(sh).encode("utf-8"))
        if not lsh.query(m):
            kept.append(r)
        lsh.insert(i, m)
    t2 = time.perf_counter()
    with open(out, "w", encoding="utf-8") as fh:
        for r in kept:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(json.dumps({"kept": len(kept), "read_s": round(t1 - t0, 1), "loop_s": round(t2 - t1, 1),
                      "write_s": round(time.perf_counter() - t2, 1)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=520_000)
    ap.add_argument("--plain-docs", type=int, default=52_000)
    ap.add_argument("--only", choices=["synth", "memory", "plain", "filter"], action="append")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--before", metavar="COMMIT", help="also run synth-stream from this commit's synth/ (same corpus)")
    ap.add_argument("--delete-corpus", action="store_true", help="remove the generated corpus afterwards")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        return child_memory(*rest) if kind == "memory" else child_plain(rest[0], rest[1], 0.6, 128)
    only = set(args.only or ["synth", "memory", "plain", "filter"])
    path = corpus(args.docs)
    results = {}
    with tempfile.TemporaryDirectory() as d:
        def synth(p, w, tag, root=None):
            cmd = [SYNTH] if root is None else [PY, "-m", "synth"]
            env = None if root is None else {**os.environ, "PYTHONPATH": str(root)}
            r = timed([*cmd, "dedup", str(p), "-o", f"{d}/{tag}.jsonl", "--near", "--field", "text", "--quiet",
                       "--workers", str(w)], env=env, cwd=root)  # cwd: `python -m` puts it before PYTHONPATH
            rep = json.loads(Path(f"{d}/{tag}.report.json").read_text())
            r.update(kept=rep["rows_kept"], dropped_exact=rep["dropped_exact"], dropped_near=rep["dropped_near"],
                     bytes_per_row=rep["streamed"]["bytes_per_row"], docs=rep["rows_in"],
                     docs_per_cpu_s=round(rep["rows_in"] / r["cpu_s"]), candidate_pairs=rep["candidate_pairs"],
                     seconds=rep["seconds"])
            r["md5"] = subprocess.run(["md5sum", f"{d}/{tag}.jsonl", f"{d}/{tag}.dropped.jsonl"], capture_output=True,
                                      text=True).stdout.split()[::2]
            for f in Path(d).glob(f"{tag}*"):  # a 10 M run writes GBs: keep only what the next runs need
                f.unlink() if f.is_file() else None
            return r

        if "synth" in only:
            for w in args.workers:
                results[f"synth-stream w{w} {args.docs}"] = synth(path, w, f"s{w}")
                print(f"synth-stream w{w} {args.docs}", json.dumps(results[f"synth-stream w{w} {args.docs}"]),
                      file=sys.stderr, flush=True)
                if args.before:  # shards concatenated: the commit before this change read one file only
                    one = concatenated(path) if path.is_dir() else path
                    results[f"synth-stream {args.before} w{w} {args.docs}"] = synth(one, w, f"b{w}", synth_at(args.before))
        if "filter" in only:  # streamed synth filter: cheap filters, so the figure is the streaming's own
            r = timed([SYNTH, "filter", str(path), "-o", f"{d}/f.jsonl", "--field", "text", "--quiet",
                       "--filter", "length:min_units=5", "--filter", "repetition"])
            rep = json.loads(Path(f"{d}/f.report.json").read_text())
            results[f"synth-filter {args.docs}"] = {**r, "kept": rep["rows_out"], "docs": rep["rows_in"]}
        if "memory" in only:
            r = timed([PY, __file__, "--child", "memory", str(path), f"{d}/m.jsonl"])
            results[f"synth-memory {args.docs}"] = {**r, **json.loads(r["stdout"].splitlines()[-1])}
        if "plain" in only:
            sub = head(path, args.plain_docs)
            r = timed([PY, __file__, "--child", "plain", str(sub), f"{d}/p.jsonl"])
            results[f"plain {args.plain_docs}"] = {**r, **json.loads(r["stdout"].splitlines()[-1])}
            s = results[f"synth-stream w1 {args.plain_docs}"] = synth(sub, 1, "sub")
            results["ratio like for like (same file, 1 worker, wall)"] = round(r["wall_s"] / s["wall_s"], 2)
            results["ratio like for like (CPU)"] = round(r["cpu_s"] / s["cpu_s"], 2)
    for k, v in results.items():
        if isinstance(v, dict):
            v.pop("stdout", None)
        print(k, json.dumps(v), flush=True)
    if args.delete_corpus:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        path.with_suffix(".jsonl").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
