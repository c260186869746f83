"""Issue 22: answers built from the chunk's own words and figures but paired differently (subjects exchanged in
one sentence, figures moved between the columns or rows of a table, a mapping row given another row's value),
and a document noun as the subject of a saying verb; each with near misses that must pass."""

from __future__ import annotations

import pytest

from synth.grounding import check_answer, leak


@pytest.mark.parametrize("answer", [
    "The documentation states that the queue keeps 3 replicas.",
    "The vendor docs note that retries stop after 5 attempts.",
    "The user guide says the port defaults to 8080.",
    "官方文档指出，默认端口是 8080。",
    "手册中提到重试 5 次后停止。",
])
def test_a_document_noun_saying_something_is_a_leak(answer):
    assert leak(answer)


@pytest.mark.parametrize("answer", [
    "The server states its version in every response.",
    "PEP 8 says nothing about tabs in comments.",
    "这种结构称为跳表。",
    "文档称之为主节点。",
    "指南针指出北方。",
])
def test_a_party_saying_something_is_no_leak(answer):
    assert leak(answer) is None


QUEUE = ("The broker keeps committed messages on disk for 72 hours and keeps consumer offsets in memory for 10 minutes. "
         "Retries use exponential backoff.")
QUEUE_QUOTE = "The broker keeps committed messages on disk for 72 hours and keeps consumer offsets in memory for 10 minutes."
CACHE = "网关节点在内存中缓存路由表，而存储节点把大部分磁盘空间留给写前日志。"
RULE = "Every public function MUST carry a docstring, and SHOULD carry type hints wherever feasible."


@pytest.mark.parametrize("answer, quote, chunk", [
    # two objects exchanged between their verbs
    ("The broker keeps consumer offsets on disk for 72 hours and keeps committed messages in memory for 10 minutes.",
     QUEUE_QUOTE, QUEUE),
    # two figures exchanged between the cases they belong to
    ("The broker keeps committed messages on disk for 10 minutes and keeps consumer offsets in memory for 72 hours.",
     QUEUE_QUOTE, QUEUE),
    # the two sides of a rule exchanged
    ("Every public function MUST carry type hints, and SHOULD carry a docstring wherever feasible.", RULE, RULE),
    # 两个主体交换了各自做的事
    ("网关节点把大部分磁盘空间留给写前日志，而存储节点在内存中缓存路由表。", CACHE, CACHE),
])
def test_a_pairing_exchanged_goes_to_the_judge(answer, quote, chunk):
    v = check_answer(answer, [quote], chunk)
    assert (v.status, v.reason) == ("uncertain", "ungrounded_pairing")


@pytest.mark.parametrize("answer, quote, chunk", [
    ("The broker keeps committed messages on disk for 72 hours and consumer offsets in memory for 10 minutes.",
     QUEUE_QUOTE, QUEUE),
    # clauses reordered, each figure with its own partner
    ("Consumer offsets are kept in memory for 10 minutes, while committed messages stay on disk for 72 hours.",
     QUEUE_QUOTE, QUEUE),
    ("Type hints SHOULD be carried wherever feasible; every public function MUST carry a docstring.", RULE, RULE),
    # 话题前置：各自仍与原来的搭配在一起
    ("存储节点把大部分磁盘空间留给写前日志，网关节点则在内存中缓存路由表。", CACHE, CACHE),
    ("路由表由网关节点缓存在内存中，而存储节点把大部分磁盘空间留给写前日志。", CACHE, CACHE),
])
def test_a_reordering_that_keeps_each_pairing_passes(answer, quote, chunk):
    v = check_answer(answer, [quote], chunk)
    assert (v.status, v.checks["pairing_swaps"]) == ("pass", [])
