"""Publish a run directory to the Hugging Face Hub in one commit (`synth push`).

Repo layout: a run pushed as config ``C`` (default ``default``) owns ``data/C/`` and ``synth/C/``::

    data/C/<split>-*.parquet        config C (``default``: what ``load_dataset(repo)`` loads): kept records
    data/C/<subset>/<split>-*.parquet   config ``<subset>`` (for C = default) or ``C-<subset>``: rejected, exports
    synth/C/config.yaml, synth/C/plots/*.png
    README.md                       the card: this run's numbers, every config of the repo in its metadata

Re-pushing replaces what ``C`` owns (stale shards deleted in the same commit); other runs' configs, pushed
under other names, stay. The card's ``configs`` are rebuilt from the files the repo holds after the
commit, so they never name a file that is not there. The token comes from ``HF_TOKEN`` or the login
cache and goes only into the Authorization header.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.errors import ConfigError, InputError, SynthError
from synth.hub.calls import Hub, HubCaller
from synth.hub.card import read_fields, read_samples, render_card

ATTEMPTS = 4        # tries of each Hub call on 5xx / 429 / connection errors
BACKOFF_S = 2.0     # first wait; doubles after each failure
CONFIG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SHARD = re.compile(r"^(?P<split>[a-z][a-z0-9_]*)-\d{5}-of-\d{5}(-[0-9a-f]+)?\.parquet$")


class PushError(SynthError):
    """The Hub refused or failed the push; the message says what to change."""


@dataclass
class PushResult:
    repo_id: str
    revision: str
    commit_url: str | None
    uploaded: list[str]
    deleted: list[str]
    configs: list[str]
    private: bool | None
    notes: list[str] = field(default_factory=list)


def subset_config(owner: str, subset: str) -> str:
    """The published config name of one subset of a run pushed as `owner`.

    >>> subset_config("default", "default"), subset_config("default", "dpo"), subset_config("zh", "dpo")
    ('default', 'dpo', 'zh-dpo')
    """
    if subset == "default":
        return owner
    return subset if owner == "default" else f"{owner}-{subset}"


def remote_path(owner: str, subset: str, file_name: str) -> str:
    return f"data/{owner}/{file_name}" if subset == "default" else f"data/{owner}/{subset}/{file_name}"


def parse_data_path(path: str) -> tuple[str, str, str] | None:
    """(owner, config name, split) of a shard path in synth's repo layout, else None.

    >>> parse_data_path("data/zh/dpo/test-00000-of-00001-ab12.parquet")
    ('zh', 'zh-dpo', 'test')
    >>> parse_data_path("data/default/train-00000-of-00001.parquet"), parse_data_path("README.md")
    (('default', 'default', 'train'), None)
    """
    parts = path.split("/")
    if parts[0] != "data" or len(parts) not in (3, 4):
        return None
    m = SHARD.match(parts[-1])
    if not m:
        return None
    owner = parts[1]
    return owner, subset_config(owner, parts[2] if len(parts) == 4 else "default"), m["split"]


def configs_from_paths(paths: list[str]) -> dict[str, dict]:
    """{config name: {config_name, owner, data_files}} for every shard among `paths`, in a stable order."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(paths):
        parsed = parse_data_path(path)
        if parsed is None:
            continue
        owner, name, split = parsed
        entry = found.setdefault(name, {"config_name": name, "owner": owner, "splits": {}})
        entry["splits"].setdefault(split, []).append(path)
    return {name: {"config_name": name, "owner": e["owner"],
                   "data_files": [{"split": s, "path": p} for s, p in sorted(e["splits"].items(),
                                                                         key=lambda kv: (kv[0] != "train", kv[0]))]}
            for name, e in found.items()}


def read_run(run_dir: Path) -> dict[str, Any]:
    """The manifest of a finished run directory, or InputError saying what is missing."""
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.exists():
        raise InputError(f"{run_dir} is not a run directory (no manifest.json): pass the folder `synth run` wrote, "
                         "e.g. runs/quickstart")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, not JSON
        raise InputError(f"{manifest_path} cannot be read ({type(exc).__name__}): re-run `synth run CONFIG` to "
                         "rewrite it") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{manifest_path} is not a run manifest: re-run `synth run CONFIG` to rewrite it")
    if "dataset" not in manifest:
        raise InputError(f"{run_dir} has no finished dataset: run `synth run CONFIG` to the end first "
                         "(re-running it rewrites the dataset without sending requests again)")
    for subset in manifest["dataset"]["subsets"].values():
        for part in subset["splits"].values():
            for rel in part["files"]:
                if not (run_dir / rel).exists():
                    raise InputError(f"{run_dir / rel} is missing: re-run `synth run CONFIG` to rewrite the dataset")
    return manifest


def check_repo_id(repo_id: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ConfigError(f"--repo-id {repo_id!r} is not a Hub repo id ({str(exc).splitlines()[0]}): "
                          "use ORG/NAME, e.g. acme/gsm8k-process") from None
    if repo_id.count("/") != 1:
        raise ConfigError(f"--repo-id {repo_id!r} names no namespace: use ORG/NAME (your user name or an "
                          "organisation), e.g. acme/gsm8k-process")


def plan(run_dir: Path, manifest: dict, owner: str) -> tuple[dict[str, Path], list[dict], dict[str, str]]:
    """What this run uploads: {repo path: local file}, its configs (with repo paths), {plot: repo path}."""
    uploads: dict[str, Path] = {}
    configs = []
    for subset, info in manifest["dataset"]["subsets"].items():
        files = {}
        for split, part in info["splits"].items():
            files[split] = [remote_path(owner, subset, Path(rel).name) for rel in part["files"]]
            uploads.update({remote: run_dir / rel for remote, rel in zip(files[split], part["files"])})
        configs.append({"config_name": subset_config(owner, subset), "subset": subset,
                        "data_files": [{"split": s, "path": p} for s, p in files.items()],
                        "rows": {split: part["rows"] for split, part in info["splits"].items()}})
    plots = {}
    for name, file_name in manifest["dataset"].get("plots", {}).items():
        plots[name] = f"synth/{owner}/plots/{file_name}"
        uploads[plots[name]] = run_dir / "plots" / file_name
    if (run_dir / "config.yaml").exists():
        uploads[f"synth/{owner}/config.yaml"] = run_dir / "config.yaml"
    return uploads, configs, plots


def push(run_dir: str | os.PathLike, repo_id: str, *, private: bool = False, revision: str | None = None,
         message: str | None = None, config_name: str = "default", license: str | None = None,
         token: str | None = None) -> PushResult:
    """Upload a run's data shards, card, config and plots to a dataset repo in one commit."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants, get_token
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()  # one bar per file drowns the one line that matters; the CLI shows a status

    run_dir = Path(run_dir)
    manifest = read_run(run_dir)
    check_repo_id(repo_id)
    if not CONFIG_NAME.match(config_name):
        raise ConfigError(f"--config {config_name!r}: use letters, digits, '.', '_' or '-' (e.g. zh, v2)")
    license = license or manifest.get("license")
    if not license:
        raise ConfigError(f"{run_dir} has no license, and the Hub card needs one: add `license: apache-2.0` (or "
                          "another Hub license id) to the run config and re-run it (nothing is generated again), "
                          "or pass --license")
    token = token or get_token()
    if not token:
        raise ConfigError("no Hugging Face token: set HF_TOKEN to a token with write access "
                          "(https://huggingface.co/settings/tokens) or run `hf auth login`")
    endpoint = constants.ENDPOINT
    api = HfApi(token=token)
    branch = revision or "main"
    call = HubCaller(HF_HUB, endpoint, repo_id, branch, token, attempts=ATTEMPTS, backoff_s=BACKOFF_S,
                     refuse=_refused)
    notes: list[str] = []

    call("create the repo", lambda: api.create_repo(repo_id, repo_type="dataset", private=True if private else None,
                                                    exist_ok=True))
    if branch != "main":
        call("create the branch", lambda: api.create_branch(repo_id, branch=branch, repo_type="dataset", exist_ok=True))
    info = call("read the repo", lambda: api.repo_info(repo_id, repo_type="dataset", revision=branch))
    if private and info.private is False:
        notes.append(f"{repo_id} already exists and is public: --private does not change an existing repo "
                     "(change its visibility in the repo's settings)")
    remote = [s.rfilename for s in (info.siblings or [])]

    uploads, configs, plots = plan(run_dir, manifest, config_name)
    owned = (f"data/{config_name}/", f"synth/{config_name}/")
    deleted = sorted(p for p in remote if p.startswith(owned) and p not in uploads)
    kept_remote = [p for p in remote if p not in deleted and not p.startswith(owned)]
    others = [c for c in configs_from_paths(kept_remote).values() if c["owner"] != config_name]
    clash = {c["config_name"] for c in configs} & {c["config_name"] for c in others}
    if clash:
        raise ConfigError(f"config {sorted(clash)[0]!r} in {repo_id} belongs to a run pushed under another name: "
                          f"push this run with another --config")
    first = _first(manifest)
    card = render_card(manifest, load_path=repo_id, configs=configs, plots=plots, license=license,
                       samples=read_samples(run_dir / first, manifest["dataset"].get("sample_rows", 3)) if first else [],
                       fields=read_fields(run_dir / first) if first else {},
                       other_configs=[{"config_name": c["config_name"], "data_files": c["data_files"]} for c in others])

    def commit():
        ops = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(local)) for path, local in sorted(uploads.items())]
        ops.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card.encode("utf-8")))
        ops += [CommitOperationDelete(path_in_repo=path) for path in deleted]
        return api.create_commit(repo_id, ops, repo_type="dataset", revision=branch, parent_commit=info.sha,
                                 commit_message=message or f"synth: publish run {manifest['name']} as config {config_name}")

    result = call("commit", commit)
    return PushResult(repo_id, branch, getattr(result, "commit_url", None), sorted([*uploads, "README.md"]), deleted,
                      [c["config_name"] for c in configs] + [c["config_name"] for c in others], info.private, notes)


def _first(manifest: dict) -> str | None:
    for part in manifest["dataset"]["subsets"].get("default", {}).get("splits", {}).values():
        if part["files"]:
            return part["files"][0]
    return None


def _refused(what: str, repo_id: str, exc: Exception) -> PushError | None:
    """A commit the Hub answers with a ValueError (e.g. card metadata refused) is explained, not raised."""
    if isinstance(exc, ValueError) and what == "commit":
        return PushError(f"the Hub refused to {what} for {repo_id}: {' '.join(str(exc).split())[:300]}")
    return None


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _server_message(exc: Exception) -> str:
    text = getattr(exc, "server_message", None) or ""
    return " ".join(str(text).split())[:200]


def _transport_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module, name in (("httpx2", "TransportError"), ("httpx", "TransportError"),
                         ("requests", "ConnectionError"), ("requests", "Timeout")):
        try:
            found.append(getattr(__import__(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _retryable(exc: Exception) -> bool | None:
    """True: retry (5xx, 408, 429, connection); False: a Hub answer to explain; None: not a Hub error."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError):
        status = _status(exc)
        return status is not None and (status >= 500 or status in (408, 429))
    if isinstance(exc, _transport_errors()):
        return True
    return None


HF_HUB = Hub(name="the Hub", endpoint_env="HF_ENDPOINT", token_env="HF_TOKEN", login="hf auth login", error=PushError,
             retryable=_retryable, status=_status, server_message=_server_message,
             write_hint=" (fine-grained tokens need write permission on it)")
