"""The out-of-core decision (synth.dedup.spilled) and sharded input: the same kept and dropped rows as
`dedup_rows` in memory, with chunk sizes small enough to spill at every step, after a kill inside
the decision, and when INPUT is a directory or glob of shards."""

import json
import random

import numpy as np
import pytest
from typer.testing import CliRunner

from synth.cli._app import app
from synth.dedup import DedupConfig, dedup_rows, lsh, spilled
from synth.dedup.stream import dedup_file

from .conftest import WORDS, chinese, english, light_edit


def _drift(text: str, rng: random.Random, k: int) -> str:
    """`text` with k words replaced, spread out (each change removes three word 3-grams)."""
    words = text.split()
    for i in rng.sample(range(0, len(words), 4), k):
        words[i] = rng.choice(WORDS) + "x"
    return " ".join(words)


def _corpus(seed=5):
    """Originals, light copies, exact copies far apart (other batches), and chains a ~ b ~ c where a
    and c are further apart than the threshold."""
    rng = random.Random(seed)
    rows, chains = [], []
    for i in range(150):
        t = english(rng) if i % 3 else chinese(rng)
        rows.append({"id": f"r{i}", "text": t})
        if i % 5 == 0:
            rows.append({"id": f"n{i}", "text": light_edit(t, rng)})
    for i in range(12):
        a = english(rng, 100)
        b = _drift(a, rng, 5)
        c = _drift(b, rng, 5)
        rows += [{"id": f"a{i}", "text": a}, {"id": f"b{i}", "text": b}, {"id": f"c{i}", "text": c}]
        chains.append((f"a{i}", f"c{i}"))
    rng.shuffle(rows)
    exact = [{"id": f"x{i}", "text": r["text"].upper()} for i, r in enumerate(rows[:40:4])]
    rows += exact + [{"id": f"y{i}", "text": r["text"]} for i, r in enumerate(exact[:3])]
    return rows, chains


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _read(path):
    return [json.loads(x) for x in open(path, encoding="utf-8")]


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Every step in many pieces: hash partitions, band spill reads, verification gathers."""
    monkeypatch.setattr(spilled, "PARTITION_ROWS", 37)
    monkeypatch.setattr(spilled, "SPILL_ROWS", 16)
    monkeypatch.setattr(spilled, "GATHER_ROWS", 10)


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_spilled_decision_equals_in_memory(tmp_path, tiny_chunks, keep):
    rows, chains = _corpus()
    _write(tmp_path / "in.jsonl", rows)
    cfg = DedupConfig(near=True, keep=keep, workers=1)
    want = dedup_rows(rows, cfg)
    rep = dedup_file(tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "d.jsonl", cfg,
                     state_dir=tmp_path / "state", batch_rows=29)
    assert rep["streamed"]["decision"] == "spilled"
    assert _read(tmp_path / "out.jsonl") == want.kept
    assert _read(tmp_path / "d.jsonl") == want.dropped
    for k in ("dropped_exact", "dropped_near", "clusters", "largest_cluster", "candidate_pairs", "verified_pairs"):
        assert rep[k] == want.report[k], k
    dropped = {d["id"]: d for d in want.dropped}
    assert rep["dropped_exact"] >= 10 and rep["dropped_near"] >= 30
    # a chain: c joined a's cluster through b although c and a are below the threshold themselves
    if keep == "first":
        assert any(c in dropped and dropped[c]["duplicate_of"] == a and dropped[c]["similarity"] < cfg.threshold
                   for a, c in chains)


def test_resumes_after_kill_in_decision(tmp_path, tiny_chunks):
    rows, _ = _corpus(6)
    _write(tmp_path / "in.jsonl", rows)
    cfg = DedupConfig(near=True, workers=1)
    want = dedup_rows(rows, cfg)

    class Killed(Exception):
        pass

    def die(stage, done, total):
        if stage == "decide" and done >= 5:
            raise Killed
    with pytest.raises(Killed):
        dedup_file(tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "d.jsonl", cfg,
                   state_dir=tmp_path / "state", batch_rows=50, progress=die)
    meta = json.loads((tmp_path / "state" / "meta.json").read_text())
    assert meta["decision"]["bands_done"] == 5 and meta["decision"]["cand_n"] > 0
    with open(tmp_path / "state" / "cand.u64", "ab") as fh:  # a band's pairs written past the checkpoint
        fh.write(np.arange(7, dtype=np.uint64).tobytes())
    seen = []
    rep = dedup_file(tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "d.jsonl", cfg,
                     state_dir=tmp_path / "state", batch_rows=50, progress=lambda s, d, t: seen.append((s, d)))
    assert rep["streamed"]["resumed"]
    assert not any(s == "sketch" for s, _ in seen) and [d for s, d in seen if s == "decide"][0] == 5
    assert _read(tmp_path / "out.jsonl") == want.kept
    assert _read(tmp_path / "d.jsonl") == want.dropped
    assert rep["candidate_pairs"] == want.report["candidate_pairs"]


def _shards(tmp_path, rows, cuts=(0, 70, 71, 200)):
    folder = tmp_path / "shards"
    folder.mkdir()
    bounds = [*cuts, len(rows)]
    for k, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
        _write(folder / f"part-{k:02d}.jsonl", rows[lo:hi])
    (folder / "part-01.jsonl").write_text((folder / "part-01.jsonl").read_text().rstrip("\n"))  # no final newline
    (folder / "notes.txt").write_text("not a shard")
    return folder


def test_shard_directory_equals_concatenated_file(tmp_path):
    rows, _ = _corpus(7)
    folder = _shards(tmp_path, rows)
    _write(tmp_path / "all.jsonl", rows)
    cfg = DedupConfig(near=True, workers=1)
    dedup_file(tmp_path / "all.jsonl", tmp_path / "a.jsonl", tmp_path / "ad.jsonl", cfg, state_dir=tmp_path / "s1",
               batch_rows=40)
    for inp, name in ((folder, "b"), (tmp_path / "shards" / "part-*.jsonl", "c")):
        dedup_file(inp, tmp_path / f"{name}.jsonl", tmp_path / f"{name}d.jsonl", cfg, state_dir=tmp_path / "s2",
                   batch_rows=40)
        assert (tmp_path / f"{name}.jsonl").read_bytes() == (tmp_path / "a.jsonl").read_bytes()
        assert (tmp_path / f"{name}d.jsonl").read_bytes() == (tmp_path / "ad.jsonl").read_bytes()


def test_changed_shard_starts_again(tmp_path):
    rows, _ = _corpus(8)
    folder = _shards(tmp_path, rows)
    cfg = DedupConfig(near=True, workers=1)

    class Killed(Exception):
        pass

    def die(stage, done, total):
        if done >= 100:
            raise Killed
    with pytest.raises(Killed):
        dedup_file(folder, tmp_path / "o.jsonl", tmp_path / "d.jsonl", cfg, state_dir=tmp_path / "s",
                   batch_rows=50, progress=die)
    rows[-1]["text"] += " changed"
    _write(folder / "part-03.jsonl", rows[200:])
    seen = []
    rep = dedup_file(folder, tmp_path / "o.jsonl", tmp_path / "d.jsonl", cfg, state_dir=tmp_path / "s",
                     batch_rows=50, progress=lambda s, d, t: seen.append(d))
    assert not rep["streamed"]["resumed"] and seen[0] == 50
    assert _read(tmp_path / "o.jsonl") == dedup_rows(rows, cfg).kept


def test_cli_reads_shards_and_names_bad_input(tmp_path, capsys):
    from synth.cli import main

    rows, _ = _corpus(9)
    folder = _shards(tmp_path, rows)
    res = CliRunner().invoke(app, ["dedup", str(folder), "-o", str(tmp_path / "out.jsonl"), "--near", "-q"])
    assert res.exit_code == 0, res.output
    assert _read(tmp_path / "out.jsonl") == dedup_rows(rows, DedupConfig(near=True)).kept
    (tmp_path / "empty").mkdir()
    for inp, out, msg in ((tmp_path / "empty", tmp_path / "e.jsonl", "has no *.jsonl or *.parquet shards"),
                          (tmp_path / "nope-*.jsonl", tmp_path / "e.jsonl", "no files match"),
                          (folder, folder / "e.jsonl", "would be read as one of the input's shards")):
        with pytest.raises(SystemExit) as exc:
            main(["dedup", str(inp), "-o", str(out), "-q"])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and err.count("error:") == 1 and msg in err, err
        assert not out.exists() and not out.with_suffix(".state").exists()


def test_matching_bytes_reads_sparse_and_dense_stretches(tmp_path, monkeypatch):
    monkeypatch.setattr(spilled, "GATHER_ROWS", 256)
    monkeypatch.setattr(spilled, "SPILL_ROWS", 512)
    rng = np.random.default_rng(0)
    sig = rng.integers(0, 4, (20_000, 16), dtype=np.uint8)
    sig.tofile(tmp_path / "sig.u8")
    a = np.concatenate([np.arange(300), rng.integers(0, 20_000, 300)])  # a dense run, then scattered rows
    b = rng.integers(0, 20_000, len(a))
    got = spilled.matching_bytes(tmp_path / "sig.u8", 20_000, 16, a, b)
    assert np.array_equal(got, (sig[a] == sig[b]).sum(axis=1))


def _band_keys_widened(sig8, band, rows):
    """band_keys as it was: every row's band bytes widened to uint64 at once (the reference)."""
    cols = sig8[:, band * rows:(band + 1) * rows].astype(np.uint64)
    key = np.zeros(len(sig8), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(rows):
            key = (key << np.uint64(8)) | cols[:, j] if rows <= 8 else key * lsh._M + cols[:, j]
    return key


@pytest.mark.parametrize("r", [5, 8, 10, 16])
def test_band_keys_in_slices_equal_widened(monkeypatch, r):
    monkeypatch.setattr(lsh, "KEY_SLICE", 7)
    sig8 = np.random.default_rng(r).integers(0, 256, (1000, 3 * r), dtype=np.uint8)
    sig8[500:] = sig8[:500]  # equal keys: ties must stay in row order
    for band in range(3):
        assert np.array_equal(lsh.band_keys(sig8, band, r), _band_keys_widened(sig8, band, r))
        k, order = lsh.sorted_band(sig8, band, r)
        ref = _band_keys_widened(sig8, band, r)
        want = np.argsort(ref, kind="stable")
        assert np.array_equal(order, want) and np.array_equal(k, ref[want])


@pytest.mark.parametrize("threshold", [0.8, 0.9])
def test_high_threshold_decisions_unchanged(tmp_path, monkeypatch, threshold):
    """r > 4 (threshold >= 0.8): the same kept and dropped rows as with keys widened all at once."""
    rows, _ = _corpus()
    _write(tmp_path / "in.jsonl", rows)
    cfg = DedupConfig(near=True, threshold=threshold, workers=1)
    assert cfg.params[1] > 4

    def run(name):
        return dedup_file(tmp_path / "in.jsonl", tmp_path / f"{name}.jsonl", tmp_path / f"{name}.d.jsonl", cfg,
                          state_dir=tmp_path / f"{name}.state", batch_rows=29)

    monkeypatch.setattr(lsh, "KEY_SLICE", 13)
    rep = run("sliced")
    with monkeypatch.context() as m:
        m.setattr(lsh, "band_keys", _band_keys_widened)
        ref = run("widened")
    assert _read(tmp_path / "sliced.jsonl") == _read(tmp_path / "widened.jsonl")
    assert _read(tmp_path / "sliced.d.jsonl") == _read(tmp_path / "widened.d.jsonl")
    assert rep["dropped_near"] == ref["dropped_near"] > 0 and rep["candidate_pairs"] == ref["candidate_pairs"]
    want = dedup_rows(rows, cfg)
    assert _read(tmp_path / "sliced.jsonl") == want.kept


def test_band_pairs_memory_per_row_bounded_for_wide_bands():
    """One band's sort holds ~16 B a row whatever r (a key and a position), not 8 x r B of widened bytes."""
    import tracemalloc

    n, r = 1 << 20, 10  # threshold 0.9: 12 bands x 10 rows
    cols = np.random.default_rng(0).integers(0, 256, (n, r), dtype=np.uint8)
    cols[n // 2:n // 2 + 1000] = cols[:1000]  # some pairs
    active = np.arange(n, dtype=np.int32)
    tracemalloc.start()
    try:
        pairs = spilled._band_pairs(cols, r, active)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(pairs) >= 1000
    assert peak / n < 32, f"{peak / n:.1f} B a row"


@pytest.mark.parametrize("partition_rows", [7, 64, 1 << 20])
def test_exact_partitions_by_one_sort_equal_a_scan_per_partition(monkeypatch, partition_rows):
    """The exact step groups rows by partition with one counting sort: the same survivors as over all rows."""
    from synth.dedup.exact import first_occurrence

    monkeypatch.setattr(spilled, "PARTITION_ROWS", partition_rows)
    rng = np.random.default_rng(partition_rows)
    ex = rng.integers(0, 300, 2000).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for rank in (None, spilled.rank_from_lengths(rng.integers(0, 50, 2000).astype(np.uint32))):
        reason, dup_of = np.zeros(2000, np.int8), np.full(2000, -1, np.int32)
        spilled._exact(ex, rank, reason, dup_of)
        first = first_occurrence(ex, rank)
        want = first != np.arange(2000)
        assert np.array_equal(reason == 1, want) and np.array_equal(dup_of[want], first[want])
        assert np.all(dup_of[~want] == -1)
    order, starts = spilled._partition_order(ex, 9)
    part = ex % np.uint64(9)
    assert starts[-1] == 2000 and order.dtype == np.int32
    for p in range(9):
        assert np.array_equal(order[starts[p]:starts[p + 1]], np.flatnonzero(part == p))
