"""The math-verify worker process: ``python -m synth.verify._worker``.

Reads one JSON request per line on stdin (``{"gold": ..., "pred": ..., "order": ..., "tolerance": [rel, abs] or
null}``), answers one JSON line
on stdout. math-verify's own timeouts are off (they use SIGALRM); the parent enforces the wall
clock by killing this process (see ``timeout.py``). It prints ``{"ready": true}`` once imports
are done, so start-up time is never charged to a request.
"""

from __future__ import annotations

import json
import logging
import os
import sys

from synth.verify.latex import verify_pair


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the parent dies, even while stuck in a C-level big-int loop."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the parent still kills us on timeout and at exit


def _limit_memory() -> None:
    """Cap the address space so a runaway expression raises MemoryError instead of swapping."""
    limit_mb = int(os.environ.get("SYNTH_VERIFY_MEMORY_MB", "0"))
    if limit_mb > 0:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit_mb * 2**20, limit_mb * 2**20))
        except (ImportError, ValueError, OSError):
            pass


def main() -> None:
    _die_with_parent()
    _limit_memory()
    logging.disable(logging.WARNING)  # "Timeout is disabled" etc.: the parent handles it
    import math_verify  # noqa: F401  (import before saying ready)

    out = sys.stdout
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            tolerance = request.get("tolerance")
            reply = verify_pair(str(request["gold"]), str(request["pred"]), request.get("order", "tuples"),
                                None if tolerance is None else tuple(tolerance))
        except MemoryError:
            reply = {"status": "unverifiable", "detail": "math-verify ran out of memory"}
        except Exception as exc:  # a bug in a parser must not kill the worker
            reply = {"status": "unverifiable", "detail": f"math-verify error: {type(exc).__name__}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
