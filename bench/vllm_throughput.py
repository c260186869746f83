"""Generated tokens/s of a whole `synth run` against a real vLLM server, beside a plain load generator
at the same concurrency against the same server in the same run.

    python bench/vllm_throughput.py --model DIR [--python .venv-vllm/bin/python] [--requests 256]
                                    [--concurrency 64] [--max-tokens 128] [--rounds 2] [-- vLLM flags]
    python bench/vllm_throughput.py --base-url http://gpu:8000/v1 --model NAME    # a server already up

Both clients send the same chat requests (the same prompts, temperature 0.8, `max_tokens`, a seed per
request, `ignore_eos` so every answer has exactly `max_tokens` tokens and the two clients ask the
server for the same work). The load generator is one aiohttp session, a semaphore and `gather`; synth
is `synth run` with the `instruct` recipe, its request cache, records, dedup, the parquet dataset and
card, in its own process, started fresh each round (`--fresh`, new cache) so nothing is served from
cache. Rounds alternate the order. Prints tokens/s of each and synth/load-generator (target ≥ 0.95).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPT = "Write a short paragraph about topic number {i}: how a {thing} works."
THINGS = ["bicycle", "refrigerator", "bank loan", "vaccine", "contract", "lathe", "tax return", "solar panel"]


def prompts(n: int) -> list[str]:
    return [PROMPT.format(i=i, thing=THINGS[i % len(THINGS)]) for i in range(n)]


async def load_generator(url: str, model: str, n: int, concurrency: int, max_tokens: int) -> tuple[int, float]:
    import aiohttp

    gate = asyncio.Semaphore(concurrency)
    tokens = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=3600)) as session:
        async def one(i: int, text: str) -> None:
            nonlocal tokens
            body = {"model": model, "messages": [{"role": "user", "content": text}], "temperature": 0.8,
                    "top_p": 1.0, "max_tokens": max_tokens, "seed": i, "ignore_eos": True}
            async with gate, session.post(url + "/chat/completions", json=body) as resp:
                data = await resp.json()
                tokens += data["usage"]["completion_tokens"]

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i, p) for i, p in enumerate(prompts(n))))
        return tokens, time.perf_counter() - t0


def synth_run(url: str, model: str, n: int, concurrency: int, max_tokens: int, work: Path) -> tuple[int, float, float]:
    """Completion tokens, the whole process's wall seconds, and the generate stage's seconds (from
    the manifest: requests only, without start-up, the dataset, card and plots)."""
    seeds = work / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": p}) + "\n" for p in prompts(n)))
    cfg = work / "run.yaml"
    cfg.write_text(f"name: bench\nrecipe: instruct\nseeds: {seeds}\nsampling: {{temperature: 0.8, max_tokens: "
                   f"{max_tokens}}}\nfilters: []\nengine: {{extra_body: {{ignore_eos: true}}}}\n")
    out = work / "run"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "synth", "run", str(cfg), "--base-url", url, "--model", model,
                           "--max-in-flight", str(concurrency), "--out", str(out), "--fresh", "-q"],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"synth run failed: {proc.stderr.strip()[-400:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    generate = next(s["seconds"] for s in manifest["stages"] if s["name"] == "generate")
    return manifest["requests"]["completion_tokens"], wall, generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model directory (to start vLLM) or served name (--base-url)")
    ap.add_argument("--base-url", help="a running server; default: start one with synth's VLLMServer")
    ap.add_argument("--python", help="the Python that has vLLM (default: this one)")
    ap.add_argument("--requests", type=int, default=256)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=2)
    args, extra = ap.parse_known_args()
    extra = [a for a in extra if a != "--"]
    server = None
    url, model = args.base_url, args.model
    if url is None:
        from synth.engines.vllm_server import VLLMServer

        server = VLLMServer(args.model, python=args.python, served_model_name="bench", extra=extra,
                            log_path=Path(tempfile.gettempdir()) / "bench-vllm.log")
        url = server.start(1800)
        model = "bench"
    try:
        rows = []
        for r in range(args.rounds):
            order = ["load", "synth"] if r % 2 == 0 else ["synth", "load"]
            result = {}
            for who in order:
                with tempfile.TemporaryDirectory() as tmp:
                    if who == "load":
                        result[who] = asyncio.run(load_generator(url, model, args.requests, args.concurrency,
                                                                 args.max_tokens))
                    else:
                        result[who] = synth_run(url, model, args.requests, args.concurrency, args.max_tokens,
                                                Path(tmp))
            rows.append(result)
            (lt, lw), (st, sw, sg) = result["load"], result["synth"]
            print(f"round {r + 1}: load generator {lt / lw:,.1f} tok/s ({lt} tokens, {lw:.1f} s) | synth run "
                  f"{st / sw:,.1f} tok/s ({st} tokens, {sw:.1f} s; generating {sg:.1f} s: {st / sg:,.1f} tok/s)",
                  flush=True)
        load = sum(r["load"][0] for r in rows) / sum(r["load"][1] for r in rows)
        syn = sum(r["synth"][0] for r in rows) / sum(r["synth"][1] for r in rows)
        gen = sum(r["synth"][0] for r in rows) / sum(r["synth"][2] for r in rows)
        print(f"\n| client | tokens/s | vs load generator |\n|---|---:|---:|\n"
              f"| load generator (aiohttp, {args.concurrency} in flight) | {load:,.1f} | 1.000 |\n"
              f"| `synth run` generating (instruct, --max-in-flight {args.concurrency}) | {gen:,.1f} | {gen / load:.3f} |\n"
              f"| whole `synth run` process (start-up, dataset, card included) | {syn:,.1f} | {syn / load:.3f} |")
    finally:
        if server is not None:
            server.stop(grace_s=30)


if __name__ == "__main__":
    main()
