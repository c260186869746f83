"""The Redis index and the Ray job give the same decisions as the local path."""

import numpy as np
import pytest

from synth.dedup import DedupConfig, dedup_rows


@pytest.mark.redis
def test_redis_index_matches_disk_index(planted, redis_port, tmp_path, request):
    rows, _ = planted
    url = f"redis://127.0.0.1:{redis_port}/{request.node.name}"
    results = {}
    for ix in (str(tmp_path / "ix"), url):
        a = dedup_rows(rows[:60], DedupConfig(near=True, index=ix, workers=1))
        b = dedup_rows(rows[60:], DedupConfig(near=True, index=ix, workers=1))
        results[ix] = [r["id"] for r in a.kept + b.kept], [(d["id"], d["duplicate_of"]) for d in b.dropped]
    assert results[url] == results[str(tmp_path / "ix")]
    assert any(d == ("c25", "o25") for d in results[url][1])


@pytest.mark.ray
def test_ray_job_matches_local(planted, ray_local):
    from synth.dedup.ray_job import RayBackend

    rows, _ = planted
    rows = rows * 3  # exact duplicates too
    local = dedup_rows(rows, DedupConfig(near=True, workers=1))
    remote = dedup_rows(rows, DedupConfig(near=True), backend=RayBackend(num_blocks=3))
    assert [r["id"] for r in remote.kept] == [r["id"] for r in local.kept]
    assert remote.dropped == local.dropped
    assert remote.report["candidate_pairs"] == local.report["candidate_pairs"]


@pytest.mark.ray
@pytest.mark.parametrize("num_blocks", [1, 2, 7, 500])  # 500: more blocks than rows
def test_ray_job_any_number_of_blocks_matches_local(planted, ray_local, num_blocks):
    from synth.dedup.ray_job import RayBackend

    rows, _ = planted
    rows = rows[:70] * 2  # 140 rows: near and exact duplicates
    local = dedup_rows(rows, DedupConfig(near=True, workers=1))
    remote = dedup_rows(rows, DedupConfig(near=True), backend=RayBackend(num_blocks=num_blocks))
    assert [r["id"] for r in remote.kept] == [r["id"] for r in local.kept]
    assert remote.dropped == local.dropped and local.report["dropped_near"] > 0
    assert remote.report["candidate_pairs"] == local.report["candidate_pairs"]


@pytest.mark.parametrize("num_blocks", [0, -1, 1.5, "2", True, False, np.int64(0), np.float64(4.0), np.bool_(True)])
def test_ray_backend_refuses_a_block_count_below_one(num_blocks):
    pytest.importorskip("ray")
    from synth.dedup.ray_job import RayBackend
    from synth.errors import ConfigError

    with pytest.raises(ConfigError, match=r"num_blocks must be a whole number >= 1 .*leave it None"):
        RayBackend(num_blocks=num_blocks)


@pytest.mark.parametrize("num_blocks", [4, np.int64(4), np.int32(4), np.uint8(4)])
def test_ray_backend_takes_any_whole_number_as_the_block_count(num_blocks):
    pytest.importorskip("ray")
    from synth.dedup.ray_job import RayBackend

    backend = RayBackend(num_blocks=num_blocks)  # an integral from numpy too (a config or a computed count)
    assert backend.num_blocks == 4 and type(backend.num_blocks) is int


@pytest.mark.ray
def test_streamed_dedup_on_ray_keeps_the_same_rows(planted, ray_local, tmp_path):
    import json

    from synth.dedup.ray_job import RayBackend
    from synth.dedup.stream import dedup_file

    rows, _ = planted
    rows = rows * 2
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                       encoding="utf-8")
    cfg = DedupConfig(near=True, workers=1)
    outs = {}
    for name, backend in (("local", None), ("ray", RayBackend(num_blocks=2))):
        rep = dedup_file(tmp_path / "in.jsonl", tmp_path / f"{name}.jsonl", tmp_path / f"{name}.d.jsonl", cfg,
                         state_dir=tmp_path / f"{name}.state", batch_rows=50, backend=backend)
        outs[name] = ((tmp_path / f"{name}.jsonl").read_text(), (tmp_path / f"{name}.d.jsonl").read_text(),
                      rep["candidate_pairs"], rep["dropped_near"])
    assert outs["ray"] == outs["local"] and outs["local"][3] > 0
