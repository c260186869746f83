"""A run directory has one writer, never serves stale records, and holds one record schema."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys

from pathlib import Path

import pytest

from tests.conftest import synth_cli, write_config, write_jsonl
from tests.servers import ScriptedServer

HOLD_LOCK = """
import sys, time
from synth.store import RunLock
lock = RunLock(sys.argv[1]); lock.acquire(); print("held", flush=True); time.sleep(120)
"""


def config(tmp_path: Path, rows: list[dict], **extra) -> Path:
    write_jsonl(tmp_path / "seeds.jsonl", rows)
    fields = dict(name="t", recipe="instruct", seeds="seeds.jsonl", sampling={"max_tokens": 8}, dedup=None)
    fields.update(extra)
    return write_config(tmp_path / "run.yaml", **fields)


def data_rows(run_dir: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return [r for f in sorted((run_dir / "data").glob("train-*.parquet")) for r in pq.read_table(f).to_pylist()]


def sent(server: ScriptedServer) -> list[dict]:
    """The run's requests (the engine's capability probes ask for one token)."""
    return [r for r in server.requests() if r.get("max_tokens") != 1]


def echo(kind, body):
    return f"answer to: {body['messages'][-1]['content']}"


def test_a_second_run_on_a_busy_directory_refuses_naming_the_holder(tmp_path):
    cfg = config(tmp_path, [{"instruction": "Say hi."}, {"instruction": "说你好。"}])
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path / "runs" / "t")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with ScriptedServer(echo) as server:
            busy = synth_cli("run", str(cfg), "--base-url", server.base_url, "-q")
            assert busy.returncode == 2, busy.stderr
            lines = busy.stderr.strip().splitlines()
            assert len(lines) == 1 and f"synth process {holder.pid}" in lines[0] and "--out" in lines[0]
            assert sent(server) == [], "the refused run must send nothing"
            holder.send_signal(signal.SIGKILL)  # its lock dies with it: the next run takes it over
            holder.wait()
            ok = synth_cli("run", str(cfg), "--base-url", server.base_url, "-q")
            assert ok.returncode == 0, ok.stderr
            assert len(sent(server)) == 2
    finally:
        holder.kill()
        holder.wait()
    assert sorted(r["response"] for r in data_rows(tmp_path / "runs" / "t")) == [
        "answer to: Say hi.", "answer to: 说你好。"]


def test_two_runs_started_together_pay_for_each_request_once(tmp_path):
    cfg = config(tmp_path, [{"instruction": f"Item {i}."} for i in range(30)])
    with ScriptedServer(echo) as server:
        procs = [subprocess.Popen([sys.executable, "-m", "synth", "run", str(cfg), "--base-url", server.base_url, "-q"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(p.wait(120), p.stderr.read()) for p in procs]
        codes = sorted(code for code, _ in results)
        refused = [err for code, err in results if code == 2]
        if codes == [0, 2]:  # the usual case: the second one found the directory held
            assert "is in use by synth process" in refused[0]
            assert len(sent(server)) == 30
        else:  # the first finished before the second started: the second found every row done
            assert codes == [0, 0] and len(sent(server)) == 30


def recipe_package(root: Path, template: str, version: str = "1") -> None:
    pkg = root / "myrecipe"
    (pkg / "templates").mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "recipe.py").write_text(
        "from synth.recipes.instruct.recipe import InstructRecipe\n"
        "class Mine(InstructRecipe):\n"
        "    name = 'mine'\n"
        f"    version = {version!r}\n")
    (pkg / "templates" / "user.j2").write_text(template)


def test_a_prompt_edit_regenerates_records_and_the_cache_answers_unchanged_requests(tmp_path):
    rows = [{"instruction": "Greet"}, {"instruction": "告别"}]
    cfg = config(tmp_path, rows, recipe="myrecipe.recipe:Mine")
    env = {"PYTHONPATH": str(tmp_path)}
    recipe_package(tmp_path, "{% if instruction == 'Greet' %}Please greet me.{% else %}{{ instruction }}{% endif %}")
    with ScriptedServer(echo) as server:
        assert synth_cli("run", str(cfg), "--base-url", server.base_url, "-q", env=env).returncode == 0
        assert len(sent(server)) == 2
        recipe_package(tmp_path, "{% if instruction == 'Greet' %}Please say hello.{% else %}{{ instruction }}{% endif %}")
        edited = synth_cli("run", str(cfg), "--base-url", server.base_url, "-q", env=env)
        assert edited.returncode == 0, edited.stderr
        # only the request whose prompt changed is sent; the other row's record is rebuilt from the cache
        assert [r["messages"][-1]["content"] for r in sent(server)[2:]] == ["Please say hello."]
        run_dir = tmp_path / "runs" / "t"
        assert sorted(r["response"] for r in data_rows(run_dir)) == ["answer to: Please say hello.", "answer to: 告别"]
        assert len(list((run_dir / "records").iterdir())) == 2  # one record folder per fingerprint

        again = synth_cli("run", str(cfg), "--base-url", server.base_url, "-q", env=env)
        assert again.returncode == 0 and len(sent(server)) == 3  # nothing changed: nothing regenerated
        fresh = synth_cli("run", str(cfg), "--base-url", server.base_url, "--fresh", "-q", env=env)
        assert fresh.returncode == 0, fresh.stderr
        assert len(sent(server)) == 3, "--fresh makes new records but the cache still answers"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["requests"]["cache_hits"] == 2 and manifest["rows"]["done"] == 2
    assert sorted(r["response"] for r in data_rows(run_dir)) == ["answer to: Please say hello.", "answer to: 告别"]


def test_a_version_bump_alone_makes_new_records(tmp_path):
    cfg = config(tmp_path, [{"instruction": "Hi"}], recipe="myrecipe.recipe:Mine")
    env = {"PYTHONPATH": str(tmp_path)}
    recipe_package(tmp_path, "{{ instruction }}")
    with ScriptedServer(echo) as server:
        assert synth_cli("run", str(cfg), "--base-url", server.base_url, "-q", env=env).returncode == 0
        recipe_package(tmp_path, "{{ instruction }}", version="2")
        assert synth_cli("run", str(cfg), "--base-url", server.base_url, "-q", env=env).returncode == 0
        assert len(sent(server)) == 1  # same request: answered from the cache
    assert len(list((tmp_path / "runs" / "t" / "records").iterdir())) == 2
    assert data_rows(tmp_path / "runs" / "t")[0]["recipe_version"] == "2"


def test_a_template_syntax_error_is_named_as_such_before_any_request(tmp_path):
    cfg = config(tmp_path, [{"instruction": "Hi"}], recipe="myrecipe.recipe:Mine")
    recipe_package(tmp_path, "{% if instruction %}{{ instruction }")
    proc = synth_cli("run", str(cfg), "--base-url", "http://127.0.0.1:9/v1", "-q", env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 2
    line = proc.stderr.strip()
    where = tmp_path / "myrecipe" / "templates" / "user.j2"
    assert line == f"error: recipe 'mine': template syntax error in {where}, line 1: unexpected '}}': fix the template"
    assert "no template" not in line and not (tmp_path / "runs").exists()


WRONG_TYPE = """
from synth.recipes.instruct.recipe import InstructRecipe
class Drifting(InstructRecipe):
    name = 'drifting'
    async def run(self, row, llm):
        records = await super().run(row, llm)
        for r in records:
            r["score"] = "high" if row["instruction"] == "third" else 3   # str on one row, int elsewhere
            if row["instruction"] == "fourth":
                r["late_field"] = 1
        return records
"""


def test_a_record_of_the_wrong_type_fails_at_its_row_naming_the_field(tmp_path):
    (tmp_path / "drifting.py").write_text(WRONG_TYPE)
    rows = [{"instruction": "first"}, {"instruction": "second"}, {"instruction": "third"}, {"instruction": "x"}]
    cfg = config(tmp_path, rows, recipe="drifting:Drifting", engine={"max_in_flight": 1})
    env = {"PYTHONPATH": str(tmp_path)}
    with ScriptedServer(echo) as server:
        proc = synth_cli("run", str(cfg), "--base-url", server.base_url, "--max-in-flight", "1", "-q", env=env)
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [
            f"error: seed row 3 (seed_key {_key({'instruction': 'third'})}): record field 'score' is str here but "
            "int in earlier records: give a field one type in every record (None when it has no value)"]
        run_dir = tmp_path / "runs" / "t"
        with sqlite3.connect(run_dir / "cache.sqlite") as db:
            done = db.execute("SELECT count(*) FROM rows WHERE status = 'done'").fetchone()[0]
        assert done >= 2 and not (run_dir / "data").exists()  # stopped at the row, before any dataset

        # the schema is kept with the run: a later session still checks against it
        write_jsonl(tmp_path / "seeds.jsonl", [*rows[:2], {"instruction": "fourth"}])
        late = synth_cli("run", str(cfg), "--base-url", server.base_url, "-q", env=env)
        assert late.returncode == 2 and "record field 'late_field' is not in the run's schema" in late.stderr


def _key(row: dict) -> str:
    from synth.seeds import row_key

    return row_key(row)


def test_group_commit_marks_a_row_done_only_after_its_records_are_on_disk(tmp_path):
    from synth.store import RunStore

    store = RunStore(tmp_path / "run", "fp")
    store.commit()
    store.append_records([{"id": "r1", "seed_key": "k1"}])
    store.mark_row("k1", "done", n_records=1)
    store.cache("q1", "{}", 1, {"text": "a"})
    other = sqlite3.connect(tmp_path / "run" / "cache.sqlite")
    count = lambda sql: other.execute(sql).fetchone()[0]  # noqa: E731
    assert count("SELECT count(*) FROM rows") == 0 and count("SELECT count(*) FROM responses") == 0
    assert store.cached("q1") == {"text": "a"}  # pending answers already answer repeats
    assert not list((tmp_path / "run" / "records" / "fp").glob("part-*.jsonl"))
    store.commit()
    assert count("SELECT count(*) FROM rows WHERE status = 'done'") == 1 and count("SELECT count(*) FROM responses") == 1
    shard = next((tmp_path / "run" / "records" / "fp").glob("part-*.jsonl"))
    assert json.loads(shard.read_text())["id"] == "r1"
    store.close()


DIE_BETWEEN_RECORDS_AND_MARKS = """
import os, sys
from synth.store import RunStore
store = RunStore(sys.argv[1], "fp")
store.append_records([{"id": "r1", "seed_key": "k1"}])
store.mark_row("k1", "done", n_records=1)
store.commit()                                   # r1 and its mark: committed
store.append_records([{"id": "r2", "seed_key": "k2"}])
store.mark_row("k2", "done", n_records=1)
store._make_durable(b"".join(store._records))    # r2 on disk, its mark never committed
os._exit(9)                                      # killed here, as kill -9 would
"""


def test_records_of_a_row_never_marked_done_are_cut_when_the_run_resumes(tmp_path):
    from synth.store import RunStore

    died = subprocess.run([sys.executable, "-c", DIE_BETWEEN_RECORDS_AND_MARKS, str(tmp_path / "run")])
    assert died.returncode == 9
    shard = next((tmp_path / "run" / "records" / "fp").glob("part-*.jsonl"))
    assert [json.loads(line)["id"] for line in shard.read_text().splitlines()] == ["r1", "r2"]
    store = RunStore(tmp_path / "run", "fp")        # the next session
    assert store.done_rows(["k1", "k2"]) == {"k1": 1}
    assert [json.loads(line)["id"] for line in shard.read_text().splitlines()] == ["r1"]
    store.append_records([{"id": "r2", "seed_key": "k2"}])  # k2 made again
    store.mark_row("k2", "done", n_records=1)
    store.close()
    lines = [json.loads(line)["id"] for p in sorted(shard.parent.glob("part-*.jsonl")) for line in p.read_text().splitlines()]
    assert sorted(lines) == ["r1", "r2"]             # each record once on disk, not only once when read


def test_a_commit_due_while_a_background_commit_writes_waits_and_no_length_shrinks(tmp_path, monkeypatch):
    import asyncio

    import synth.store.run as run_module
    from synth.store import RunStore

    async def session() -> RunStore:
        store = RunStore(tmp_path / "run", "fp")
        store.background = True
        for i in range(3):
            store.append_records([{"id": f"{i:016x}", "seed_key": f"{i:04x}"}])
            store.mark_row(f"{i:04x}", "done", n_records=1)
        flusher = asyncio.create_task(store.commit_async())   # rows 0-2: its fsync runs in the thread
        await asyncio.sleep(0)
        monkeypatch.setattr(run_module, "COMMIT_ROWS", 3)      # as if 4,096 rows were pending under load
        for i in range(3, 6):                                  # a worker's rows come due meanwhile
            store.append_records([{"id": f"{i:016x}", "seed_key": f"{i:04x}"}])
            store.mark_row(f"{i:04x}", "done", n_records=1)
        await flusher
        return store

    asyncio.run(session()).close()
    monkeypatch.setattr(run_module, "COMMIT_ROWS", 4096)
    store = RunStore(tmp_path / "run", "fp")                   # the next session cuts to the committed length
    keys = [f"{i:04x}" for i in range(6)]
    assert len(store.done_rows(keys)) == 6
    assert len(list(store.iter_records_by_seed(list(range(6))))) == 6   # no done row lost its records
    store.close()


def test_a_run_directory_from_before_the_committed_lengths_keeps_its_shards(tmp_path):
    from synth.store import RunStore

    folder = tmp_path / "run" / "records" / "fp"
    folder.mkdir(parents=True)
    (folder / "part-00000.jsonl").write_text('{"id":"r1","seed_key":"k1"}\n{"id":"r1","seed_key":"k1"}\n')
    RunStore(tmp_path / "run", "fp").close()
    assert len((folder / "part-00000.jsonl").read_text().splitlines()) == 2   # read once by the reader


@pytest.mark.parametrize("started", [False, True])
def test_a_group_commit_cancelled_mid_write_still_lands_records_then_marks(tmp_path, started):
    """The run's end (or Ctrl+C) may cancel a commit whose records were already taken from the queue:
    whether or not its thread had begun writing them, they land, and only then is the row marked."""
    import asyncio
    import threading

    from synth.store import RunStore

    store = RunStore(tmp_path / "run", "fp")
    store.append_records([{"id": "r1", "seed_key": "k1"}])
    store.mark_row("k1", "done", n_records=1)
    gate, writing = threading.Event(), threading.Event()
    if started:  # the commit thread is inside the write when the cancel comes
        real = store._make_durable

        def slow(records):
            writing.set()
            gate.wait(30)
            real(records)

        store._make_durable = slow
    else:  # the commit thread is busy: the write has not begun when the cancel comes
        store._fsync.submit(gate.wait, 30)

    async def go():
        task = asyncio.create_task(store.commit_async())
        while store._records:  # until the commit has taken the records (it runs up to its first await)
            await asyncio.sleep(0)
        if started:
            await asyncio.to_thread(writing.wait, 30)
        task.cancel()
        if started:
            threading.Timer(0.2, gate.set).start()  # the cancelled commit waits for the write it began
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()

    asyncio.run(go())
    shard = next((tmp_path / "run" / "records" / "fp").glob("part-*.jsonl"))
    assert [json.loads(line)["id"] for line in shard.read_text().splitlines()] == ["r1"]  # once, not twice
    done = sqlite3.connect(tmp_path / "run" / "cache.sqlite").execute(
        "SELECT count(*) FROM rows WHERE status = 'done'").fetchone()[0]
    assert done == 1
    store.close()
    assert [json.loads(line)["id"] for line in shard.read_text().splitlines()] == ["r1"]


def test_seeds_are_checked_up_front_then_read_lazily(tmp_path):
    from synth.errors import InputError
    from synth.seeds import Seeds

    rows = [{"q": "a"}, {"q": "b"}, {"q": "a"}, {"q": "c"}]
    reads = []

    def opener():
        reads.append(1)
        yield from rows

    seeds = Seeds(opener, name="s.jsonl", needed=["q"], limit=None)
    assert len(seeds) == 3 and len(reads) == 1
    assert [(pos, row["q"]) for pos, _, row in seeds] == [(1, "a"), (2, "b"), (3, "c")]  # duplicates collapse
    assert len(Seeds(opener, name="s", limit=2)) == 2
    try:
        Seeds(lambda: iter([{"q": "a"}, {"x": 1}]), name="s.jsonl", needed=["q"], recipe="r")
    except InputError as exc:
        assert str(exc).startswith("s.jsonl: row 2 has no 'q' field")
    else:
        raise AssertionError("a row without the field must stop the run")


def test_dropped_records_keep_no_dedup_bookkeeping(tmp_path):
    from synth.dedup import DecontamConfig, DedupConfig
    from synth.stages import DedupStage, run_stages

    write_jsonl(tmp_path / "bench.jsonl", [{"question": "Janet's ducks lay sixteen eggs per day and she eats three "
                                                        "for breakfast every single morning"}])
    records = [{"id": "a", "seed_key": "1", "instruction": "Name a bird.", "response": "A heron."},
               {"id": "b", "seed_key": "2", "instruction": "Name a bird.", "response": "A heron."},
               {"id": "c", "seed_key": "3", "response": "ok", "instruction":
                "Janet's ducks lay sixteen eggs per day and she eats three for breakfast every single morning"}]
    stages = [DedupStage(DedupConfig(exact=True, near=False)),
              DedupStage(DecontamConfig(benchmarks=[f"{tmp_path / 'bench.jsonl'}:question"], ngram=8), decontam=True)]
    kept, rejected, _ = run_stages(stages, records)
    assert [r["id"] for r in kept] == ["a"]
    assert sorted(r["reason"] for r in rejected) == ["benchmark_overlap", "exact_duplicate"]
    for entry in rejected:
        assert entry["record"] == next(r for r in records if r["id"] == entry["record"]["id"])
    dup = next(e for e in rejected if e["stage"] == "dedup")
    assert dup["duplicate_in"] == "input" and dup["duplicate_of"] == "a"
    bench = next(e for e in rejected if e["stage"] == "decontam")
    assert bench["benchmark_text"].startswith("Janet") and bench["shared_ngrams"] >= 1




def test_an_answer_not_yet_committed_survives_a_kill(tmp_path):
    """An answer is journalled as it arrives; a session killed before its group commit loses nothing."""
    from synth.store import RunStore

    store = RunStore(tmp_path / "run", "fp")
    k1, k2 = "ab" * 32, "cd" * 32  # request hashes (sha256 hex)
    store.cache(k1, '{"q": 1}', 7, {"text": "答案"})
    store._journal.write(f'{k2}\t1\t0.0\t{{}}\t{{"text": "cut')  # a line cut by the kill
    store._journal.flush()
    assert store.db.execute("SELECT count(*) FROM responses").fetchone()[0] == 0  # not committed yet
    del store  # killed: no close, no commit
    again = RunStore(tmp_path / "run", "fp")
    assert again.cached(k1) == {"text": "答案"} and again.cached(k2) is None
    assert len(list((tmp_path / "run").glob("answers-*.journal"))) == 1  # only the new session's own
    again.close()
    assert not list((tmp_path / "run").glob("answers-*.journal"))
