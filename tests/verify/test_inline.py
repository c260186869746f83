"""math-verify in this process: the guard, the wall-clock limit, signals left as they were."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from synth.verify import WorkerPool, check, check_many
from synth.verify.inline import available, risky

SYMBOLIC = (r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}")
# sympy tries to integrate this symbolically for minutes, all in Python code (so it can be interrupted).
SLOW = (r"\int_0^{1} \sin(x^{3}) e^{x} dx", "0.3")


class CountingPool(WorkerPool):
    """A real pool that records which pairs reached a worker process."""

    def __init__(self) -> None:
        super().__init__(size=1)
        self.sent: list[tuple[str, str]] = []

    def verify(self, gold, pred, timeout, order="tuples", tolerance=None):
        self.sent.append((gold, pred))
        return super().verify(gold, pred, timeout, order, tolerance)


@pytest.fixture
def pool():
    pool = CountingPool()
    yield pool
    pool.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"2^{2^{2^{30}}}", True), ("9^9^9", True), ("10^{100000}", True), ("123456!", True),
        (r"\binom{100000}{50000}", True), ("x" * 1001, True),
        (r"\frac{\sqrt{2}}{2}", False), ("(x+1)^2", False), (r"2^{10} + 3^{20}", False), ("5!", False),
        (r"\int_0^1 x^{x} dx", False), (r"e^{i\pi}", False),
    ],
)
def test_the_guard_sends_power_towers_and_huge_numbers_to_a_worker(text, expected):
    assert risky(text) is expected


def test_safe_pairs_run_here_and_risky_ones_in_a_worker(pool):
    verdicts = check_many([SYMBOLIC, (r"\sqrt{12}", r"2\sqrt{3}"), ("2^{2^{2^{2^{2^{30}}}}}", "3")], pool=pool,
                          timeout=1.5)
    assert [v.status for v in verdicts] == ["correct", "correct", "timeout"]
    assert pool.sent == [("2^{2^{2^{2^{2^{30}}}}}", "3")]


def test_a_slow_comparison_here_times_out_and_the_next_one_works(pool):
    check(*SYMBOLIC, pool=pool)  # math-verify imported and warm
    started = time.monotonic()
    verdict = check(*SLOW, timeout=1.0, pool=pool)
    elapsed = time.monotonic() - started
    assert (verdict.status, verdict.method) == ("timeout", "math_verify")
    assert 1.0 <= elapsed < 1.0 + 1.5
    assert pool.sent == []  # it ran here, not in a worker
    assert [v.status for v in check_many([SYMBOLIC, (r"\sqrt{8}", r"3\sqrt{2}")], pool=pool)] == ["correct", "incorrect"]


def test_off_the_main_thread_every_pair_goes_to_a_worker(pool):
    results = []
    thread = threading.Thread(target=lambda: results.append((available(), check(*SYMBOLIC, pool=pool))))
    thread.start()
    thread.join()
    (here, verdict), = results
    assert here is False and verdict.status == "correct" and pool.sent == [SYMBOLIC]


def test_inline_false_uses_the_workers(pool):
    assert check(*SYMBOLIC, pool=pool, inline=False).correct
    assert pool.sent == [SYMBOLIC]


def test_signal_handlers_and_timers_are_left_as_they_were(pool):
    sigint, sigalrm = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGALRM)
    timer = signal.getitimer(signal.ITIMER_REAL)  # pytest-timeout's alarm, if it set one
    check_many([SYMBOLIC, SLOW], timeout=0.5, pool=pool)
    assert signal.getsignal(signal.SIGINT) is sigint and signal.getsignal(signal.SIGALRM) is sigalrm
    left = signal.getitimer(signal.ITIMER_REAL)
    assert (left[0] > 0) == (timer[0] > 0)  # still armed if it was, never armed by us


def test_a_real_ctrl_c_still_stops_a_batch(pool):
    check(*SYMBOLIC, pool=pool)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        check(*SLOW, timeout=30, pool=pool)
    assert time.monotonic() - started < 5
