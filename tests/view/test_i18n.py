"""The viewer in Chinese: chosen from the browser's Accept-Language (served) or its languages (a file opened
from disk), switched with the header's language links and remembered; every interface string has its
Chinese words. Screenshots go to pytest's tmp_path."""

from __future__ import annotations

import re
import shutil
import urllib.request

import pytest

from synth.view.server import STATIC


def _get(url: str, accept_language: str | None) -> tuple[str, dict]:
    req = urllib.request.Request(url, headers={"Accept-Language": accept_language} if accept_language else {})
    with urllib.request.urlopen(req, timeout=10) as res:
        return res.read().decode("utf-8"), dict(res.headers)


def test_the_page_speaks_the_first_language_the_browser_asks_for(served):
    html, headers = _get(served, "zh-CN,zh;q=0.9,en;q=0.8")
    assert '<html lang="zh-CN" data-lang="zh">' in html and headers["Content-Language"] == "zh-CN"
    assert "Accept-Language" in headers["Vary"]
    html, _ = _get(served, "en-US,en;q=0.9,zh;q=0.5")
    assert '<html lang="en" data-lang="en">' in html
    html, _ = _get(served, "fr-FR,de;q=0.9")
    assert 'data-lang="en"' in html, "a language the page does not speak: English"
    html, _ = _get(served + "?lang=en", "zh-CN")
    assert 'data-lang="en"' in html, "?lang= wins over Accept-Language"
    assert '<script src="static/i18n.js"></script>' in html and 'id="lang-switch"' in html


def test_every_interface_string_has_chinese_words():
    """Each string app.js looks up (t("…"), section and card titles, kv keys, table heads) is in i18n.js."""
    import json

    js = (STATIC / "app.js").read_text(encoding="utf-8")
    table = (STATIC / "i18n.js").read_text(encoding="utf-8")
    keys_zh = {json.loads(f'"{m}"') for m in re.findall(r'"((?:[^"\\]|\\.)*)":\s*(?:\n\s*)?"', table)}
    wanted = set(re.findall(r'\bt\("((?:[^"\\]|\\.)*)"', js))
    wanted |= set(re.findall(r'\b(?:section|card)\("([^"]+)"', js))
    wanted |= {k for k in re.findall(r'\["([^"]+)", (?!")', js) if len(k) > 1 and "_" not in k}  # kv labels
    for heads in re.findall(r'\[("#"[^\]]*)\]\.map', js):
        wanted |= set(re.findall(r'"([^"]+)"', heads))
    wanted |= set(re.findall(r': "([^"]+)"', re.search(r"TITLES = \{([^}]*)\}", js)[1]))
    wanted |= {"Overview", "Rows", "Rejected", "Failed", "Coverage"}  # the header's links
    wanted = {json.loads(f'"{w}"') for w in wanted if any(c.isalpha() for c in w)}
    missing = sorted(wanted - keys_zh)
    assert not missing, f"no Chinese for: {missing}"


@pytest.fixture(scope="module")
def zh_browser(tmp_path_factory):
    """Headless Chromium whose user asks for Chinese (Accept-Language and navigator.languages: zh-CN, zh)."""
    pytest.importorskip("selenium", reason="the browser tests need selenium (the dev extra)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("browser tests need chromium and chromedriver on the PATH "
                    "(Debian: apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,900", "--lang=zh-CN",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-zh-profile')}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _texts(driver, css: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [el.text for el in driver.find_elements(By.CSS_SELECTOR, css)]


def _until(driver, check, timeout: float = 20):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(check)


def test_a_chinese_browser_gets_the_chinese_interface_and_can_switch(zh_browser, served, process_run, tmp_path):
    from selenium.webdriver.common.by import By

    d = zh_browser
    d.get(served + "#/overview")
    d.execute_script("localStorage.removeItem('synth-view-lang')")
    d.get(served + "#/overview")
    assert d.execute_script("return navigator.languages[0]") == "zh-CN"
    _until(d, lambda d: _texts(d, "#nav a")[:5] == ["概览", "数据行", "已剔除", "失败", "覆盖"])
    _until(d, lambda d: "漏斗" in _texts(d, "section.sec h3"))
    heads = _texts(d, "#funnel thead th")
    assert heads[:4] == ["阶段", "输入", "保留", "剔除"] and "按原因剔除" in heads
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert "状态" in _texts(d, ".card h4") and "配方" in _texts(d, ".card dt")
    d.save_screenshot(str(tmp_path / "zh-overview.png"))
    # the data itself is never translated: the stage names and the Chinese problem stay as written
    assert "filter:refusal" in _texts(d, "#funnel td.stage-name")
    d.get(served + "#/rows?set=kept")
    _until(d, lambda d: "第 1–3 行，共 3 行" in " ".join(_texts(d, "#status-line")))
    assert d.find_element(By.ID, "search").get_attribute("placeholder").startswith("搜索全部文本")
    assert _texts(d, "#rows thead th")[:3] == ["#", "问题 / 指令", "回答"]
    d.get(served + "#/row?set=kept&i=0")
    _until(d, lambda d: "第一个错误步骤：第 3 步，共 4 步。" in _texts(d, "#steps-note"))
    assert "✗ 第一个错误步骤" in d.find_element(By.ID, "steps").text
    # the switch: English, remembered over a reload, then back to Chinese
    d.find_element(By.CSS_SELECTOR, '#lang-switch a[data-lang="en"]').click()
    _until(d, lambda d: _texts(d, "#nav a")[:1] == ["Overview"])
    _until(d, lambda d: "First wrong step: 3 of 4." in _texts(d, "#steps-note"))
    d.refresh()
    _until(d, lambda d: _texts(d, "#nav a")[:1] == ["Overview"])
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    d.find_element(By.CSS_SELECTOR, '#lang-switch a[data-lang="zh"]').click()
    _until(d, lambda d: _texts(d, "#nav a")[:1] == ["概览"])
    d.execute_script("localStorage.removeItem('synth-view-lang')")


def test_the_static_file_follows_the_browsers_languages(zh_browser, process_run, tmp_path):
    from synth.view import write_html

    page = write_html(process_run[0], tmp_path / "run.html")
    d = zh_browser
    d.get(page.as_uri())
    d.execute_script("localStorage.removeItem('synth-view-lang')")
    d.get(page.as_uri() + "#/rows?set=rejected")
    _until(d, lambda d: "被剔除的行" in " ".join(_texts(d, "h2")))
    assert "按阶段和原因" in _texts(d, "details.groups summary")
