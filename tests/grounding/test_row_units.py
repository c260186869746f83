"""A bare figure of a table or property list takes the unit its row's key or its column's header names
(timeout.ms | 30000; 时限（天）): an answer giving it another unit states a figure the chunk does not have.
Chunks written for these tests."""

from __future__ import annotations

import pytest

from synth.grounding import check_answer, missing_numbers
from synth.grounding.row_units import UnitIndex

PROPS = ("| 属性 | 类型 | 默认值 |\n|---|---|---|\n| request.timeout.ms | int | 30000 |\n"
         "| retryBackoffMillis | long | 100 |\n| batch.size | int | 16384 |")
SERVICE = "| 事项 | 时限（天） | 收费（元） |\n|---|---|---|\n| 申请受理 | 5 | 0 |\n| 证照补办 | 20 | 50 |"
MIXED = "| cache.size.bytes | 512 | flush.interval.ms | 60 |"


@pytest.mark.parametrize("chunk,figure,unit", [
    (PROPS, "30000", "ms"), (PROPS, "100", "ms"), (PROPS, "16384", None),   # key suffixes, camelCase too
    (SERVICE, "5", "d"), (SERVICE, "20", "d"), (SERVICE, "50", "yuan"),   # the header cell of the column
])
def test_a_bare_figure_takes_the_unit_its_row_or_column_names(chunk, figure, unit):
    at = chunk.index(f"| {figure} |") + 2
    assert UnitIndex(chunk).implied(at) == unit


@pytest.mark.parametrize("answer,missing", [
    ("请求超时默认 30000 秒。", ["30000"]),
    ("请求超时默认 30000 毫秒。", []),
    ("request.timeout.ms defaults to 30000 ms, and retries back off 100 ms.", []),
    ("Retries back off for 100 seconds.", ["100"]),
    ("申请受理的时限是 5 天，不收费。", []),
    ("证照补办需要 20 小时。", ["20"]),
])
def test_another_unit_for_a_table_figure_is_a_missing_number(answer, missing):
    chunk = PROPS if any(c.isascii() and c.isalpha() for c in answer) or "请求" in answer else SERVICE
    assert missing_numbers(answer, chunk) == missing


def test_a_row_naming_two_units_gives_none_and_the_figure_stays_bare():
    assert UnitIndex(MIXED).implied(MIXED.index("60")) is None   # the row names bytes and ms
    assert UnitIndex(MIXED).implied(MIXED.index("512")) is None
    assert check_answer("请求超时默认 30000 秒。", ["request.timeout.ms | int | 30000"], PROPS).reason == "ungrounded_number"


@pytest.mark.parametrize("answer,quote,chunk", [
    # a plural "(s)" or "(min)" for minimum in a header names no unit
    ("The default buffer.size is 4096 KB.", "| buffer.size | 4096 |",
     "| Parameter | Default value(s) | Description |\n|---|---|---|\n| buffer.size | 4096 | Size of the buffer, in KB |"),
    ("The default pool has at least 512 MB.", "| default | 512 | 2048 |",
     "| Pool | Memory (min) | Memory (max) |\n|---|---|---|\n| default | 512 | 2048 |"),
    # prose names units for its other figures
    ("batch.size defaults to 16384 bytes.", "batch.size defaults to 16384",
     "Producers batch records: linger.ms defaults to 5, and batch.size defaults to 16384 (16 KB)."),
    # rows without the outer pipes under a header with them: the columns still line up
    ("查询接口最多重试 3 次。", "查询接口 | 30 | 3", "| 接口 | 超时（秒） | 重试次数 |\n---|---|---\n查询接口 | 30 | 3\n"),
])
def test_no_unit_is_read_into_a_header_plural_a_minimum_prose_or_a_shifted_column(answer, quote, chunk):
    assert missing_numbers(answer, chunk) == []

