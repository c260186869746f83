"""The bounded in-flight window of an HTTP engine, and how vLLM's `/metrics` moves it.

vLLM never answers 429 when it is overloaded: when the server exposes its `/metrics`, the engine reads
the queue and the KV-cache use every few seconds and shrinks the window while requests queue, growing
it back when the queue is empty (OpenAIEngine._watch_metrics reads them, `parse_vllm_load` sums them, `next_window` decides).
"""

from __future__ import annotations

import asyncio
import collections


class InFlightWindow:
    """A semaphore whose limit can move while requests are in flight (backpressure).

    The fast path (a free slot) takes no lock and creates no future: on one event loop the check
    and the increment cannot interleave.
    """

    def __init__(self, limit: int) -> None:
        self.limit = self.max = limit
        self.active = 0
        self._waiters: collections.deque[asyncio.Future] = collections.deque()

    async def __aenter__(self) -> None:
        while self.active >= self.limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # we were handed a slot we will not use: pass it on
                raise
        self.active += 1

    async def __aexit__(self, *exc: object) -> None:
        self.active -= 1
        self._wake()

    def _wake(self) -> None:
        free = self.limit - self.active
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1

    async def resize(self, limit: int) -> None:
        self.limit = max(1, min(self.max, limit))
        self._wake()



def parse_vllm_load(metrics_text: str) -> dict[str, float]:
    """Sum vLLM's waiting/running gauges and take the highest KV-cache use over engines."""
    waiting = running = kv = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        try:
            v = float(value)
        except ValueError:
            continue
        if name.startswith("vllm:num_requests_waiting{") or name == "vllm:num_requests_waiting":
            waiting += v
        elif name.startswith("vllm:num_requests_running"):
            running += v
        elif name.startswith("vllm:kv_cache_usage_perc"):
            kv = max(kv, v)
    return {"waiting": waiting, "running": running, "kv_cache": kv}


def next_window(limit: int, maximum: int, *, waiting: float, running: float, kv_cache: float) -> int:
    """Shrink the in-flight window while the server queues with a full KV cache; grow back when idle."""
    if waiting > max(4, 0.25 * limit) and kv_cache > 0.9:
        return max(4, int(limit * 0.8))
    if waiting == 0 and limit < maximum:
        return min(maximum, limit + max(1, maximum // 10))
    return limit

