"""Tokens/s of the embedded engine with two llama-cpp-python builds, side by side.

Each `--python` is the interpreter of a virtual environment holding one build (e.g. the portable
`-DGGML_NATIVE=OFF` build the README installs, and a build with AVX-512 enabled). Both serve the same
SmolLM2-135M GGUF with the same threads and context; rounds alternate between them so a noisy machine
hits both alike. Each round sends the same prompts with fixed seeds and reads the server's own token
counts; prints generated tokens/s per build (median over rounds) and the ratio to the first build.

    .venv/bin/python bench/embedded_build.py --python /tmp/portable/bin/python --python /tmp/avx512/bin/python
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import urllib.request

from synth.engines.embedded import MODEL_ALIAS, model_path
from synth.engines.server_process import free_port

PROMPTS = ["Explain in three sentences why the sky is blue.", "Write a short poem about rivers.",
           "List five uses of copper and say why.", "用三句话介绍一下长江。"]


def start(python: str, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([python, "-m", "llama_cpp.server", "--model", str(model_path()), "--model_alias",
                             MODEL_ALIAS, "--port", str(port), "--n_threads", str(threads), "--n_threads_batch",
                             str(threads), "--n_ctx", "2048", "--verbose", "False"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/models", timeout=1).close()
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{python}: the server exited with {proc.returncode}")
            time.sleep(0.1)
    raise SystemExit(f"{python}: the server did not start")


def one_round(url: str, max_tokens: int) -> tuple[int, float]:
    tokens, seconds = 0, 0.0
    for i, prompt in enumerate(PROMPTS):
        body = json.dumps({"model": MODEL_ALIAS, "messages": [{"role": "user", "content": prompt}],
                           "max_tokens": max_tokens, "temperature": 0.7, "seed": i}).encode()
        request = urllib.request.Request(url + "/chat/completions", body, {"Content-Type": "application/json"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(request, timeout=300) as resp:
            data = json.load(resp)
        seconds += time.perf_counter() - t0
        tokens += data["usage"]["completion_tokens"]
    return tokens, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", action="append", required=True, help="interpreter of a venv with one build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    servers = [start(p, args.threads) for p in args.python]
    rates: dict[str, list[float]] = {p: [] for p in args.python}
    try:
        for (_, url) in servers:
            one_round(url, 16)  # warm-up: first-request allocations
        for _ in range(args.rounds):
            for python, (_, url) in zip(args.python, servers):
                tokens, seconds = one_round(url, args.max_tokens)
                rates[python].append(tokens / seconds)
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait()
    base = statistics.median(rates[args.python[0]])
    print(f"| build (interpreter) | tokens/s (median of {args.rounds}) | min–max | vs first |")
    print("|---|---:|---:|---:|")
    for python in args.python:
        med = statistics.median(rates[python])
        print(f"| {python} | {med:.1f} | {min(rates[python]):.1f}–{max(rates[python]):.1f} | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
