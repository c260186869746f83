"""A whole `synth run` against an instant server: marginal client CPU per request, beside a raw aiohttp
loop and the bare engine measured the same way in the same run; and how full the in-flight window
stays when the server takes 200 ms per request.

    python bench/run_throughput.py [--small 1500] [--large 9000] [--latency-rows 6000] [--rounds 3]

Each client runs in its own process twice (`--small` and `--large` requests) and its CPU time
(user + system, from the kernel) is read when it exits, so start-up (imports, the server probe, the
dataset card) cancels: marginal CPU/request = (CPU(large) - CPU(small)) / (large - small). The server
is a separate process. `synth run` does everything a user's run does: seeds, the `instruct` recipe,
the SQLite cache, records on disk with group commits, filters, dedup, the parquet dataset and card.

In-flight share: the server counts requests it is holding (each for --latency-ms) over the middle 80 %
of the run, time-weighted, and divides by the client's window (--max-in-flight 256).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SERVER = r'''
import asyncio, json, sys, time
from aiohttp import web
latency = float(sys.argv[2])
state = {"active": 0, "events": []}   # (time, active) after each change
def body(text):
    return json.dumps({"id": "x", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 3, "total_tokens": 23}}).encode()
ANSWER = body("A short answer.")
async def chat(request):
    await request.read()
    state["active"] += 1
    state["events"].append((time.monotonic(), state["active"]))
    try:
        if latency:
            await asyncio.sleep(latency)
        return web.Response(body=ANSWER, content_type="application/json")
    finally:
        state["active"] -= 1
        state["events"].append((time.monotonic(), state["active"]))
async def models(request):
    return web.json_response({"data": [{"id": "m", "owned_by": "bench"}]})
async def stats(request):
    ev = state["events"]
    state["events"] = []
    if len(ev) < 4:
        return web.json_response({"mean_active": 0})
    t0, t1 = ev[0][0], ev[-1][0]
    lo, hi = t0 + 0.1 * (t1 - t0), t1 - 0.1 * (t1 - t0)
    area, prev_t, prev_a = 0.0, lo, 0
    for t, a in ev:
        if t <= lo:
            prev_a = a
            continue
        if t >= hi:
            break
        area += prev_a * (t - prev_t)
        prev_t, prev_a = t, a
    area += prev_a * (hi - prev_t)
    return web.json_response({"mean_active": area / (hi - lo), "seconds": t1 - t0})
app = web.Application()
app.router.add_post("/v1/chat/completions", chat)
app.router.add_get("/v1/models", models)
app.router.add_get("/stats", stats)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None, backlog=4096)
'''

RAW = r'''
import asyncio, sys, aiohttp
url, n, window = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
async def main():
    sem = asyncio.Semaphore(window)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=window)) as session:
        async def one(i):
            async with sem, session.post(url + "/chat/completions", json={"model": "m", "max_tokens": 8,
                    "messages": [{"role": "user", "content": f"Instruction number {i}."}]}) as r:
                await r.json()
        await asyncio.gather(*(one(i) for i in range(n)))
asyncio.run(main())
'''

ENGINE = r'''
import asyncio, sys
from synth.engines.base import Sampling
from synth.engines.openai_http import OpenAIEngine
url, n, window = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
async def main():
    async with OpenAIEngine(url, "m", max_in_flight=window, probe=False) as engine:
        s = Sampling(max_tokens=8, seed=1)
        sem = asyncio.Semaphore(2 * window)
        async def one(i):
            async with sem:
                await engine.chat([{"role": "user", "content": f"Instruction number {i}."}], s)
        await asyncio.gather(*(one(i) for i in range(n)))
asyncio.run(main())
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_cpu(cmd: list[str], **kw) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def synth_run(url: str, n: int, window: int, work: Path, tag: str) -> list[str]:
    seeds = work / f"seeds-{n}.jsonl"
    if not seeds.exists():
        seeds.write_text("".join(json.dumps({"instruction": f"Instruction number {i}."}) + "\n" for i in range(n)))
    cfg = work / f"run-{n}.yaml"
    cfg.write_text(f"name: bench\nrecipe: instruct\nseeds: {seeds}\nsampling: {{max_tokens: 8}}\n")
    return [sys.executable, "-m", "synth", "run", str(cfg), "--base-url", url, "--model", "m",
            "--max-in-flight", str(window), "--out", str(work / f"run-{tag}-{n}"), "-q"]


def start_server(latency_s: float) -> tuple[subprocess.Popen, str, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(latency_s)])
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1)
            return proc, f"http://127.0.0.1:{port}/v1", port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("bench server did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=1500)
    ap.add_argument("--large", type=int, default=9000)
    ap.add_argument("--in-flight", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    ap.add_argument("--latency-rows", type=int, default=10000)
    ap.add_argument("--latency-ms", type=float, default=200)
    ap.add_argument("--max-in-flight", type=int, default=256)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server, url, port = start_server(0.0)
        try:
            clients = {
                "raw aiohttp loop": lambda n, tag: [py, "-c", RAW, url, str(n), str(args.in_flight)],
                "synth engine (OpenAIEngine.chat)": lambda n, tag: [py, "-c", ENGINE, url, str(n), str(args.in_flight)],
                "whole `synth run` (instruct)": lambda n, tag: synth_run(url, n, args.in_flight, work, tag),
            }
            marginal: dict[str, list[float]] = {k: [] for k in clients}
            for r in range(args.rounds):
                for name, cmd in clients.items():
                    small, _ = child_cpu(cmd(args.small, f"{r}s"))
                    large, _ = child_cpu(cmd(args.large, f"{r}l"))
                    marginal[name].append((large - small) / (args.large - args.small))
        finally:
            server.terminate()
            server.wait()

        server, url, port = start_server(args.latency_ms / 1000)
        try:
            _, wall = child_cpu(synth_run(url, args.latency_rows, args.max_in_flight, work, "latency"))
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats") as resp:
                stats = json.loads(resp.read())
        finally:
            server.terminate()
            server.wait()

    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; {args.small} vs {args.large} requests, "
          f"{args.in_flight} in flight, {args.rounds} rounds (median)")
    raw = sorted(marginal["raw aiohttp loop"])[len(marginal["raw aiohttp loop"]) // 2]
    print("| client | marginal CPU ms/request | vs raw |\n|---|---:|---:|")
    for name, values in marginal.items():
        m = sorted(values)[len(values) // 2]
        print(f"| {name} | {1000 * m:.3f} | {m / raw:.2f}x |")
    share = stats["mean_active"] / args.max_in_flight
    print(f"\nin flight at {args.latency_ms:.0f} ms server latency, window {args.max_in_flight}, "
          f"{args.latency_rows} rows: {stats['mean_active']:.1f} on average = {share:.2f} of the window "
          f"(whole run {wall:.1f} s wall)")


if __name__ == "__main__":
    main()
