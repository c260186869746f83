"""`synth push` against the stand-in Hub: what arrives, re-pushes, other runs beside it, and every failure."""

from __future__ import annotations

import json

import pytest

from tests.conftest import cli_in_process
from tests.hub.conftest import PROBLEMS, make_run
from tests.hub.push_failures import assert_one_line_error, prepare

synth = cli_in_process


def card_meta(hub, repo):
    from huggingface_hub import DatasetCard

    return DatasetCard(hub.files(repo)["README.md"].decode())


def test_push_uploads_data_card_config_and_plots_in_one_commit(hub, maths_run, capsys):
    code, out, err = synth(capsys, "push", str(maths_run), "--repo-id", "acme/maths", "--private")
    assert code == 0, err
    files = hub.files("acme/maths")
    manifest = json.loads((maths_run / "manifest.json").read_text())
    for name, subset in manifest["dataset"]["subsets"].items():
        for part in subset["splits"].values():
            for rel in part["files"]:
                remote = f"data/default/{rel.split('/')[-1]}" if name == "default" else \
                    f"data/default/{name}/{rel.split('/')[-1]}"
                assert files[remote] == (maths_run / rel).read_bytes(), remote
    for plot in ("lengths", "funnel", "coverage", "s_curve"):
        assert files[f"synth/default/plots/{plot}.png"] == (maths_run / "plots" / f"{plot}.png").read_bytes()
    assert files["synth/default/config.yaml"] == (maths_run / "config.yaml").read_bytes()
    assert hub.repos["acme/maths"].private is True
    assert [c.message for c in hub.history("acme/maths")] == ["synth: publish run maths as config default",
                                                              "initial commit"]
    card = card_meta(hub, "acme/maths")
    assert card.data.license == "cc-by-4.0" and set(card.data.language) == {"en", "zh"}
    for config in card.data.configs:  # every file the metadata names is in the repo
        for data_files in config["data_files"]:
            assert data_files["path"] and all(path in files for path in data_files["path"])
    assert 'load_dataset("acme/maths", "openrlhf_prm")' in card.text
    assert "![funnel](synth/default/plots/funnel.png)" in card.text
    lfs = [r["path"] for r in hub.requests("PUT", r"^/lfs-upload/")]
    assert len(lfs) == sum(p.endswith((".parquet", ".png")) for p in files), "binary files go through git-LFS"
    assert "private" in out and "acme/maths" in out


def test_the_token_goes_only_into_the_authorization_header(hub, maths_run, capsys):
    code, _, err = synth(capsys, "push", str(maths_run), "--repo-id", "acme/maths")
    assert code == 0, err
    assert all(b"hf_write" not in content for content in hub.files("acme/maths").values())
    assert all(b"hf_write" not in r["body"] for r in hub.log)
    assert {r["auth"] for r in hub.log if r["path"].startswith("/api/")} == {"Bearer hf_write"}
    assert not [p for p in maths_run.rglob("*") if p.is_file() and p.suffix in (".json", ".yaml", ".md", ".jsonl")
                and "hf_write" in p.read_text(errors="ignore")]


def test_re_push_updates_in_place_and_removes_stale_shards_in_the_same_commit(hub, tmp_path, capsys):
    run = make_run(tmp_path, problems=PROBLEMS[:4], extra={"export": {"formats": ["messages"]}})
    assert synth(capsys, "push", str(run), "--repo-id", "acme/r")[0] == 0
    first = set(hub.files("acme/r"))
    assert synth(capsys, "push", str(run), "--repo-id", "acme/r")[0] == 0
    assert len(hub.history("acme/r")) == 2, "an unchanged run makes no new commit"
    # the same run with another filter: different kept rows, so different shard names
    run = make_run(tmp_path, problems=PROBLEMS[:4], extra={"export": {"formats": ["messages"]},
                                                           "filters": [{"name": "length", "max_units": 12}]})
    code, out, err = synth(capsys, "push", str(run), "--repo-id", "acme/r")
    assert code == 0, err
    now = set(hub.files("acme/r"))
    head = hub.head("acme/r")
    deleted = {op["value"]["path"] for op in head.changes if op["key"] == "deletedFile"}
    assert deleted and deleted == first - now and all(p.startswith("data/default/") for p in deleted)
    manifest = json.loads((run / "manifest.json").read_text())
    expected = {f"data/default/{f.split('/')[-1]}" for f in
                manifest["dataset"]["subsets"]["default"]["splits"]["train"]["files"]}
    assert {p for p in now if p.startswith("data/default/train-")} == expected
    assert len(hub.history("acme/r")) == 3 and "removed" in out


def test_another_run_adds_its_own_config_and_leaves_the_first(hub, tmp_path, capsys):
    en = make_run(tmp_path / "en", problems=PROBLEMS[:4], name="en", extra={"export": {"formats": ["messages"]}})
    zh = make_run(tmp_path / "zh", problems=PROBLEMS[4:], name="zh", extra={"export": {"formats": ["messages"]}})
    assert synth(capsys, "push", str(en), "--repo-id", "acme/mix")[0] == 0
    before = {p: c for p, c in hub.files("acme/mix").items() if p.startswith(("data/default/", "synth/default/"))}
    code, _, err = synth(capsys, "push", str(zh), "--repo-id", "acme/mix", "--config", "zh")
    assert code == 0, err
    files = hub.files("acme/mix")
    assert {p: c for p, c in files.items() if p.startswith(("data/default/", "synth/default/"))} == before
    names = [c["config_name"] for c in card_meta(hub, "acme/mix").data.configs]
    assert sorted(names) == ["default", "messages", "zh", "zh-messages"]
    # pushing the zh run under a name another run uses is refused before anything is sent
    code, _, err = synth(capsys, "push", str(zh), "--repo-id", "acme/mix", "--config", "messages")
    assert code == 2 and "belongs to a run pushed under another name" in err


def test_push_to_a_branch(hub, tmp_path, capsys):
    run = make_run(tmp_path, problems=PROBLEMS[:2], extra={"export": {"formats": []}})
    code, _, err = synth(capsys, "push", str(run), "--repo-id", "me/b", "--revision", "dev", "-m", "try it")
    assert code == 0, err
    assert hub.head("me/b", "dev").message == "try it" and "README.md" not in hub.files("me/b", "main")


def test_5xx_is_retried_then_succeeds(hub, maths_run, capsys):
    hub.fail("POST", r"/commit/main$", 503, times=2)
    code, _, err = synth(capsys, "push", str(maths_run), "--repo-id", "acme/flaky")
    assert code == 0, err
    assert [r.get("status") for r in hub.requests("POST", r"/commit/main$")] == [503, 503, 200]
    assert "README.md" in hub.files("acme/flaky")


def fail_commit_with(status):
    return lambda hub: hub.fail("POST", r"/commit/main$", status)


CASES = {
    "no token": ({"HF_TOKEN": None}, None, ["acme/x"], "no Hugging Face token: set HF_TOKEN"),
    "bad repo id": ({}, None, ["acme/bad name!"], "is not a Hub repo id"),
    "no namespace": ({}, None, ["justname"], "names no namespace: use ORG/NAME"),
    "401": ({"HF_TOKEN": "hf_unknown"}, None, ["acme/x"], "rejected the token (401 Unauthorized"),
    "403": ({}, None, ["someone-else/x"], "may not write to someone-else/x (403 Forbidden"),
    "404": ({}, lambda hub: hub.fail("POST", r"/preupload/", 404, headers={"X-Error-Code": "RepoNotFound"}),
            ["acme/x"], "(404 Not Found"),
    "500": ({}, fail_commit_with(500), ["acme/x"], "failed to commit with 500 after 4 attempts"),
    "no license": ({}, None, ["acme/x", "--license", ""], "has no license"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_failures_are_one_line_and_exit_2(hub, maths_run, tmp_path, capsys, monkeypatch, case):
    env, fault, args, message = CASES[case]
    monkeypatch.setenv("HF_HOME", str(tmp_path / "no-login"))  # no cached login to fall back on
    run = prepare(monkeypatch, tmp_path, maths_run, env, case)
    if fault:
        fault(hub)
    code, _, err = synth(capsys, "push", str(run), "--repo-id", args[0], *args[1:])
    assert_one_line_error(code, err, message)
    assert "hf_write" not in err and "hf_unknown" not in err
    if case == "500":
        assert len(hub.requests("POST", r"/commit/main$")) == 4
        assert set(hub.files("acme/x")) == {".gitattributes"}, "nothing half-published"


def test_unreachable_hub_is_retried_then_one_line(hub, maths_run, capsys, monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    code, _, err = synth(capsys, "push", str(maths_run), "--repo-id", "acme/x")
    assert code == 2 and err.startswith("error: cannot reach the Hub at http://127.0.0.1:9") and "4 attempts" in err
    assert len(err.strip().splitlines()) == 1


def test_pushing_a_folder_that_is_not_a_run_is_one_line(hub, tmp_path, capsys):
    code, _, err = synth(capsys, "push", str(tmp_path), "--repo-id", "acme/x")
    assert code == 2 and "is not a run directory" in err and not hub.log
