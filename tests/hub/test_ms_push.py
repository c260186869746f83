"""`synth push --to modelscope` against the stand-in ModelScope (tests/hub/ms_standin.py), through ModelScope's
own client: what arrives (files, bytes, commit messages, actions), re-pushes, the login cache, every failure."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest
import yaml

from tests.conftest import cli_in_process
from tests.hub.conftest import PROBLEMS, make_run
from tests.hub.push_failures import assert_one_line_error, prepare
from tests.hub.ms_standin import StandInModelScope

pytest.importorskip("modelscope_hub", reason="the `modelscope` extra (pip install 'synth-datagen[modelscope]')")
synth = cli_in_process


@pytest.fixture
def ms(monkeypatch, tmp_path):
    """The stand-in ModelScope, with the client pointed at it through its own settings and no waiting."""
    import modelscope_hub._legacy_api as legacy

    from synth.hub import ms_push

    with StandInModelScope() as server:
        monkeypatch.setenv("MODELSCOPE_ENDPOINT", server.url)
        monkeypatch.setenv("MODELSCOPE_API_TOKEN", "ms-write")
        monkeypatch.setenv("MODELSCOPE_HOME", str(tmp_path / "ms-home"))
        monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms-cache"))
        monkeypatch.setattr(ms_push, "BACKOFF_S", 0.0)
        monkeypatch.setattr(legacy.time, "sleep", lambda s: None)
        yield server


def push(capsys, run, repo, *args):
    return synth(capsys, "push", str(run), "--to", "modelscope", "--repo-id", repo, *args)


def commit_actions(ms, repo):
    return {a["path"]: a for a in ms.head(repo).changes}


def front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("---\n")[1])


def test_first_push_uploads_data_card_config_and_plots_in_one_commit(ms, maths_run, capsys):
    code, out, err = push(capsys, maths_run, "acme/maths", "--private")
    assert code == 0, err
    files = ms.files("acme/maths")
    manifest = json.loads((maths_run / "manifest.json").read_text())
    expected = {}
    for name, subset in manifest["dataset"]["subsets"].items():
        for part in subset["splits"].values():
            for rel in part["files"]:
                base = "data/default/" if name == "default" else f"data/default/{name}/"
                expected[base + rel.split("/")[-1]] = (maths_run / rel).read_bytes()
    for plot in ("lengths", "funnel", "coverage", "s_curve"):
        expected[f"synth/default/plots/{plot}.png"] = (maths_run / "plots" / f"{plot}.png").read_bytes()
    expected["synth/default/config.yaml"] = (maths_run / "config.yaml").read_bytes()
    assert {p: files[p] for p in expected} == expected
    assert set(files) == {*expected, "README.md", ".gitattributes"}
    # one commit on top of the repo's initial one, with this message; the default card replaced
    history = ms.history("acme/maths")
    assert [c.message for c in history] == ["synth: publish run maths as config default", "initial commit"]
    assert ms.repos["acme/maths"].private is True, "--private creates a private repo (Visibility 1)"
    assert ms.repos["acme/maths"].license == "cc-by-4.0"
    # binaries went to LFS (batch + PUT, pointers in the commit); text went inline as base64
    actions = commit_actions(ms, "acme/maths")
    lfs = {p for p, a in actions.items() if a["type"] == "lfs"}
    assert lfs == {p for p in expected if p.endswith((".parquet", ".png"))}
    assert {r["path"].rsplit("/", 1)[-1] for r in ms.requests("PUT", r"^/lfs-upload/")} == \
        {actions[p]["sha256"] for p in lfs}
    assert base64.b64decode(actions["README.md"]["content"]) == files["README.md"]
    assert actions["synth/default/config.yaml"]["type"] == "normal"
    # the card: Hub metadata both hubs read (configs name files that are there) and ModelScope's task block
    card = files["README.md"].decode()
    meta = front_matter(card)
    assert meta["license"] == "cc-by-4.0" and set(meta["language"]) == {"en", "zh"}
    assert meta["text"] == {"text-generation": {"languages": meta["language"]}}
    for config in meta["configs"]:
        for data_files in config["data_files"]:
            assert data_files["path"] and all(path in files for path in data_files["path"])
    assert 'MsDataset.load("acme/maths", subset_name="openrlhf_prm", split="train")' in card
    assert "![funnel](synth/default/plots/funnel.png)" in card
    assert "pushed" in out and "acme/maths@master on ModelScope" in out and "private" in out


def test_the_token_goes_only_into_the_request_headers(ms, maths_run, capsys, tmp_path):
    code, out, err = push(capsys, maths_run, "acme/maths")
    assert code == 0, err
    assert all(b"ms-write" not in content for content in ms.files("acme/maths").values())
    assert all(b"ms-write" not in r["body"] for r in ms.log if not r["path"].startswith("/lfs-upload/"))
    assert {r["auth"] for r in ms.log} == {"Bearer ms-write"}
    assert "ms-write" not in out + err
    for root in (maths_run, tmp_path / "ms-home"):
        assert not [p for p in root.rglob("*") if p.is_file() and b"ms-write" in p.read_bytes()], root


def test_re_push_unchanged_sends_nothing_and_changed_sends_only_the_difference(ms, tmp_path, capsys):
    run = make_run(tmp_path, problems=PROBLEMS[:4], extra={"export": {"formats": ["messages"]}})
    assert push(capsys, run, "acme/r")[0] == 0
    first = ms.files("acme/r")
    sent = len(ms.log)

    code, out, err = push(capsys, run, "acme/r")
    assert code == 0, err
    assert len(ms.history("acme/r")) == 2, "an unchanged run makes no new commit"
    assert not ms.requests("PUT", r"^/lfs-upload/") or all(r in ms.log[:sent] for r in ms.requests("PUT"))
    assert not [r for r in ms.log[sent:] if r["method"] == "POST" and "/commit/" in r["path"]]
    assert "up to date: nothing changed" in out

    # the same run with another filter: other kept rows, so other shard names and another card
    run = make_run(tmp_path, problems=PROBLEMS[:4], extra={"export": {"formats": ["messages"]},
                                                           "filters": [{"name": "length", "max_units": 12}]})
    before = len(ms.log)
    code, out, err = push(capsys, run, "acme/r")
    assert code == 0, err
    now = ms.files("acme/r")
    actions = commit_actions(ms, "acme/r")
    deleted = {p for p, a in actions.items() if a["action"] == "delete"}
    created = {p for p, a in actions.items() if a["action"] == "create"}
    assert deleted and deleted == set(first) - set(now) and all(p.startswith("data/default/") for p in deleted)
    assert created == {p for p in now if now[p] != first.get(p)}, "only what changed is sent"
    assert "synth/default/config.yaml" not in created or now["synth/default/config.yaml"] != \
        first["synth/default/config.yaml"]
    manifest = json.loads((run / "manifest.json").read_text())
    expected = {f"data/default/{f.split('/')[-1]}" for f in
                manifest["dataset"]["subsets"]["default"]["splits"]["train"]["files"]}
    assert {p for p in now if p.startswith("data/default/train-")} == expected
    puts = [r["path"].rsplit("/", 1)[-1] for r in ms.log[before:] if r["method"] == "PUT"]
    stored = {_sha(c) for c in first.values()}  # blobs the repo had: never sent again
    assert sorted(puts) == sorted({a["sha256"] for a in actions.values() if a["type"] == "lfs"
                                   and a["action"] == "create" and a["sha256"] not in stored})
    assert len(ms.history("acme/r")) == 3 and "removed" in out and "unchanged" in out


def _sha(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


def test_another_run_adds_its_own_config_and_leaves_the_first(ms, tmp_path, capsys):
    en = make_run(tmp_path / "en", problems=PROBLEMS[:4], name="en", extra={"export": {"formats": ["messages"]}})
    zh = make_run(tmp_path / "zh", problems=PROBLEMS[4:], name="zh", extra={"export": {"formats": ["messages"]}})
    assert push(capsys, en, "acme/mix")[0] == 0
    before = {p: c for p, c in ms.files("acme/mix").items() if p.startswith(("data/default/", "synth/default/"))}
    code, _, err = push(capsys, zh, "acme/mix", "--config", "zh")
    assert code == 0, err
    files = ms.files("acme/mix")
    assert {p: c for p, c in files.items() if p.startswith(("data/default/", "synth/default/"))} == before
    names = [c["config_name"] for c in front_matter(files["README.md"].decode())["configs"]]
    assert sorted(names) == ["default", "messages", "zh", "zh-messages"]
    code, _, err = push(capsys, zh, "acme/mix", "--config", "messages")
    assert code == 2 and "belongs to a run pushed under another name" in err


def test_a_pushed_repo_downloads_and_loads_through_its_card(ms, maths_run, capsys, tmp_path):
    """What a ModelScope user does: download the repo with the client, load it with `datasets` by the card."""
    import datasets
    from modelscope_hub import HubApi

    assert push(capsys, maths_run, "acme/maths")[0] == 0
    root = HubApi().download_repo("acme/maths", "dataset", local_dir=tmp_path / "dl")
    loaded = datasets.load_dataset(str(root), "default", split="train")
    manifest = json.loads((maths_run / "manifest.json").read_text())
    assert len(loaded) == manifest["dataset"]["subsets"]["default"]["splits"]["train"]["rows"]
    assert len(datasets.load_dataset(str(root), "messages", split="test")) == \
        manifest["dataset"]["subsets"]["messages"]["splits"]["test"]["rows"]


def test_the_modelscope_login_cache_is_used_when_no_token_is_set(ms, maths_run, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("MODELSCOPE_API_TOKEN")
    env = {"MODELSCOPE_ENDPOINT": ms.url, "MODELSCOPE_HOME": str(tmp_path / "ms-home"), "PATH": ""}
    login = subprocess.run([sys.executable, "-c", "from modelscope_hub.cli.main import run_cmd; run_cmd()",
                            "login", "--token", "ms-write"], capture_output=True, text=True, env=env, timeout=120)
    assert login.returncode == 0, login.stderr
    code, out, err = push(capsys, maths_run, "acme/login")
    assert code == 0, err
    assert "README.md" in ms.files("acme/login")
    writes = [r for r in ms.log if r["method"] == "POST" and r["path"].endswith("/commit/master")]
    assert writes and all(r["auth"] == "Bearer ms-write" for r in writes)


def test_5xx_is_retried_then_succeeds(ms, maths_run, capsys):
    ms.fail("POST", r"/commit/master$", 503, times=2)
    code, _, err = push(capsys, maths_run, "acme/flaky")
    assert code == 0, err
    assert [r.get("status") for r in ms.requests("POST", r"/commit/master$")] == [503, 503, 200]
    assert "README.md" in ms.files("acme/flaky")


CASES = {
    "no token": ({"MODELSCOPE_API_TOKEN": None}, None, ["acme/x"], "no ModelScope token: set MODELSCOPE_API_TOKEN"),
    "bad repo id": ({}, None, ["acme/bad name!"], "is not a ModelScope repo id"),
    "no namespace": ({}, None, ["justname"], "names no namespace: use ORG/NAME"),
    "401": ({"MODELSCOPE_API_TOKEN": "ms-unknown"}, None, ["acme/x"], "rejected the token (401 Unauthorized"),
    "403 namespace": ({}, None, ["someone-else/x"], "may not write to someone-else/x (403 Forbidden"),
    "403 read token": ({"MODELSCOPE_API_TOKEN": "ms-read"}, None, ["acme/x"], "may not write to acme/x (403"),
    "404": ({}, lambda ms: ms.fail("POST", r"/commit/", 404), ["acme/x"],
            "has no acme/x at revision 'master' (404 Not Found"),
    "404 revision": ({}, None, ["acme/x", "--revision", "dev"], "has no acme/x at revision 'dev' (404"),
    "500": ({}, lambda ms: ms.fail("POST", r"/commit/master$", 500), ["acme/x"],
            "failed to commit with 500 after 4 attempts"),
    "no license": ({}, None, ["acme/x", "--license", ""], "has no license"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_failures_are_one_line_and_exit_2(ms, maths_run, tmp_path, capsys, monkeypatch, case):
    env, fault, args, message = CASES[case]
    run = prepare(monkeypatch, tmp_path, maths_run, env, case)
    if fault:
        fault(ms)
    code, out, err = push(capsys, run, args[0], *args[1:])
    assert_one_line_error(code, err, message)
    assert "ms-write" not in out + err and "ms-unknown" not in err and "ms-read" not in err
    if case == "500":
        assert len(ms.requests("POST", r"/commit/master$")) == 4
        assert [c.message for c in ms.history("acme/x")] == ["initial commit"], "nothing half-published"
    if case in ("no token", "bad repo id", "no namespace", "no license"):
        assert not ms.log, "refused before any request"


def test_unreachable_modelscope_is_retried_then_one_line(ms, maths_run, capsys):
    ms.down()
    code, _, err = push(capsys, maths_run, "acme/x")
    assert code == 2 and err.startswith(f"error: cannot reach ModelScope at {ms.url}") and "4 attempts" in err
    assert len(err.strip().splitlines()) == 1


def test_without_the_client_installed_the_message_says_how_to_install(ms, maths_run, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "modelscope_hub", None)
    code, _, err = push(capsys, maths_run, "acme/x")
    assert code == 2 and "pip install 'synth-datagen[modelscope]'" in err and len(err.strip().splitlines()) == 1
