"""The viewer's student section in a real headless Chromium: a run with the student stage
(tests/core/test_student_stage.py's scripted teacher and student), opened as a static page."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="the browser tests need selenium (the dev extra)")

from selenium.webdriver.common.by import By

from synth.view import write_html
from tests.core.test_student_stage import K, run
from tests.view.test_browser import _wait


def test_overview_shows_the_pass_rate_histogram_and_what_early_stopping_saved(browser, tmp_path):
    result, _, at_student, _ = run(tmp_path, "rl", {"k": K, "preset": "rl"})
    stage = {s["name"]: s for s in result.manifest["stages"]}["student"]
    page = write_html(result.dir, tmp_path / "student.html")
    browser.get(page.resolve().as_uri() + "#/overview")
    _wait(browser, "#student-histogram tbody tr")
    rows = {r.get_attribute("data-bin"): [int(c.text) for c in r.find_elements(By.CSS_SELECTOR, "td.num")]
            for r in browser.find_elements(By.CSS_SELECTOR, "#student-histogram tbody tr")}
    hist = stage["scores"]["pass_rate"]
    assert rows == {b: [n, hist["histogram_kept"][b]] for b, n in hist["histogram"].items()}
    text = browser.find_element(By.ID, "student").text
    assert "student-1b" in text and "(0, 1)" in text and f"{len(at_student)} / {5 * K}" in text
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
