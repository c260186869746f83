"""The student stage (synth.stages.student): a teacher writes verified solutions, a scripted student
answers each problem with a known pass rate, and the stage keeps exactly the rows in the band, stops
sampling once a row's band is decided, counts what that saved, and asks nothing twice on a re-run.

The student's answer to sample i is right when (5 * seed mod 8) < 8 * rate: the k = 8 samples of one
problem have consecutive seeds, so exactly 8 * rate of them are right, in an order the test can replay
from the seeds the server saw."""

from __future__ import annotations

from collections import Counter

import pytest

from synth.stages.student import BINS, Band, StudentOptions, _bin
from synth.testing import ScriptedServer, run_config
from tests.conftest import write_config, write_jsonl

# problem -> (gold answer, the student's pass rate)
PROBLEMS = {"What is 2 + 3?": ("5", 0.0), "What is 4 * 6?": ("24", 0.25), "What is 10 - 7?": ("3", 0.5),
            "What is 9 + 9?": ("18", 0.75), "What is 1 + 1?": ("2", 1.0)}
K = 8


def problem_of(body: dict) -> str | None:
    content = body["messages"][-1]["content"]
    return next((p for p in PROBLEMS if p in content), None)


def teacher(kind: str, body: dict) -> str:
    if problem_of(body) is None:  # synth's capability probe
        return "hi"
    gold, _ = PROBLEMS[problem_of(body)]
    return f"Step 1: compute it.\nThe answer is \\boxed{{{gold}}}."


def right(problem: str, seed: int) -> bool:
    return (5 * seed) % K < round(K * PROBLEMS[problem][1])  # 5 is prime to 8: any 8 seeds in a row hit each residue


def student(kind: str, body: dict) -> str:
    problem = problem_of(body)
    if problem is None:  # synth's capability probe
        return "hi"
    gold = PROBLEMS[problem][0]
    return f"I think \\boxed{{{gold if right(problem, body['seed']) else 'x' + gold}}}."


def work(server: ScriptedServer) -> list[dict]:
    return [b for b in server.requests() if b.get("max_tokens") != 1]


def expected_samples(problem: str, base: int, band: Band, round_size: int) -> int:
    """Replays the rule by hand: after each round, stop when no later answers can move the row across
    the band's edges."""
    correct = sampled = 0
    while sampled < K:
        n = min(round_size, K - sampled)
        correct += sum(right(problem, base + sampled + i) for i in range(n))
        sampled += n
        finals = {band.where((correct + more) / K) for more in range(K - sampled + 1)}
        if len(finals) == 1:
            break
    return sampled


def run(tmp_path, name: str, student_options: dict, *, native_n: bool = False):
    write_jsonl(tmp_path / "problems.jsonl", [{"problem": p, "answer": g} for p, (g, _) in PROBLEMS.items()])
    with ScriptedServer(teacher, model="teacher-72b") as t, \
            ScriptedServer(student, model="student-1b", native_n=native_n) as s:
        cfg = write_config(tmp_path / f"{name}.yaml", name=name, recipe="reasoning", seeds="problems.jsonl",
                           engine={"base_url": t.base_url, "model": "teacher-72b"},
                           engines={"student": {"base_url": s.base_url, "model": "student-1b"}},
                           options={"k": 1, "label": "gold"}, sampling={"max_tokens": 64}, dedup=None,
                           student=student_options)
        result = run_config(cfg, tmp_path / name)
        return result, work(t), work(s), len(s.requests())


def test_rl_band_keeps_exactly_the_sometimes_solved_rows_and_early_stopping_saves_the_measured_share(tmp_path):
    result, at_teacher, at_student, all_student = run(tmp_path, "rl", {"engine": "student", "k": K, "preset": "rl"})
    kept = {r["problem"]: r for r in result.kept}
    assert set(kept) == {p for p, (_, rate) in PROBLEMS.items() if 0 < rate < 1}
    reasons = {r["record"]["problem"]: r["reason"] for r in result.rejected if r["stage"] == "student"}
    assert reasons == {"What is 2 + 3?": "student_never_solves", "What is 1 + 1?": "student_solved"}
    assert len(at_teacher) == 5 and all(problem_of(b) for b in at_teacher)

    # every student request is one sample (no native n); replay the rule on the seeds the server saw
    seeds: dict[str, list[int]] = {}
    for body in at_student:
        seeds.setdefault(problem_of(body), []).append(body["seed"])
    band = StudentOptions(preset="rl").band()
    for problem, seen in seeds.items():
        base = min(seen)
        assert sorted(seen) == list(range(base, base + len(seen)))  # samples 0..m-1, none twice
        assert len(seen) == expected_samples(problem, base, band, round_size=2)
    assert len(seeds["What is 2 + 3?"]) == len(seeds["What is 1 + 1?"]) == K  # undecided until the last sample
    sent = len(at_student)
    assert sent < 5 * K
    for problem, record in kept.items():
        s = record["student"]
        assert s["model"] == "student-1b" and s["k"] == K and s["sampled"] == len(seeds[problem])
        assert s["early_stop"] is (s["sampled"] < K) and 0 < s["correct"] < s["sampled"]

    stage = {s["name"]: s for s in result.manifest["stages"]}["student"]
    info = stage["student"]
    assert (stage["in"], stage["kept"]) == (5, 3)
    assert stage["dropped_by_reason"] == {"student_never_solves": 1, "student_solved": 1}
    assert info["samples"] == info["requests"] == sent and info["samples_without_early_stop"] == 5 * K
    assert info["samples_saved_share"] == round(1 - sent / (5 * K), 4) > 0
    print(f"student RL: {sent} of {5 * K} answers asked, {info['samples_saved_share']:.0%} saved")
    hist = stage["scores"]["pass_rate"]
    kept_bins = Counter(_bin(r["student"]["pass_rate"]) for r in kept.values())
    assert hist["histogram_kept"] == {b: kept_bins.get(b, 0) for b in BINS}
    assert hist["histogram"] == {b: kept_bins.get(b, 0) + (b in ("0", "1")) for b in BINS}
    by_engine = result.manifest["requests_by_engine"]
    assert by_engine["student"]["sent"] == all_student and by_engine["student"]["cache_misses"] == sent
    assert result.manifest["engines"]["student"]["used_by"] == ["stage:student"]

    from synth.view.run import RunView

    shown = {s["name"]: s for s in RunView(result.dir).overview()["stages"]}["student"]  # the viewer's section
    assert shown["student"] == info and shown["scores"]["pass_rate"] == hist
    card = (result.dir / "README.md").read_text(encoding="utf-8")
    assert "Student `student-1b`" in card and "too easy (student_solved): 1" in card
    assert "too hard (student_never_solves): 1" in card
    assert f"{sent} of {5 * K} answers" in card


def test_a_rerun_asks_the_student_nothing_and_decides_the_same(tmp_path):
    write_jsonl(tmp_path / "problems.jsonl", [{"problem": p, "answer": g} for p, (g, _) in PROBLEMS.items()])
    with ScriptedServer(teacher, model="teacher-72b") as t, ScriptedServer(student, model="student-1b") as s:
        cfg = write_config(tmp_path / "again.yaml", name="again", recipe="reasoning", seeds="problems.jsonl",
                           engine={"base_url": t.base_url, "model": "teacher-72b"},
                           engines={"student": {"base_url": s.base_url, "model": "student-1b"}},
                           options={"k": 1, "label": "gold"}, sampling={"max_tokens": 64}, dedup=None,
                           student={"k": K, "preset": "sft"})
        first = run_config(cfg, tmp_path / "again")
        n_first = len(work(s))
        second = run_config(cfg, tmp_path / "again")
        n_second = len(work(s))
    assert n_first > 0 and n_second == n_first  # every answer came from the run's cache
    # SFT band p <= 0.5: the never-solved row stays, 0.75 and 1.0 are too easy
    assert {r["problem"] for r in first.kept} == {r["problem"] for r in second.kept} == \
        {p for p, (_, rate) in PROBLEMS.items() if rate <= 0.5}
    assert sorted(r["reason"] for r in second.rejected if r["stage"] == "student") == ["student_solved"] * 2
    assert second.manifest["requests_by_engine"]["student"]["cache_misses"] == 0


def test_native_n_asks_one_request_per_round(tmp_path):
    result, _, at_student, _ = run(tmp_path, "n", {"k": K, "preset": "rl", "round_size": 4}, native_n=True)
    assert {r["problem"] for r in result.kept} == {p for p, (_, rate) in PROBLEMS.items() if 0 < rate < 1}
    assert all(b.get("n") == 4 for b in at_student)
    samples = sum(r["student"]["sampled"] for r in result.kept)
    info = {s["name"]: s for s in result.manifest["stages"]}["student"]["student"]
    assert info["requests"] == len(at_student) == info["samples"] // 4
    assert samples == 4 * 3  # the first 4 answers of each sometimes-solved problem hold a right and a wrong one


@pytest.mark.parametrize("correct,sampled,decided", [(1, 1, False), (1, 2, False), (0, 7, False), (8, 8, True),
                                                     (0, 8, True)])
def test_rl_band_is_decided_by_one_right_and_one_wrong_answer(correct, sampled, decided):
    band = StudentOptions(preset="rl").band()
    wrong = sampled - correct
    assert band.decided(correct, sampled, K) is (decided or (correct > 0 and wrong > 0))


def test_sft_band_and_explicit_bounds():
    sft = StudentOptions(preset="sft").band()
    assert sft.decided(5, 5, K) and sft.where(5 / K) == 1  # 5 right of 8: above 0.5 whatever follows
    assert sft.decided(0, 4, K) and sft.where(4 / K) == 0  # 4 wrong of 8: at most 0.5
    assert not sft.decided(3, 5, K)
    explicit = StudentOptions(min_pass=0.25, max_pass=0.75).band()
    assert [explicit.where(p) for p in (0.0, 0.25, 0.75, 1.0)] == [-1, 0, 0, 1]
    assert str(explicit) == "[0.25, 0.75]" and str(StudentOptions(preset="rl").band()) == "(0, 1)"


def test_config_errors_name_the_key(tmp_path, capsys):
    from tests.conftest import cli_in_process

    write_jsonl(tmp_path / "problems.jsonl", [{"problem": "What is 2 + 3?", "answer": "5"}])
    with ScriptedServer(teacher) as t:
        no_role = write_config(tmp_path / "a.yaml", name="a", recipe="reasoning", seeds="problems.jsonl",
                               engine={"base_url": t.base_url}, student={"k": 4})
        code, _, err = cli_in_process(capsys, "run", str(no_role), "--out", str(tmp_path / "a"))
        assert code == 2 and "student.engine: 'student' is not a role under engines: (default)" in err
        both = write_config(tmp_path / "b.yaml", name="b", recipe="reasoning", seeds="problems.jsonl",
                            engine={"base_url": t.base_url}, student={"engine": "default", "preset": "rl",
                                                                       "max_pass": 0.5})
        code, _, err = cli_in_process(capsys, "run", str(both), "--out", str(tmp_path / "b"))
        assert code == 2 and "student" in err and "preset or min_pass/max_pass" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_the_streaming_path_decides_what_the_in_memory_path_decides(tmp_path, monkeypatch):
    memory, _, _, _ = run(tmp_path, "memory", {"k": K, "preset": "rl"})
    monkeypatch.setattr("synth.runner.SPILL_ROWS", 1)  # stream these rows a chunk at a time, as a large run would
    import synth.runner

    chunks = []
    spooled = synth.runner.run_stages_spooled

    async def two_a_chunk(stages, records, folder, **kwargs):
        def counted():
            for i, r in enumerate(records):
                if i % 2 == 0:
                    chunks.append(i)
                yield r
        return await spooled(stages, counted(), folder, **{**kwargs, "chunk_size": 2})

    monkeypatch.setattr(synth.runner, "run_stages_spooled", two_a_chunk)
    streamed, _, at_student, _ = run(tmp_path, "streamed", {"k": K, "preset": "rl"})
    assert len(chunks) == 3  # 5 records, 2 a chunk
    assert sorted(r["problem"] for r in streamed.kept) == sorted(r["problem"] for r in memory.kept)
    stages = {s["name"]: s for s in streamed.manifest["stages"]}
    assert stages["student"] == {**{s["name"]: s for s in memory.manifest["stages"]}["student"],
                                 "seconds": stages["student"]["seconds"]}  # totals over every chunk
    assert stages["student"]["student"]["samples"] == len(at_student)


def test_records_of_one_problem_share_one_probe(tmp_path):
    """reasoning keeps several solutions of a problem: the student is asked about the problem once and
    every record of it carries the same result and decision."""
    def two_ways(kind: str, body: dict) -> str:
        if problem_of(body) is None:
            return "hi"
        gold, _ = PROBLEMS[problem_of(body)]
        return f"Step 1: way {body['seed'] % 2}.\nThe answer is \\boxed{{{gold}}}."

    write_jsonl(tmp_path / "problems.jsonl", [{"problem": p, "answer": g} for p, (g, _) in PROBLEMS.items()])
    with ScriptedServer(two_ways, model="teacher-72b") as t, ScriptedServer(student, model="student-1b") as s:
        cfg = write_config(tmp_path / "two.yaml", name="two", recipe="reasoning", seeds="problems.jsonl",
                           engine={"base_url": t.base_url, "model": "teacher-72b"},
                           engines={"student": {"base_url": s.base_url, "model": "student-1b"}},
                           options={"k": 2, "label": "gold"}, sampling={"max_tokens": 64}, dedup=None,
                           student={"k": K, "preset": "rl"})
        result = run_config(cfg, tmp_path / "two")
        asked = work(s)
    by_problem: dict[str, list[dict]] = {}
    for r in result.kept:
        by_problem.setdefault(r["problem"], []).append(r["student"])
    assert set(by_problem) == {p for p, (_, rate) in PROBLEMS.items() if 0 < rate < 1}
    assert all(len(v) == 2 and v[0] == v[1] for v in by_problem.values())  # two solutions, one probe
    info = {s["name"]: s for s in result.manifest["stages"]}["student"]["student"]
    assert info["questions"] == 5 and info["samples"] == len(asked)
    assert {s["name"]: s for s in result.manifest["stages"]}["student"]["in"] == 10
