"""Run directories with known rows, a viewer server over them, and a headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from synth.view import RunView, ViewServer
from tests.view.make_run import write_run

CHINESE_QUESTION = "小明有5个苹果，又买了3个，现在一共有几个苹果？"


def _steps(labels, mc):
    texts = ["Tom starts with 3 boxes of 4 pencils: $3 \\times 4 = 12$ pencils.",
             "He gives away 5 pencils.",
             "So he has $12 + 5 = 17$ pencils left.",
             "The answer is \\boxed{17}."]
    return [{"index": k, "text": t, "label": lab, "label_source": None if lab is None else "mc_hard",
             "mc_value": m, "n_rollouts": 0 if m is None else 4, "n_correct": 0 if m is None else round(m * 4)}
            for k, (t, lab, m) in enumerate(zip(texts, labels, mc))]


def _generation(seed):
    return {"model": "Qwen/Qwen2.5-7B-Instruct", "seed": seed, "finish_reason": "stop", "prompt_tokens": 80,
            "completion_tokens": 120}


def process_records() -> list[dict]:
    """Kept rows of a process-reasoning run: a step-labelled wrong solution (first wrong step: 3),
    a majority-labelled Chinese problem with its vote distribution and a DPO pair, an English one."""
    step_labelled = {
        "id": "a1", "recipe": "step-labels", "recipe_version": "1", "seed_key": "s1",
        "problem": "Tom has 3 boxes with 4 pencils in each box. He gives away 5 pencils. How many are left?",
        "reference_answer": "7", "reference_answer_source": "gold", "sample_index": 0,
        "solution": "…", "steps": _steps([1, 1, -1, None], [1.0, 0.75, 0.0, None]), "first_error_step": 2,
        "final_answer": "17", "answer_pattern": "boxed", "correct": False,
        "verification": {"status": "incorrect", "method": "number", "detail": None},
        "majority": None, "votes": None, "rejected_solutions": None, "messages": None, "generation": _generation(11)}
    zh = {
        "id": "b2", "recipe": "reasoning", "recipe_version": "1", "seed_key": "s2",
        "problem": CHINESE_QUESTION, "reference_answer": "8", "reference_answer_source": "majority_vote",
        "sample_index": 1, "solution": "5 + 3 = 8，答案是 8。", "steps": None, "first_error_step": None,
        "final_answer": "8", "answer_pattern": "zh_answer", "correct": True,
        "verification": {"status": "correct", "method": "number", "detail": None},
        "majority": {"answer": "8", "votes": 3, "total": 4, "agreement": 0.75},
        "votes": [{"answer": "8", "votes": 3}, {"answer": "2", "votes": 1}],
        "rejected_solutions": [{"solution": "5 - 3 = 2，答案是 2。", "final_answer": "2", "status": "incorrect"}],
        "messages": [{"role": "user", "content": CHINESE_QUESTION},
                     {"role": "assistant", "content": "5 + 3 = 8，答案是 $\\boxed{8}$。"}],
        "generation": _generation(12)}
    en = {**zh, "id": "c3", "seed_key": "s3", "problem": "What is 2 + 2?", "reference_answer": "4",
          "reference_answer_source": "gold", "solution": "2 + 2 = 4. The answer is 4.", "final_answer": "4",
          "majority": None, "votes": None, "rejected_solutions": None, "answer_pattern": "the_answer_is",
          "messages": [{"role": "user", "content": "What is 2 + 2?"},
                       {"role": "assistant", "content": "2 + 2 = 4. The answer is **4**."}]}
    return [step_labelled, zh, en]


def process_rejected() -> list[dict]:
    wrong = {**process_records()[2], "id": "d4", "seed_key": "s4", "problem": "请问 7 乘以 6 等于多少？",
             "solution": "抱歉，我无法回答这个问题。",
             "messages": [{"role": "user", "content": "请问 7 乘以 6 等于多少？"},
                          {"role": "assistant", "content": "抱歉，我无法回答这个问题。"}]}
    dup = {**process_records()[2], "id": "e5", "seed_key": "s5"}
    return [{"stage": "filter:refusal", "reason": "refusal_phrase", "record": wrong},
            {"stage": "dedup", "reason": "near_duplicate", "duplicate_of": "c3", "similarity": 0.93, "record": dup}]


def process_failed() -> list[dict]:
    return [{"row_key": "f6", "error": "RequestFailed: HTTP 503 after 5 retries",
             "row": {"problem": "A train leaves at 3 pm …", "answer": "5"}}]


@pytest.fixture(scope="session")
def process_run(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("view") / "process"
    manifest = write_run(root, process_records(), process_rejected(), process_failed(), name="process-zh",
                         recipe="reasoning", stage_order=["recipe:reasoning", "filter:refusal", "dedup"])
    return root, manifest


def taxonomy_records() -> list[dict]:
    rows = []
    for k, (leaf, task, n) in enumerate([("指数基金", "explain", 2), ("指数基金", "compare", 1), ("债券", "explain", 1)]):
        for j in range(n):
            q = f"{leaf} question {k}-{j}"
            rows.append({"id": f"t{k}{j}", "recipe": "taxonomy", "recipe_version": "1", "seed_key": f"cell{k}",
                         "taxonomy": {"domain": "金融", "path": ["金融", leaf], "leaf": leaf, "task": task,
                                      "difficulty": "basic", "persona": None, "language": "zh"},
                         "cell": f"cell{k}", "round": 0, "question_index": j,
                         "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "…"}],
                         "instruction": q, "response": "…", "reasoning": None, "generation": _generation(k)})
    return rows


TAXONOMY_COVERAGE = {"cells": 4, "quota": 6, "rows": 4, "fill_rate": 0.6667, "top_up_rows": 0,
                     "thin_cells": ["cell3: 金融 / 保险 · explain · basic · zh: 0/1"],
                     "rows_by_leaf": {"金融 / 指数基金": 3, "金融 / 债券": 1, "金融 / 保险": 0},
                     "rows_by_task": {"explain": 3, "compare": 1}}


@pytest.fixture(scope="session")
def taxonomy_run(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("view") / "taxonomy"
    manifest = write_run(root, taxonomy_records(), name="finance-zh", recipe="taxonomy", coverage=TAXONOMY_COVERAGE)
    return root, manifest


@pytest.fixture(scope="session")
def served(process_run):
    server = ViewServer(RunView(process_run[0]), 0)
    server.start_background()
    yield server.url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium through chromedriver (Debian's chromium and chromium-driver packages)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("browser tests need chromium and chromedriver on the PATH "
                    "(Debian: apt-get install chromium chromium-driver)")
    from selenium import webdriver  # the dev extra installs it; only the browser is a system package
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,900",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
