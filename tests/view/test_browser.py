"""The viewer in a real headless Chromium: served over HTTP, and as a static file opened from disk.

Screenshots go to pytest's tmp_path (never into the repository)."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="the browser tests need selenium (the dev extra); `pytest -m vllm` runs in .venv-vllm without it")

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from synth.view import write_html
from tests.view.conftest import CHINESE_QUESTION

WAIT_S = 20


def _wait(driver, css: str, text: str | None = None):
    """The first element matching `css` (containing `text`, if given) once it is there."""
    def found(d):
        for el in d.find_elements(By.CSS_SELECTOR, css):
            if text is None or text in el.text:
                return el
        return False
    # a view is re-rendered while it loads: an element found a moment ago may be gone
    return WebDriverWait(driver, WAIT_S, ignored_exceptions=(StaleElementReferenceException,)).until(found)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _funnel(driver) -> dict[str, tuple[int, int, int, dict[str, int]]]:
    _wait(driver, "#funnel tr.stage")
    out = {}
    for row in driver.find_elements(By.CSS_SELECTOR, "#funnel tr.stage"):
        cells = [_number(row.find_element(By.CSS_SELECTOR, f".n-{k}").text) for k in ("in", "kept", "dropped")]
        reasons = {a.get_attribute("data-reason"): _number(a.text.rsplit("(", 1)[1].rstrip(")"))
                   for a in row.find_elements(By.CSS_SELECTOR, ".reasons a")}
        out[row.get_attribute("data-stage")] = (*cells, reasons)
    return out


def _expected_funnel(manifest: dict) -> dict:
    return {s["name"]: (s["in"], s["kept"], s["dropped"], s["dropped_by_reason"]) for s in manifest["stages"]}


def _screenshot(driver, path) -> None:
    driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_page_loads_and_funnel_equals_manifest(browser, served, process_run, tmp_path):
    _, manifest = process_run
    browser.get(served + "#/overview")
    assert _wait(browser, "#run-name", "process").text == "process-zh"
    assert _funnel(browser) == _expected_funnel(manifest)
    assert _number(browser.find_element(By.ID, "count-kept").text) == manifest["outputs"]["kept"]
    assert _number(browser.find_element(By.ID, "count-rejected").text) == manifest["outputs"]["rejected"]
    assert _number(browser.find_element(By.ID, "count-failed").text) == manifest["rows"]["failed"]
    _screenshot(browser, tmp_path / "overview.png")
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []  # no script error, no blocked or missing resource


def test_search_finds_a_chinese_row(browser, served):
    browser.get(served + "#/rows?set=kept")
    _wait(browser, "#rows tbody tr")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#rows tbody tr")) == 3
    box = browser.find_element(By.ID, "search")
    box.send_keys("一共有几个", Keys.ENTER)
    _wait(browser, "#status-line", "1 match")
    rows = browser.find_elements(By.CSS_SELECTOR, "#rows tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, ".title").text for r in rows] == [CHINESE_QUESTION]
    rows[0].click()
    _wait(browser, "#votes")  # its detail: the vote distribution and the preference pair
    votes = [v.text.split("\n") for v in browser.find_elements(By.CSS_SELECTOR, "#votes .vote")]
    assert votes == [["8", "3"], ["2", "1"]]
    assert "5 - 3 = 2" in browser.find_element(By.CSS_SELECTOR, "#pair .rejected").text


def test_rejected_row_shows_its_reason(browser, served):
    browser.get(served + "#/rows?set=rejected")
    _wait(browser, "#groups a", "refusal_phrase").click()
    _wait(browser, "#status-line", "1 match")
    row = browser.find_element(By.CSS_SELECTOR, "#rows tbody tr")
    assert row.find_element(By.CSS_SELECTOR, ".reason").text == "refusal_phrase"
    row.click()
    banner = _wait(browser, "#rejection")
    assert banner.find_element(By.CSS_SELECTOR, ".stage").text == "filter:refusal"
    assert banner.find_element(By.CSS_SELECTOR, ".reason").text == "refusal_phrase"
    assert "抱歉，我无法回答这个问题。" in browser.find_element(By.CSS_SELECTOR, ".messages").text


def test_step_labelled_solution_shows_its_first_wrong_step(browser, served, tmp_path):
    browser.get(served + "#/row?set=kept&i=0")
    _wait(browser, "#steps")
    marked = browser.find_elements(By.CSS_SELECTOR, "#steps tr.first-wrong")
    assert [m.get_attribute("data-index") for m in marked] == ["2"]
    assert "first wrong step" in marked[0].text and "12 + 5 = 17" not in marked[0].text  # rendered as math
    assert marked[0].find_elements(By.TAG_NAME, "math")
    assert browser.find_element(By.ID, "steps-note").text == "First wrong step: 3 of 4."
    labels = [r.get_attribute("data-label") for r in browser.find_elements(By.CSS_SELECTOR, "#steps tr.step")]
    assert labels == ["1", "1", "-1", ""]
    _screenshot(browser, tmp_path / "steps.png")


def test_static_html_works_opened_from_disk(browser, process_run, taxonomy_run, tmp_path):
    root, manifest = process_run
    page = write_html(root, tmp_path / "process.html")
    browser.get(page.resolve().as_uri() + "#/overview")
    assert _funnel(browser) == _expected_funnel(manifest)
    browser.get(page.resolve().as_uri() + "#/rows?set=kept&q=一共有几个")
    _wait(browser, "#status-line", "1 match")
    assert browser.find_element(By.CSS_SELECTOR, "#rows .title").text == CHINESE_QUESTION
    browser.get(page.resolve().as_uri() + "#/row?set=kept&i=0")
    assert _wait(browser, "#steps tr.first-wrong").get_attribute("data-index") == "2"
    _screenshot(browser, tmp_path / "static-steps.png")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    # coverage as a heat map: a leaf with no rows still has its (zero) cells
    coverage_page = write_html(taxonomy_run[0], tmp_path / "taxonomy.html")
    browser.get(coverage_page.resolve().as_uri() + "#/coverage")
    _wait(browser, "table.heat")
    heat = browser.find_elements(By.CSS_SELECTOR, "table.heat")[0]
    cells = {row.find_element(By.CSS_SELECTOR, "th").text: [c.text for c in row.find_elements(By.CSS_SELECTOR, "td")]
             for row in heat.find_elements(By.CSS_SELECTOR, "tbody tr")}
    assert cells == {"金融 / 保险": ["0", "0"], "金融 / 债券": ["0", "1"], "金融 / 指数基金": ["1", "2"]}
