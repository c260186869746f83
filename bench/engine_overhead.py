"""Client overhead per request: synth's engine vs a bare aiohttp loop, against an instant server.

The server answers every chat request at once with a fixed body, in its own process, so what is
measured is the client: requests/s and client CPU per request, side by side in one run.

    python bench/engine_overhead.py [--requests 5000] [--in-flight 64]

Variants:
  raw-aiohttp   one ClientSession + semaphore + gather: the floor any Python client can reach
  synth-engine  OpenAIEngine.chat (window, retries, response parsing)
  synth-llm     LLM.chat without a cache (seed derivation, request hashing)
  synth-cached  LLM.chat writing every answer to the run's SQLite cache (what `synth run` does)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import aiohttp

BODY = json.dumps({"id": "x", "object": "chat.completion", "model": "m",
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21}})

SERVER = r'''
import sys
from aiohttp import web
body = sys.argv[2].encode()
async def chat(request):
    await request.read()
    return web.Response(body=body, content_type="application/json")
async def models(request):
    return web.json_response({"data": [{"id": "m", "owned_by": "bench"}]})
app = web.Application()
app.router.add_post("/v1/chat/completions", chat)
app.router.add_get("/v1/models", models)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def messages(i: int) -> list[dict]:
    return [{"role": "user", "content": f"What is {i} + {i}? Answer with a number."}]


async def raw_aiohttp(url: str, n: int, in_flight: int) -> None:
    sem = asyncio.Semaphore(in_flight)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as session:
        async def one(i: int) -> None:
            async with sem, session.post(url + "/chat/completions",
                                         json={"model": "m", "messages": messages(i), "max_tokens": 8}) as r:
                await r.json()

        await asyncio.gather(*(one(i) for i in range(n)))


async def synth_variant(url: str, n: int, in_flight: int, mode: str) -> None:
    from synth.engines.base import Sampling
    from synth.engines.openai_http import OpenAIEngine
    from synth.llm import LLM
    from synth.store import RunStore

    async with OpenAIEngine(url, "m", max_in_flight=in_flight, probe=False) as engine:
        if mode == "engine":
            s = Sampling(max_tokens=8, seed=1)
            await asyncio.gather(*(engine.chat(messages(i), s) for i in range(n)))
            return
        with tempfile.TemporaryDirectory() as tmp:
            store = RunStore(tmp, "bench") if mode == "cached" else None
            llm = LLM(engine, store, Sampling(max_tokens=8))
            await asyncio.gather(*(llm.chat(messages(i)) for i in range(n)))
            if store:
                store.close()


def measure(name: str, coro_fn) -> dict:
    cpu0, t0 = time.process_time(), time.perf_counter()
    asyncio.run(coro_fn())
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"variant": name, "wall_s": wall, "cpu_s": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--in-flight", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is reported")
    args = ap.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), BODY])
    url = f"http://127.0.0.1:{port}/v1"
    try:
        asyncio.run(_wait(url))
        variants = {
            "raw-aiohttp": lambda: raw_aiohttp(url, args.requests, args.in_flight),
            "synth-engine": lambda: synth_variant(url, args.requests, args.in_flight, "engine"),
            "synth-llm": lambda: synth_variant(url, args.requests, args.in_flight, "llm"),
            "synth-cached": lambda: synth_variant(url, args.requests, args.in_flight, "cached"),
        }
        results: dict[str, list[dict]] = {k: [] for k in variants}
        for _ in range(args.rounds):  # interleaved so machine noise hits every variant alike
            for name, fn in variants.items():
                results[name].append(measure(name, fn))
    finally:
        server.terminate()
        server.wait()
    base = _median(results["raw-aiohttp"])
    print(f"{args.requests} requests, {args.in_flight} in flight, {args.rounds} rounds (median), "
          f"{os.cpu_count()} CPUs; server in its own process")
    print(f"{'variant':<14} {'req/s':>9} {'CPU ms/req':>11} {'req/s vs raw':>13}")
    for name, runs in results.items():
        m = _median(runs)
        print(f"{name:<14} {args.requests / m['wall_s']:>9,.0f} {1000 * m['cpu_s'] / args.requests:>11.3f} "
              f"{base['wall_s'] / m['wall_s']:>12.2f}x")


def _median(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]


async def _wait(url: str) -> None:
    for _ in range(100):
        try:
            async with aiohttp.ClientSession() as s, s.get(url + "/models") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
    raise SystemExit("bench server did not start")


if __name__ == "__main__":
    main()
