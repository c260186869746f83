"""Issue 22: answers built from the chunk's own words and figures but paired differently (subjects exchanged in
one sentence, figures moved between the columns or rows of a table, a mapping row given another row's value),
and a document noun as the subject of a saying verb; each with near misses that must pass."""

from __future__ import annotations

import pytest

from synth.grounding import check_answer, leak
from synth.grounding.tables import crossed_cells


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


INSTANCES = """## Small pool

| Vendor | Size | Cores | RAM (GB) | Throughput (MB/s) |
|---|---|---|---|---|
| Acme | a2.small | 2 | 6 | 40.5 |

## Large pool

| Vendor | Size | Cores | RAM (GB) | Throughput (MB/s) |
|---|---|---|---|---|
| Acme | a2.big | 12 | 48 | 310.25 |"""

CODES = """编码对照：

| 内部类别 | 外部编码 |
| --- | --- |
| 整数 | i8, i16, i32 |
| 文本 | str, utf8 |
| 时刻 | date, datetime, time |
| 二进制 | blob, varbin |"""

SIZES = """| 用途 | 范围 | 列类型 | 字节 |
| --- | --- | --- | --- |
| 楼层 | 200 以内 | unsigned tinyint | 1 |
| 订单号 | 约 90 亿 | unsigned bigint | 8 |"""


@pytest.mark.parametrize("answer, chunk", [
    ("The a2.small has 6 cores and 2 GB of RAM.", INSTANCES),         # figures moved between columns
    ("The a2.big in the large pool reaches 40.5 MB/s.", INSTANCES),   # a figure of another table's row
    ("外部编码 time 在内部归入文本类别。", CODES),                       # a mapping row given another row's value
    ("varbin 对应的内部类别是整数。", CODES),
    ("楼层用 unsigned tinyint 存储，占 8 个字节。", SIZES),               # a row named by its type, not its label
])
def test_a_table_pairing_crossed_goes_to_the_judge(answer, chunk):
    assert crossed_cells(answer, chunk)


@pytest.mark.parametrize("answer, chunk", [
    ("The a2.small has 2 cores and 6 GB of RAM.", INSTANCES),
    ("An a2.big reaches 310.25 MB/s with 12 cores.", INSTANCES),
    ("外部编码 time 在内部归入时刻类别，str 归入文本。", CODES),
    ("date 和 datetime 都对应时刻类别。", CODES),
    ("楼层用 unsigned tinyint 存储，占 1 个字节；订单号用 unsigned bigint，占 8 个字节。", SIZES),
])
def test_a_table_row_read_with_its_own_cells_passes(answer, chunk):
    assert crossed_cells(answer, chunk) == []


def test_a_table_row_restated_passes_and_its_columns_crossed_stop():
    row = "| Acme | a2.small | 2 | 6 | 40.5 |"
    assert check_answer("The a2.small has 2 cores and 6 GB of RAM.", [row], INSTANCES).status == "pass"
    v = check_answer("The a2.small has 6 cores and 2 GB of RAM.", [row], INSTANCES)
    # the RAM (GB) header makes the row's 6 a size: "6 cores" is a figure the chunk does not have
    assert (v.status, v.reason) == ("fail", "ungrounded_number")
    v = check_answer("The a2.small has 40.5 cores and 6 GB of RAM, with 2 MB/s of throughput.", [row], INSTANCES)
    assert (v.status, v.reason) == ("uncertain", "ungrounded_pairing")


MODES = ("写入有两种模式。STRICT_WRITE 模式下，节点在落盘之后才向客户端确认。"
         "LAZY_WRITE 模式下，节点把多条记录攒成一批再落盘，吞吐量更高。")
# parallel items that differ in one word, option names written with hyphens, an abbreviation (TTL) shared
RETENTION = ("Retention modes:\n* **keep-new**: Deletes the oldest snapshots once the disk is full.\n"
             "* **keep-old**: Deletes the newest snapshots once the disk is full.\n"
             "* **drop-ttl**: Deletes the snapshots with the shortest remaining TTL once the disk is full.")
LEVELS = ("The cache has two levels. The L1_CACHE keeps recent keys in process memory. "
          "The L2_CACHE keeps evicted keys on local disk for later reads.")


@pytest.mark.parametrize("answer, chunk", [
    ("STRICT_WRITE 模式把多条记录攒成一批再落盘，吞吐量更高。", MODES),
    ("The L1_CACHE keeps evicted keys on local disk for later reads.", LEVELS),
    ("keep-new deletes the newest snapshots when the disk fills up.", RETENTION),       # the sibling item's word
    ("keep-old deletes the snapshots with the shortest remaining TTL first.", RETENTION),  # TTL is no subject
])
def test_what_one_identifier_does_given_to_another_goes_to_the_judge(answer, chunk):
    from synth.grounding.pairings import moved_subjects
    assert moved_subjects(answer, chunk)


@pytest.mark.parametrize("answer, chunk", [
    ("LAZY_WRITE 模式会把多条记录攒成一批再落盘，所以吞吐量更高。", MODES),
    ("STRICT_WRITE 模式下，节点落盘后才向客户端确认。", MODES),
    ("Evicted keys go to local disk in the L2_CACHE for later reads.", LEVELS),
    ("keep-new deletes the oldest snapshots when the disk fills up.", RETENTION),
    ("drop-ttl deletes the snapshots with the shortest remaining TTL first.", RETENTION),
])
def test_what_an_identifier_does_kept_with_it_passes(answer, chunk):
    from synth.grounding.pairings import moved_subjects
    assert moved_subjects(answer, chunk) == []
