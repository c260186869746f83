"""Run untrusted programs (generated code, its tests) in a sandbox, with limits, a pool and a cache.

    >>> from synth.execute import Executor, Program
    >>> Executor().run(Program("print(6 * 7)")).stdout
    '42\\n'

What is isolated (docs/execution.md has the table measured here): each program runs in its own
process with CPU, wall-clock, memory, output, file-size, process-count and open-file limits, in a
scratch directory, killed with its whole process group when time runs out. With bubblewrap (`bwrap`,
used when it works here) it also gets its own mount, PID, network, IPC and UTS namespaces: no network,
a read-only view of the system and of Python, nothing outside /scratch and /tmp writable, nothing left
running after it. Without bubblewrap (one warning line) only the limits and the process group hold.
Neither is a virtual machine: the kernel is shared, and a kernel exploit escapes both.
"""

from synth.execute.cache import SQLiteCache, StoreCache
from synth.execute.executor import TOTALS, ExecStats, Executor, machine_workers
from synth.execute.limits import Limits
from synth.execute.program import LANGUAGES, STATUSES, Program, Result
from synth.execute.sandbox import Sandbox, detect

__all__ = ["LANGUAGES", "STATUSES", "TOTALS", "ExecStats", "Executor", "Limits", "Program", "Result", "SQLiteCache",
           "Sandbox", "StoreCache", "detect", "machine_workers"]
