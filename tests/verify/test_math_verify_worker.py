"""math-verify in worker processes: wall-clock timeouts, threads, event loops, crashes.

Pairs that are risky (power towers) or checked off the main thread always go to a worker; the
others run in this process unless ``inline=False`` (see test_inline.py).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from synth.verify import WorkerPool, acheck, check, check_many

# 2^(2^(2^(2^(2^30)))) makes sympy try to build a number with more digits than atoms in the universe.
PATHOLOGICAL = ("2^{2^{2^{2^{2^{30}}}}}", "3")
SYMBOLIC = (r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}")


@pytest.fixture
def pool():
    pool = WorkerPool(size=2)
    yield pool
    pool.close()


def test_pathological_input_times_out_and_the_checker_recovers(pool):
    check(*SYMBOLIC, pool=pool, inline=False)  # warm the worker: start-up is never charged to a pair anyway
    started = time.monotonic()
    verdict = check(*PATHOLOGICAL, timeout=1.5, pool=pool)
    elapsed = time.monotonic() - started
    assert (verdict.status, verdict.method) == ("timeout", "math_verify")
    assert 1.5 <= elapsed < 1.5 + 1.0
    assert check(*SYMBOLIC, pool=pool, inline=False).status == "correct"  # a fresh worker took over


def test_timeout_in_a_batch_spoils_only_its_own_pair(pool):
    verdicts = check_many([SYMBOLIC, PATHOLOGICAL, ("1,000", "1000"), (r"\sqrt{8}", r"3\sqrt{2}")], timeout=1.5, pool=pool)
    assert [v.status for v in verdicts] == ["correct", "timeout", "correct", "incorrect"]


def test_check_works_off_the_main_thread(pool):
    results = []
    threads = [threading.Thread(target=lambda: results.append(check(*SYMBOLIC, pool=pool))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [v.status for v in results] == ["correct"] * 4


def test_check_works_inside_a_running_event_loop(pool):
    async def main():
        blocking = check(*SYMBOLIC, pool=pool)  # plain call inside a coroutine
        awaited = await acheck(r"(1,2]", "(1,2)", pool=pool)
        return blocking.status, awaited.status

    assert asyncio.run(main()) == ("correct", "incorrect")


def test_workers_survive_the_thread_that_started_them(pool):
    # check_many starts workers from short-lived executor threads; they must outlive them.
    check_many([SYMBOLIC, (r"\sqrt{12}", r"2\sqrt{3}")], pool=pool, inline=False)
    assert check(r"\binom{5}{2}", "10", pool=pool, inline=False).status == "correct"


def test_a_crashed_worker_is_reported_and_replaced(pool):
    check(*SYMBOLIC, pool=pool, inline=False)
    for worker in pool._all:
        if worker._proc is not None:
            worker._proc.kill()
            worker._proc.wait()
    verdict = check(*SYMBOLIC, pool=pool, inline=False)
    assert verdict.status in {"correct", "unverifiable"}  # restarted before use, or reported once
    assert check(*SYMBOLIC, pool=pool, inline=False).status == "correct"


def test_check_many_deduplicates_math_verify_pairs(pool, monkeypatch):
    calls = []
    real = pool.verify
    monkeypatch.setattr(pool, "verify", lambda g, p, t, o, tol: calls.append((g, p)) or real(g, p, t, o, tol))
    verdicts = check_many([SYMBOLIC] * 50 + [("2", "2")] * 50, pool=pool, inline=False)
    assert len(calls) == 1 and all(v.correct for v in verdicts)


@pytest.mark.parametrize("inline", [True, False])
def test_unparseable_gold_is_unverifiable_and_unparseable_pred_incorrect(pool, inline):
    gold_bad = check("\\", "x^2", pool=pool, inline=inline)
    assert (gold_bad.status, gold_bad.method) == ("unverifiable", "math_verify")
    assert check("x^2", "\\", pool=pool, inline=inline).status == "incorrect"


def test_a_whole_text_without_an_answer_is_not_sent_to_math_verify(pool, monkeypatch):
    monkeypatch.setattr(pool, "verify", lambda *args: pytest.fail("sent to math-verify"))
    verdict = check("x^2", "words, more words and no formula at all. " * 100, pool=pool, inline=False)
    assert (verdict.status, verdict.method) == ("unverifiable", "none")
    assert "no final answer found" in verdict.detail
