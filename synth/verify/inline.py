r"""math-verify in this process, under a wall-clock limit, when that is safe.

A worker process costs its start-up (importing sympy) and a round trip per pair; on a LaTeX-heavy
batch that is more CPU than the comparisons. So ``check`` / ``check_many`` compare in this process
when three things hold, and fall back to the worker processes (``timeout.py``) otherwise:

* the call runs on the main thread (only it can be interrupted);
* the answers pass a cheap guard (``risky``): no power towers, huge exponents or factorials, which
  sympy evaluates inside C code that no interrupt can stop (and that can eat all memory);
* SIGINT is not handled by C code (Python's own handler, ignored, or default), so it can be borrowed.

The limit: a watchdog thread calls ``_thread.interrupt_main(SIGINT)`` at the deadline; the handler
raises ``_Expired`` (a ``BaseException``, so math-verify's ``except Exception`` cannot swallow it)
and repeats every 50 ms until the comparison gives up. No OS signal is sent and no timer is set, so
``signal.alarm`` users (pytest-timeout, math-verify's own timeouts in the caller's code) are left
alone; a real Ctrl-C still reaches the previous handler. math-verify's own ``parsing_timeout`` /
``timeout_seconds`` are not used: they take whole seconds of ``signal.alarm`` and report a timeout
as "could not parse" / ``False``, where this reports ``timeout``.

    >>> risky("2^{2^{2^{30}}}"), risky(r"\frac{\sqrt{2}}{2}"), risky("100000!")
    (True, False, True)
"""

from __future__ import annotations

import _thread
import logging
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from synth.verify.latex import verify_pair
from synth.verify.normalize import matching_brace

_MAX_INLINE_CHARS = 1000
_REPEAT = 0.05  # seconds between interrupts once the deadline has passed
_BIG_NUMBER = re.compile(r"\d{5,}")
_FACTORIAL = re.compile(r"\d{4,}\s*!|!\s*!|\\binom\s*\{\s*\d{4,}|\\(?:Gamma|uparrow)")
_POWER = re.compile(r"\^|\*\*")


def _exponents(text: str) -> Iterator[str]:
    """The exponent after each ``^`` / ``**``: a braced group, or the next atom."""
    for m in _POWER.finditer(text):
        rest = text[m.end() :].lstrip()
        if rest.startswith("{"):
            close = matching_brace(rest, 0)
            yield rest[1:close] if close != -1 else rest
        else:
            atom = re.match(r"\(?-?[\w.\\]+\)?(?:\s*(?:\^|\*\*).*)?", rest)
            yield atom.group(0) if atom else rest[:1]


def risky(text: str) -> bool:
    """Could sympy get stuck in C code (or run out of memory) on this answer?"""
    if len(text) > _MAX_INLINE_CHARS or _FACTORIAL.search(text):
        return True
    for exponent in _exponents(text):
        if _POWER.search(exponent) or "!" in exponent or _BIG_NUMBER.search(exponent):
            return True  # 2^{2^{30}}, 9^9^9, 10^{100000}
    return False


class _Expired(BaseException):
    """Raised in the main thread when the comparison ran past its deadline."""


class _Watchdog:
    """One daemon thread that interrupts the main thread once the armed deadline has passed.

    ``active`` is set by the main thread only around the comparison itself, so the interrupt never
    lands in the bookkeeping around it; ``generation`` ties an interrupt to the call it was meant for.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._sleeping_until: float | None = None
        self._thread: threading.Thread | None = None
        self._fired: set[int] = set()
        self.generation = 0
        self.active = False

    def arm(self, seconds: float) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():  # threads do not survive fork()
                self._thread = threading.Thread(target=self._run, name="synth-verify-watchdog", daemon=True)
                self._thread.start()
            self.generation += 1
            self._deadline = time.monotonic() + seconds
            # Sequential calls push the deadline later: wake the thread only if it sleeps too long.
            if self._sleeping_until is None or self._sleeping_until > self._deadline:
                self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None

    def ours(self) -> tuple[bool, bool]:
        """(was a SIGINT sent by this watchdog, is it for the comparison running now)."""
        with self._cond:
            fired, self._fired = self._fired, set()
        return bool(fired), self.active and self.generation in fired

    def _run(self) -> None:
        with self._cond:
            while True:
                if self._deadline is None:
                    self._sleeping_until = None
                    self._cond.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._sleeping_until = self._deadline
                    self._cond.wait(left)
                    continue
                self._fired.add(self.generation)
                self._deadline = time.monotonic() + _REPEAT  # again, in case the interrupt was swallowed
                _thread.interrupt_main(signal.SIGINT)


_watchdog = _Watchdog()
_warm = False


def available() -> bool:
    """Can this call compare in-process (main thread; SIGINT not taken over by C code)?"""
    return threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not None


def _quiet_math_verify() -> None:
    """Drop math-verify's "Timeout is disabled" warning: the limit is enforced here."""

    class _NoTimeoutWarning(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return not record.getMessage().startswith("Timeout is disabled")

    for name in ("math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).addFilter(_NoTimeoutWarning())


@contextmanager
def session() -> Iterator[None]:
    """Borrow SIGINT for a batch of in-process comparisons (main thread only)."""
    global _warm
    if not _warm:  # import sympy and fill math-verify's caches outside any limit
        _quiet_math_verify()
        verify_pair("1", "1")
        _warm = True
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum, frame):
        sent_here, for_this_call = _watchdog.ours()
        if for_this_call and frame is not None and frame.f_code is not verify_here.__code__:
            raise _Expired  # inside math-verify; never in verify_here's own bookkeeping
        if sent_here:
            return  # a late interrupt for a comparison that has finished
        if callable(previous):  # a real Ctrl-C: the usual KeyboardInterrupt
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            raise KeyboardInterrupt  # SIG_IGN (nohup, background jobs): ignored, as before

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        _watchdog.disarm()
        signal.signal(signal.SIGINT, previous)


def verify_here(gold: str, pred: str, timeout: float, order: str = "tuples",
                tolerance: tuple[float, float] | None = None) -> dict:
    """``verify_pair`` under a wall-clock limit; call inside ``session()``."""
    _watchdog.arm(timeout)
    _watchdog.active = True
    try:
        return verify_pair(gold, pred, order, tolerance)
    except _Expired:
        return {"status": "timeout", "detail": f"math-verify took longer than {timeout:g} s"}
    except MemoryError:
        return {"status": "unverifiable", "detail": "math-verify ran out of memory"}
    except Exception as exc:  # a bug in a parser must not stop the batch
        return {"status": "unverifiable", "detail": f"math-verify error: {type(exc).__name__}"}
    finally:
        _watchdog.active = False
        _watchdog.disarm()
