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
