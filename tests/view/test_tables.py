"""Paging, search and filters over a run's files (no browser): positions, Chinese search in parquet
and JSONL, facets, heat maps, a JSONL cut by a kill, bad input."""

from __future__ import annotations

import json

import pytest

from synth.view import RunView
from synth.view.jsonl import JsonlTable
from synth.view.parquet import ParquetTable
from synth.view.tables import Query
from tests.view.conftest import CHINESE_QUESTION, TAXONOMY_COVERAGE
from tests.view.make_run import write_run


def _records(n):
    return [{"id": f"r{i}", "seed_key": f"s{i}", "instruction": f"问题 {i}" if i % 2 else f"question {i}",
             "response": "答案" if i % 2 else "answer", "judge": {"verdict": "pass" if i % 3 else "fail"},
             "messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant",
                                                                  "content": "needle 针" if i in (7, 4242) else "x"}]}
            for i in range(n)]


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """5,000 kept rows in two shards of several row groups each, 300 rejected rows."""
    root = tmp_path_factory.mktemp("many") / "run"
    write_run(root, _records(5000),
              ({"stage": "filter:length", "reason": "too_short" if i % 3 else "too_long", "record": r}
               for i, r in enumerate(_records(300))), stage_order=["recipe:instruct", "filter:length"], shard_rows=3000)
    return RunView(root)


def test_unfiltered_pages_are_positions_across_shards(many):
    kept = many.table("kept")
    assert isinstance(kept, ParquetTable) and len(kept.files) == 2 and len(kept) == 5000
    page = kept.page(Query(), start=2990, limit=20)
    assert [item["id"] for item in page.items] == [f"r{i}" for i in range(2990, 3010)]
    assert (page.next, page.total, page.filtered) == (3010, 5000, False)
    last = kept.page(Query(), start=4990, limit=50)
    assert len(last.items) == 10 and last.next is None
    assert kept.get(4321)["id"] == "r4321"


def test_search_reaches_nested_text_and_continues_from_where_it_stopped(many):
    kept = many.table("kept")
    first = kept.page(Query(text="针"), limit=1)
    assert [i["id"] for i in first.items] == ["r7"] and first.next == 8
    second = kept.page(Query(text="NEEDLE"), start=first.next, limit=5)  # case ignored
    assert [i["id"] for i in second.items] == ["r4242"] and second.next is None
    assert kept.page(Query(text="messages"), limit=5).items == []  # field names are not text


def test_search_stops_at_its_time_budget_and_says_where(many):
    page = many.table("kept").page(Query(text="does-not-occur"), limit=5, budget_s=0)
    assert page.items == [] and page.next is not None and 0 < page.scanned < 5000


def test_facet_filters_and_counts(many):
    kept = many.table("kept")
    counts = dict(kept.facet_counts()["verdict"])
    assert counts == {"pass": sum(1 for i in range(5000) if i % 3), "fail": sum(1 for i in range(5000) if not i % 3)}
    page = kept.page(Query(filters={"verdict": "fail"}), start=10, limit=3)
    assert [i["id"] for i in page.items] == ["r12", "r15", "r18"] and page.next == 19
    both = kept.page(Query(text="问题", filters={"verdict": "fail"}), limit=3)
    assert [i["id"] for i in both.items] == ["r3", "r9", "r15"]
    with pytest.raises(ValueError, match="does not apply"):
        kept.page(Query(filters={"reason": "x"}))


def test_rejected_rows_by_stage_reason_and_text(many):
    rejected = many.table("rejected")
    assert isinstance(rejected, JsonlTable) and len(rejected) == 300
    page = rejected.page(Query(text="问题", filters={"reason": "too_short"}), limit=4)
    assert [i["i"] for i in page.items] == [1, 5, 7, 11]
    assert {i["stage"] for i in page.items} == {"filter:length"}
    assert many.groups() == [{"stage": "filter:length", "reasons": [("too_short", 200), ("too_long", 100)]}]


def test_splits_come_from_shard_names_train_first(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "data").mkdir()
    for split, n in (("test", 2), ("train", 3)):
        rows = [{"id": f"{split}{i}", "instruction": f"{split} 问题 {i}"} for i in range(n)]
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / "data" / f"{split}-00000-of-00001-0123456789ab.parquet")
    kept = RunView(tmp_path).table("kept")
    assert [i["id"] for i in kept.page(Query()).items] == ["train0", "train1", "train2", "test0", "test1"]
    assert kept.facet_counts()["split"] == [("train", 3), ("test", 2)]
    page = kept.page(Query(filters={"split": "test"}), limit=10)
    assert [(i["id"], i["split"]) for i in page.items] == [("test0", "test"), ("test1", "test")] and page.next is None
    train = kept.page(Query(text="问题", filters={"split": "train"}), limit=10)
    assert [i["id"] for i in train.items] == ["train0", "train1", "train2"] and train.next is None


def test_jsonl_index_skips_blank_lines_and_a_line_cut_by_a_kill(tmp_path):
    path = tmp_path / "rejected.jsonl"
    rows = [{"stage": "s", "reason": f"r{i}", "record": {"instruction": f"第{i}行"}} for i in range(3)]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path.write_text(text[:40] + text[40:].replace("\n", "\n\n", 1) + '{"stage": "s", "rea', encoding="utf-8")
    table = JsonlTable([path], "rejected")
    assert len(table) == 3
    assert [table.get(i)["reason"] for i in range(3)] == ["r0", "r1", "r2"]
    assert [i["title"] for i in table.page(Query(text="第2行")).items] == ["第2行"]


def test_process_run_facets_and_detail(process_run):
    view = RunView(process_run[0])
    kept = view.table("kept")
    assert dict(kept.facet_counts()["verdict"]) == {"incorrect": 1, "correct": 2}
    hit = kept.page(Query(text="一共有几个"))
    assert [i["title"] for i in hit.items] == [CHINESE_QUESTION]
    detail = view.detail("kept", 0)
    assert detail["entry"]["first_error_step"] == 2 and detail["seed"] is None  # the run has no cache.sqlite
    failed = view.table("failed").get(0)
    assert failed["error"].startswith("RequestFailed")


def test_seed_row_comes_from_cache_sqlite(tmp_path):
    from synth.store import RunStore

    root = tmp_path / "run"
    write_run(root, [{"id": "a", "seed_key": "k1", "instruction": "hi", "response": "yo"}])
    store = RunStore(root, "0123456789ab")
    store.mark_row("k1", "done", n_records=1, row={"instruction": "hi"})
    store.close()
    seed = RunView(root).detail("kept", 0)["seed"]
    assert seed == {"seed_key": "k1", "fingerprint": "0123456789ab", "status": "done", "records": 1,
                    "error": None, "row": {"instruction": "hi"}}


def test_taxonomy_heat_map_counts_rows_and_keeps_empty_leaves(taxonomy_run):
    coverage = RunView(taxonomy_run[0]).coverage()
    assert coverage["report"] == TAXONOMY_COVERAGE
    task_map = next(m for m in coverage["heatmaps"] if m["title"] == "Taxonomy leaf × task")
    grid = {(r, c): task_map["counts"][i][j] for i, r in enumerate(task_map["rows"])
            for j, c in enumerate(task_map["cols"])}
    assert grid == {("金融 / 保险", "compare"): 0, ("金融 / 保险", "explain"): 0, ("金融 / 债券", "compare"): 0,
                    ("金融 / 债券", "explain"): 1, ("金融 / 指数基金", "compare"): 1, ("金融 / 指数基金", "explain"): 2}


def test_running_run_shows_generated_records(tmp_path):
    root = tmp_path / "run"
    shard = root / "records" / "fp1" / "part-00000.jsonl"
    shard.parent.mkdir(parents=True)
    shard.write_text(json.dumps({"id": "x", "instruction": "还在生成"}, ensure_ascii=False) + "\n", encoding="utf-8")
    (root / "manifest.json").write_text(json.dumps({"name": "live", "fingerprint": "fp1", "status": "running"}))
    view = RunView(root)
    assert view.overview()["sets"]["kept"] == {"rows": 1, "source": "records"}
    assert view.table("kept").page(Query(text="生成")).items[0]["title"] == "还在生成"
