"""`seeds: hf://ORG/NAME[:split]` and `seeds: ms://ORG/NAME[:split]`: `synth run` (a subprocess, as a user
runs it) streaming seed rows from the stand-in Hub (HF_ENDPOINT) and the stand-in ModelScope
(MODELSCOPE_ENDPOINT), then, with both out of reach, from the local caches; and one line for a missing
dataset, split or field, or a hub out of reach with nothing cached."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import synth_cli, write_config
from tests.hub.ms_standin import StandInModelScope

TRAIN = [{"instruction": f"用一句话解释：第{i}条规定的要点是什么？", "n": i} for i in range(5)]
TEST = [{"instruction": f"Explain rule {i} in one sentence.", "n": i} for i in range(3)]
CARD = """---
license: apache-2.0
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-00000-of-00001.parquet
  - split: test
    path: data/test-00000-of-00001.parquet
---

# seeds
"""


def answer(kind: str, body: dict) -> str:
    return "A short answer."


def dataset_folder(root):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(TRAIN), root / "data" / "train-00000-of-00001.parquet")
    pq.write_table(pa.Table.from_pylist(TEST), root / "data" / "test-00000-of-00001.parquet")
    (root / "README.md").write_text(CARD, encoding="utf-8")
    return root


def run(tmp_path, seeds: str, env: dict, name: str = "hubseeds", field: str | None = None):
    """`synth run` of `instruct` over `seeds` against a scripted server: (process, run dir)."""
    from tests.servers import ScriptedServer

    options = {"field": field} if field else {}
    cfg = write_config(tmp_path / f"{name}.yaml", name=name, recipe="instruct", seeds=seeds, options=options,
                       sampling={"max_tokens": 16}, license="apache-2.0")
    out = tmp_path / "runs" / name
    with ScriptedServer(answer) as server:
        proc = synth_cli("run", str(cfg), "--base-url", server.base_url, "--out", str(out), "-q", env=env)
    return proc, out


def seeds_used(out) -> list[str]:
    import pyarrow.parquet as pq

    manifest = json.loads((out / "manifest.json").read_text())
    rows = [r for f in manifest["dataset"]["subsets"]["default"]["splits"]["train"]["files"]
            for r in pq.read_table(out / f).to_pylist()]
    return sorted(r["instruction"] for r in rows)


def one_line(proc, *needles):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# -- hf:// ------------------------------------------------------------------------------------------
@pytest.fixture
def hf_seeds(hub, tmp_path):
    """acme/seeds on the stand-in Hub (train 5 Chinese rows, test 3 English), and a client env for it."""
    from huggingface_hub import HfApi

    api = HfApi(token="hf_write")
    api.create_repo("acme/seeds", repo_type="dataset")
    api.upload_folder(repo_id="acme/seeds", repo_type="dataset", folder_path=dataset_folder(tmp_path / "repo"))
    env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_DISABLE_XET": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "HF_TOKEN": "hf_write", "HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0"}
    return hub, env


def test_hf_seeds_stream_from_the_hub_named_by_hf_endpoint(hf_seeds, tmp_path):
    hub, env = hf_seeds
    proc, out = run(tmp_path, "hf://acme/seeds:test", env)
    assert proc.returncode == 0, proc.stderr
    assert seeds_used(out) == sorted(r["instruction"] for r in TEST)
    assert json.loads((out / "manifest.json").read_text())["seeds"]["source"] == "hf://acme/seeds:test"
    assert hub.requests("GET", r"/datasets/acme/seeds/resolve/.*test-00000-of-00001\.parquet$"), \
        "the rows came from the stand-in"
    # the default split is train, and --seeds names a hub dataset as well
    proc, out = run(tmp_path, "seeds.jsonl", env, name="cli")
    assert proc.returncode == 2  # the config's file does not exist...
    cfg = tmp_path / "cli.yaml"
    from tests.servers import ScriptedServer

    with ScriptedServer(answer) as server:
        proc = synth_cli("run", str(cfg), "--seeds", "hf://acme/seeds", "--base-url", server.base_url,
                         "--out", str(tmp_path / "runs" / "cli"), "-q", env=env)
    assert proc.returncode == 0, proc.stderr  # ...but --seeds replaces it
    assert seeds_used(tmp_path / "runs" / "cli") == sorted(r["instruction"] for r in TRAIN)


def test_hf_seeds_offline_from_the_datasets_cache(hf_seeds, tmp_path):
    hub, env = hf_seeds
    import subprocess
    import sys

    fill = subprocess.run([sys.executable, "-c", "import datasets; datasets.load_dataset('acme/seeds')"],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert fill.returncode == 0, fill.stderr
    offline = {**env, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    before = len(hub.log)
    proc, out = run(tmp_path, "hf://acme/seeds:train", offline)
    assert proc.returncode == 0, proc.stderr
    assert seeds_used(out) == sorted(r["instruction"] for r in TRAIN)
    assert len(hub.log) == before, "nothing asked of the Hub"


def test_hf_seeds_offline_from_the_hub_file_cache(hf_seeds, tmp_path):
    """What `hf download --repo-type dataset acme/seeds` leaves in HF_HOME, read with the Hub out of reach."""
    hub, env = hf_seeds
    import subprocess
    import sys

    fill = subprocess.run([sys.executable, "-c", "from huggingface_hub import snapshot_download; "
                           "snapshot_download('acme/seeds', repo_type='dataset')"],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert fill.returncode == 0, fill.stderr
    assert not (tmp_path / "hf-home" / "datasets").exists() or not any((tmp_path / "hf-home" / "datasets").rglob("*.arrow"))
    unreachable = {**env, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "1"}
    proc, out = run(tmp_path, "hf://acme/seeds:test", unreachable)
    assert proc.returncode == 0, proc.stderr
    assert seeds_used(out) == sorted(r["instruction"] for r in TEST)


@pytest.mark.parametrize("case", ["dataset", "split", "field", "offline"])
def test_hf_seeds_errors_are_one_line(hf_seeds, tmp_path, case):
    hub, env = hf_seeds
    seeds, field, needles = {
        "dataset": ("hf://acme/nothing", None, ["hf://acme/nothing:train", "no dataset acme/nothing"]),
        "split": ("hf://acme/seeds:validation", None, ["no split 'validation'", "train", "test"]),
        "field": ("hf://acme/seeds", "question", ["hf://acme/seeds:train: row 1 has no 'question' field"]),
        "offline": ("hf://acme/seeds", None, ["offline mode is on", "not in the local caches"]),
    }[case]
    if case == "offline":
        env = {**env, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc, out = run(tmp_path, seeds, env, field=field)
    one_line(proc, *needles)
    assert not out.exists(), "nothing written"


# -- ms:// ------------------------------------------------------------------------------------------
@pytest.fixture
def ms_seeds(tmp_path):
    """acme/seeds on the stand-in ModelScope, uploaded with ModelScope's own client, and a client env."""
    pytest.importorskip("modelscope_hub", reason="the `modelscope` extra")
    from modelscope_hub import HubApi, HubConfig

    with StandInModelScope() as ms:
        api = HubApi(config=HubConfig(endpoint=ms.url, token="ms-write", config_dir=tmp_path / "up-home",
                                      cache_dir=tmp_path / "up-cache"))
        api.create_repo("acme/seeds", "dataset")
        api.upload_folder("acme/seeds", "dataset", dataset_folder(tmp_path / "repo"), use_cache=False,
                          disable_tqdm=True)
        env = {"MODELSCOPE_ENDPOINT": ms.url, "MODELSCOPE_CACHE": str(tmp_path / "ms-cache"),
               "MODELSCOPE_HOME": str(tmp_path / "ms-home"), "MODELSCOPE_API_TOKEN": ""}
        yield ms, env


def test_ms_seeds_through_modelscopes_client_then_from_its_cache(ms_seeds, tmp_path):
    ms, env = ms_seeds
    proc, out = run(tmp_path, "ms://acme/seeds:train", env)
    assert proc.returncode == 0, proc.stderr
    assert seeds_used(out) == sorted(r["instruction"] for r in TRAIN)
    got = {r["query"]["FilePath"][0] for r in ms.requests("GET", r"^/api/v1/datasets/acme/seeds/repo$")}
    assert got == {"README.md", "data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"}
    assert (tmp_path / "ms-cache" / "datasets" / "acme--seeds").is_dir(), "kept in ModelScope's cache"
    ms.down()  # ModelScope out of reach: the cached copy is read
    proc, out = run(tmp_path, "ms://acme/seeds:test", env, name="cached")
    assert proc.returncode == 0, proc.stderr
    assert seeds_used(out) == sorted(r["instruction"] for r in TEST)


@pytest.mark.parametrize("case", ["dataset", "split", "field", "unreachable"])
def test_ms_seeds_errors_are_one_line(ms_seeds, tmp_path, case):
    ms, env = ms_seeds
    seeds, field, needles = {
        "dataset": ("ms://acme/nothing", None, ["ms://acme/nothing:train", "no dataset acme/nothing on ModelScope"]),
        "split": ("ms://acme/seeds:dev", None, ["no split 'dev' in acme/seeds (it has train, test)"]),
        "field": ("ms://acme/seeds", "question", ["ms://acme/seeds:train: row 1 has no 'question' field"]),
        "unreachable": ("ms://acme/seeds", None, ["cannot be reached", "not in the local cache (MODELSCOPE_CACHE)"]),
    }[case]
    if case == "unreachable":
        ms.down()
    proc, out = run(tmp_path, seeds, env, field=field)
    one_line(proc, *needles)
    assert not out.exists(), "nothing written"
