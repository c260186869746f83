"""Fixtures for publishing tests: one small bilingual reasoning run, and the stand-in Hub."""

from __future__ import annotations

import pytest

from tests.conftest import synth_cli, write_config, write_jsonl
from tests.hub.standin import StandInHub

PROBLEMS = [
    {"problem": "Tom has 3 boxes with 4 pencils each. He gives away 5. How many are left?", "answer": "7",
     "steps": ["3 boxes x 4 pencils = 12 pencils.", "12 - 5 = 7 pencils."]},
    {"problem": "Sara reads 15 pages a day. How many pages in 6 days?", "answer": "90",
     "steps": ["Each day is 15 pages.", "15 x 6 = 90 pages."]},
    {"problem": "A bus has 40 seats and 28 people. How many seats are free?", "answer": "12",
     "steps": ["There are 40 seats.", "40 - 28 = 12 seats."]},
    {"problem": "Lily buys 3 pens at 2 dollars each. What does she pay?", "answer": "6",
     "steps": ["One pen costs 2 dollars.", "3 x 2 = 6 dollars."]},
    {"problem": "小明有12个苹果，给了小红5个，又买了8个。小明现在有多少个苹果？", "answer": "15",
     "steps": ["给出5个后剩下 12 - 5 = 7 个。", "再买8个，7 + 8 = 15 个。"]},
    {"problem": "一本书有120页，小华每天看15页，几天能看完？", "answer": "8",
     "steps": ["每天看15页。", "120 ÷ 15 = 8 天。"]},
    {"problem": "一支钢笔8元，买2支一共多少元？", "answer": "16",
     "steps": ["一支钢笔8元。", "2 × 8 = 16 元。"]},
    {"problem": "班上有30个学生，其中女生有14个，男生有多少个？", "answer": "16",
     "steps": ["全班30人。", "30 - 14 = 16 个男生。"]},
]


def scripted_solution(kind: str, body: dict) -> str:
    """Sample with an even seed: the right steps; odd seed: a wrong last step."""
    prompt = body["messages"][-1]["content"]
    problem = next((p for p in PROBLEMS if p["problem"] in prompt), None)
    if problem is None:  # the engine's capability probe
        return "ok"
    steps = list(problem["steps"])
    answer = problem["answer"]
    if body.get("seed", 0) % 2:
        answer = str(int(answer) + 1)
        steps[-1] = steps[-1].split("=")[0] + f"= {answer}"
    zh = any("\u4e00" <= ch <= "\u9fff" for ch in problem["problem"])
    return "\n".join(steps) + (f"\n答案是 {answer}" if zh else f"\nThe answer is {answer}")


def make_run(root, *, name="maths", problems=PROBLEMS, extra: dict | None = None):
    """`synth run` (the CLI, as a user runs it) over the scripted server; returns the run directory."""
    from tests.servers import ScriptedServer

    write_jsonl(root / "seeds.jsonl", [{"problem": p["problem"], "answer": p["answer"]} for p in problems])
    fields = dict(name=name, recipe="reasoning", seeds="seeds.jsonl", license="cc-by-4.0",
                  options={"k": 2, "keep": "all", "rejected_per_record": 0, "dedup_paths": False},
                  sampling={"max_tokens": 64, "temperature": 0.7},
                  dedup={"exact": True, "near": True, "threshold": 0.9, "fields": ["solution"]},
                  export={"formats": ["messages", "openrlhf_prm", "trl_stepwise", "prm800k", "alpaca"],
                          "split": {"test": 0.25}})
    fields.update(extra or {})
    cfg = write_config(root / f"{name}.yaml", **fields)
    with ScriptedServer(scripted_solution) as server:
        proc = synth_cli("run", str(cfg), "--base-url", server.base_url, "--out", str(root / name), "-q")
    assert proc.returncode == 0, proc.stderr
    return root / name


@pytest.fixture(scope="session")
def maths_run(tmp_path_factory):
    """A finished run: 8 problems (4 en, 4 zh), 2 samples each (one right, one wrong), test split 0.25."""
    return make_run(tmp_path_factory.mktemp("run"))


@pytest.fixture
def hub(monkeypatch):
    """The stand-in Hub, with huggingface_hub pointed at it in this process and retries without waiting."""
    import huggingface_hub.constants as constants
    import huggingface_hub.utils._http as hub_http

    from synth.hub import push

    with StandInHub() as server:
        monkeypatch.setattr(constants, "ENDPOINT", server.url)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True, raising=False)
        monkeypatch.setattr(hub_http.time, "sleep", lambda s: None)
        monkeypatch.setattr(push, "BACKOFF_S", 0.0)
        monkeypatch.setenv("HF_TOKEN", "hf_write")
        monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        yield server
