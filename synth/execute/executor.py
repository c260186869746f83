"""`Executor`: run programs in the sandbox through a pool sized to the machine, results cached.

One pool per process (threads, each holding a slot while its program runs), shared by every executor,
so a recipe and a filter in one run never start more programs at once than there are CPUs. `arun`
(recipes) awaits a result without blocking the event loop; identical programs in flight at the same
time run once. `run` / `run_many` block (filters). A result comes from the cache when the same
program, input, files and limits ran before in the same kind of sandbox.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from synth.execute.cache import SQLiteCache, StoreCache, cache_key, request_json
from synth.execute.limits import Limits
from synth.execute.process import run_job
from synth.execute.program import Program, Result
from synth.execute.sandbox import Sandbox, detect


@dataclass
class ExecStats:
    executed: int = 0
    cache_hits: int = 0
    statuses: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"executed": self.executed, "cache_hits": self.cache_hits, "statuses": dict(self.statuses)}


# every execution of this process, whatever executor ran it (tests read it to prove a cache hit)
TOTALS = ExecStats()


def machine_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _Pool:
    def __init__(self, size: int) -> None:
        self.size = size
        self.slots: queue.Queue[int] = queue.Queue()
        for slot in range(size):
            self.slots.put(slot)
        self.threads = ThreadPoolExecutor(size, thread_name_prefix="synth-exec")

    def execute(self, box: Sandbox, program: Program, limits: Limits) -> Result:
        slot = self.slots.get()
        try:
            return run_job(box, program, limits, slot)
        finally:
            self.slots.put(slot)


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _Pool(machine_workers())
        return _pool


class Executor:
    """Runs `Program`s in the sandbox (`isolation`: auto | bwrap | rlimits) under `limits`, caching results
    in `cache` (a StoreCache, a SQLiteCache, or None)."""

    def __init__(self, limits: Limits | None = None, *, isolation: str = "auto",
                 cache: StoreCache | SQLiteCache | None = None) -> None:
        self.limits = limits or Limits()
        self.sandbox = detect(isolation)
        self.cache = cache
        self.stats = ExecStats()
        self._lock = threading.Lock()
        self._inflight: dict[str, asyncio.Future] = {}

    @classmethod
    def for_llm(cls, llm, limits: Limits | None = None, *, isolation: str = "auto") -> "Executor":
        """An executor caching in the run's cache.sqlite (the store behind `llm`), when there is one."""
        store = getattr(llm, "store", None)
        return cls(limits, isolation=isolation, cache=StoreCache(store) if store is not None else None)

    @property
    def isolation(self) -> str:
        return self.sandbox.kind

    def _identity(self, program: Program) -> tuple[Limits, str, str]:
        limits = program.limits or self.limits
        request = request_json(program, limits, self.sandbox.tag)
        return limits, request, cache_key(request)

    def _hit(self, key: str) -> Result | None:
        if self.cache is None:
            return None
        found = self.cache.get(key)
        if found is None:
            return None
        self._count(None)
        return Result.from_json(found, cached=True)

    def _count(self, result: Result | None) -> None:
        with self._lock:
            for stats in (self.stats, TOTALS):
                if result is None:
                    stats.cache_hits += 1
                else:
                    stats.executed += 1
                    stats.statuses[result.status] += 1

    def _keep(self, key: str, request: str, result: Result) -> None:
        self._count(result)
        if self.cache is not None and result.status != "sandbox_error":  # a broken sandbox is not the program's
            self.cache.put(key, request, result.to_json())

    # -- blocking --------------------------------------------------------------------------------
    def run(self, program: Program) -> Result:
        limits, request, key = self._identity(program)
        hit = self._hit(key)
        if hit is not None:
            return hit
        result = pool().execute(self.sandbox, program, limits)
        self._keep(key, request, result)
        return result

    def run_many(self, programs: list[Program]) -> list[Result]:
        """Results in the order given, programs run concurrently on the pool."""
        return list(pool().threads.map(self.run, programs)) if len(programs) > 1 else [self.run(p) for p in programs]

    # -- async -----------------------------------------------------------------------------------
    async def arun(self, program: Program) -> Result:
        limits, request, key = self._identity(program)
        hit = self._hit(key)
        if hit is not None:
            return hit
        running = self._inflight.get(key)
        if running is not None:  # the same program is running now for another caller: wait for it
            result = await asyncio.shield(running)
            self._count(None)
            return Result.from_json(result.to_json(), cached=True)
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(loop.run_in_executor(pool().threads, pool().execute, self.sandbox, program,
                                                          limits))
        self._inflight[key] = task
        try:
            result = await asyncio.shield(task)
        finally:
            self._inflight.pop(key, None)
        self._keep(key, request, result)
        return result

    async def arun_many(self, programs: list[Program]) -> list[Result]:
        return list(await asyncio.gather(*(self.arun(p) for p in programs)))
