"""The viewer's HTTP API over real loopback HTTP: answers, bad requests, and what it refuses."""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlsplit

from tests.view.conftest import CHINESE_QUESTION


def _get(base: str, path: str, host: str | None = None) -> tuple[int, dict | bytes, dict]:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", path, headers={"Host": host} if host else {})
    res = conn.getresponse()
    body = res.read()
    headers = dict(res.getheaders())
    conn.close()
    if headers.get("Content-Type", "").startswith("application/json"):
        return res.status, json.loads(body), headers
    return res.status, body, headers


def test_overview_and_pages(served, process_run):
    _, manifest = process_run
    status, overview, headers = _get(served, "/api/overview")
    assert status == 200 and "connect-src 'self'" in headers["Content-Security-Policy"]
    assert overview["stages"] == manifest["stages"]
    assert {k: v["rows"] for k, v in overview["sets"].items()} == {"kept": 3, "rejected": 2, "failed": 1}
    status, page, _ = _get(served, "/api/rows?set=kept&q=" + quote("一共有几个"))
    assert status == 200 and [i["title"] for i in page["items"]] == [CHINESE_QUESTION]
    status, page, _ = _get(served, "/api/rows?set=rejected&stage=dedup")
    assert [(i["reason"], i["id"]) for i in page["items"]] == [("near_duplicate", "e5")]
    status, row, _ = _get(served, "/api/row?set=rejected&i=1")
    assert row["entry"]["duplicate_of"] == "c3" and row["entry"]["similarity"] == 0.93


def test_bad_requests_say_what_is_wrong(served):
    assert _get(served, "/api/rows?set=kept&limit=0")[:2] == (400, {"error": "limit=0 is out of range (1..500)"})
    assert _get(served, "/api/rows?set=kept&start=x")[1] == {"error": "start='x' is not a whole number"}
    status, body, _ = _get(served, "/api/rows?set=nope")
    assert status == 400 and "unknown row set 'nope'" in body["error"]
    status, body, _ = _get(served, "/api/rows?set=failed&verdict=correct")
    assert status == 400 and "does not apply to failed rows" in body["error"]
    status, body, _ = _get(served, "/api/row?set=kept&i=99")
    assert status == 404 and "row 99 is not in the kept rows" in body["error"]


def test_serves_only_its_own_files_to_loopback_hosts(served):
    status, body, headers = _get(served, "/static/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript") and b"synth view" in body
    assert _get(served, "/static/../run.py")[0] == 404
    assert _get(served, "/static/%2e%2e%2fserver.py")[0] == 404
    status, body, _ = _get(served, "/api/overview", host="attacker.example:8765")  # DNS rebinding
    assert status == 403 and "refused" in body["error"]
    assert _get(served, "/", host="localhost")[0] == 200
