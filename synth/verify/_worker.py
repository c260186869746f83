"""The math-verify worker process: ``python -m synth.verify._worker``.

Reads one JSON request per line on stdin (``{"gold": ..., "pred": ...}``), answers one JSON line
on stdout. math-verify's own timeouts are off (they use SIGALRM); the parent enforces the wall
clock by killing this process (see ``timeout.py``). It prints ``{"ready": true}`` once imports
are done, so start-up time is never charged to a request.
"""

from __future__ import annotations

import json
import logging
import os
import sys


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


def _delimit(text: str) -> str:
    """math-verify's LaTeX extractor wants math mode; a bare answer gets ``$...$``."""
    if "$" in text or "\\(" in text or "\\[" in text or "\\boxed" in text:
        return text
    return f"${text}$"


def _short(extracted: object, limit: int = 200) -> str | None:
    """The extracted string for the verdict, cut to ``limit`` characters (rows stay small)."""
    if not isinstance(extracted, str):
        return None
    return extracted if len(extracted) <= limit else extracted[: limit - 1] + "…"


def verify_pair(gold: str, pred: str) -> dict:
    """Parse and compare with math-verify; return status and the strings it extracted."""
    from math_verify import parse, verify

    gold_parsed = parse(_delimit(gold), parsing_timeout=None)
    if not gold_parsed:
        return {"status": "unverifiable", "detail": "math-verify could not parse the gold answer"}
    pred_parsed = parse(_delimit(pred), parsing_timeout=None)
    # parse() returns [sympy object, extracted string]; report the strings (str() of a sympy
    # object can itself be slow).
    gold_text = _short(gold_parsed[-1])
    if not pred_parsed:
        return {"status": "incorrect", "gold": gold_text, "detail": "math-verify could not parse the prediction"}
    pred_text = _short(pred_parsed[-1])
    ok = verify(gold_parsed, pred_parsed, timeout_seconds=None)
    return {"status": "correct" if ok else "incorrect", "gold": gold_text, "pred": pred_text}


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
            reply = verify_pair(str(request["gold"]), str(request["pred"]))
        except MemoryError:
            reply = {"status": "unverifiable", "detail": "math-verify ran out of memory"}
        except Exception as exc:  # a bug in a parser must not kill the worker
            reply = {"status": "unverifiable", "detail": f"math-verify error: {type(exc).__name__}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
