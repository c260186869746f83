"""Publish a run directory to ModelScope (`synth push RUN --to modelscope`) in one commit.

The same files as the Hugging Face push (synth.hub.push), in the same repo layout (data/C/, synth/C/,
README.md), through ModelScope's own client (`modelscope_hub`, the hub client of `modelscope`: the
`modelscope` extra). It speaks ModelScope's dataset API the way the client's own ``upload_folder`` does:

1. ``POST /api/v1/datasets`` (create; "already exists" is fine),
2. ``GET /api/v1/datasets/ORG/NAME/repo/tree`` (what the repo holds, with each file's sha256),
3. ``POST /api/v1/repos/datasets/ORG/NAME/info/lfs/objects/batch`` and ``PUT`` of each new LFS blob
   (parquet and PNG, and anything over 64 KiB, as the client decides),
4. one ``POST /api/v1/repos/datasets/ORG/NAME/commit/REVISION`` with every changed file (``create``:
   LFS pointers and inline base64 text) and every stale shard of this config (``delete``).

Unlike ``upload_folder`` (which commits additions and deletions separately and re-sends files it has
not recorded locally) this sends only files whose sha256 differs from the repo's, and nothing at all
when nothing changed; deletions land in the same commit as the files that replace them. The token
comes from ``MODELSCOPE_API_TOKEN`` or the `modelscope login` cache and goes only into the request
headers the client sets (``Authorization`` and the ``m_session_id`` cookie).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from synth.errors import ConfigError, SynthError
from synth.hub import push as hf
from synth.hub.calls import Hub, HubCaller
from synth.hub.card import read_fields, read_samples, render_card

ATTEMPTS = 4        # tries of each ModelScope call on 5xx / 429 / connection errors
BACKOFF_S = 2.0     # first wait; doubles after each failure
DEFAULT_REVISION = "master"  # ModelScope's default branch
REPO_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
INSTALL = "pip install 'synth-datagen[modelscope]'"


class ModelScopePushError(SynthError):
    """ModelScope refused or failed the push; the message says what to change."""


@dataclass
class ModelScopePushResult(hf.PushResult):
    unchanged: list[str] = field(default_factory=list)
    committed: bool = True
    page_url: str | None = None


def check_repo_id(repo_id: str) -> None:
    """ORG/NAME with letters, digits, '-', '_' and '.' (ModelScope's owner and dataset names)."""
    if "/" not in repo_id or not repo_id.split("/")[0]:
        if REPO_PART.match(repo_id):
            raise ConfigError(f"--repo-id {repo_id!r} names no namespace: use ORG/NAME (your ModelScope user name "
                              "or an organisation), e.g. acme/gsm8k-process")
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(REPO_PART.match(p) for p in parts) or ".." in repo_id:
        raise ConfigError(f"--repo-id {repo_id!r} is not a ModelScope repo id (ORG/NAME of letters, digits, '-', "
                          "'_' and '.'): use ORG/NAME, e.g. acme/gsm8k-process")


def is_lfs(path: str, size: int) -> bool:
    """Whether ModelScope's client uploads `path` as an LFS blob (the rule of its upload_folder): never the
    files the Hub parses (README.md, .gitattributes, ...), always files over the force threshold (64 KiB),
    else by suffix (.parquet, .png, .jsonl, ...)."""
    from modelscope_hub import constants

    if Path(path).name.upper() in {n.upper() for n in constants.UPLOAD_INLINE_METADATA_PATHS}:
        return False
    if size > constants.UPLOAD_LFS_FORCE_THRESHOLD_BYTES:
        return True
    return Path(path).suffix.lower() in constants.DATASET_LFS_SUFFIX


def client(token: str | None = None):
    """ModelScope's client configured from the environment: MODELSCOPE_ENDPOINT, MODELSCOPE_API_TOKEN or
    the `modelscope login` cache (MODELSCOPE_HOME), with its own transport retries off (synth retries each
    call, as for the Hugging Face push) and its progress logging quiet."""
    try:
        from modelscope_hub import HubApi, HubConfig
        from modelscope_hub._legacy_api import LegacyClient
        from modelscope_hub.utils import build_user_agent
    except ImportError:
        raise ConfigError(f"ModelScope's client is not installed: {INSTALL}") from None
    if not os.environ.get("MODELSCOPE_LOG_LEVEL"):
        logging.getLogger("modelscope_hub").setLevel(logging.ERROR)  # its retries and progress: synth says what failed
    config = HubConfig(token=token) if token else HubConfig()  # read now, not at import: env and login
    api = HubApi(config=config)
    # what modelscope.hub.api.HubApi(max_retries=...) does to make its setting reach the wire
    api._legacy = LegacyClient(token=config.token, endpoint=config.endpoint, max_retries=0,
                               user_agent=build_user_agent(config=config, extra={"invoked_by": "synth"}))
    return api, config


def push(run_dir: str | os.PathLike, repo_id: str, *, private: bool = False, revision: str | None = None,
         message: str | None = None, config_name: str = "default", license: str | None = None,
         token: str | None = None) -> ModelScopePushResult:
    """Upload a run's data shards, card, config and plots to a ModelScope dataset repo in one commit."""
    run_dir = Path(run_dir)
    manifest = hf.read_run(run_dir)
    check_repo_id(repo_id)
    if not hf.CONFIG_NAME.match(config_name):
        raise ConfigError(f"--config {config_name!r}: use letters, digits, '.', '_' or '-' (e.g. zh, v2)")
    license = license or manifest.get("license")
    if not license:
        raise ConfigError(f"{run_dir} has no license, and the dataset card needs one: add `license: apache-2.0` "
                          "(or another license id) to the run config and re-run it (nothing is generated again), "
                          "or pass --license")
    api, config = client(token)
    if not config.token:
        raise ConfigError("no ModelScope token: set MODELSCOPE_API_TOKEN to a token with write access "
                          "(https://modelscope.cn/my/myaccesstoken) or run `modelscope login --token TOKEN`")
    from modelscope_hub.errors import AlreadyExistsError as Exists

    branch = revision or DEFAULT_REVISION
    call = HubCaller(MODELSCOPE, config.endpoint, repo_id, branch, config.token, attempts=ATTEMPTS,
                     backoff_s=BACKOFF_S)
    notes: list[str] = []

    def create() -> bool:
        try:
            api.create_repo(repo_id, "dataset", visibility="private" if private else None, license=license)
            return True
        except Exists:
            return False

    created = call("create the repo", create)
    visibility = 1 if private else 5
    if not created:
        info = call("read the repo", lambda: api.legacy.get_repo_info(repo_id, "dataset")) or {}
        visibility = info.get("Visibility", visibility) if isinstance(info, dict) else visibility
        if private and visibility == 5:
            notes.append(f"{repo_id} already exists and is public: --private does not change an existing repo "
                         "(change its visibility in the dataset's settings on ModelScope)")
    listing = call("list the repo's files", lambda: api.list_repo_files(repo_id, "dataset", revision=branch))
    remote = {f.path: f.sha256 for f in listing if f.path and f.type != "tree"}

    uploads, configs, plots = hf.plan(run_dir, manifest, config_name)
    owned = (f"data/{config_name}/", f"synth/{config_name}/")
    deleted = sorted(p for p in remote if p.startswith(owned) and p not in uploads)
    kept_remote = [p for p in remote if p not in deleted and not p.startswith(owned)]
    others = [c for c in hf.configs_from_paths(kept_remote).values() if c["owner"] != config_name]
    clash = {c["config_name"] for c in configs} & {c["config_name"] for c in others}
    if clash:
        raise ConfigError(f"config {sorted(clash)[0]!r} in {repo_id} belongs to a run pushed under another name: "
                          f"push this run with another --config")
    first = hf._first(manifest)
    card = render_card(manifest, load_path=repo_id, configs=configs, plots=plots, license=license, hub="modelscope",
                       samples=read_samples(run_dir / first, manifest["dataset"].get("sample_rows", 3)) if first else [],
                       fields=read_fields(run_dir / first) if first else {},
                       other_configs=[{"config_name": c["config_name"], "data_files": c["data_files"]} for c in others])

    files: dict[str, tuple[Path | None, bytes | None, str, int]] = {}  # path -> (file, bytes, sha256, size)
    for path, local in sorted(uploads.items()):
        files[path] = (local, None, _sha256_file(local), local.stat().st_size)
    card_bytes = card.encode("utf-8")
    files["README.md"] = (None, card_bytes, hashlib.sha256(card_bytes).hexdigest(), len(card_bytes))
    changed = [p for p, (_, _, sha, _) in files.items() if remote.get(p) != sha]
    unchanged = sorted(set(files) - set(changed))
    page = f"{config.endpoint}/datasets/{repo_id}"
    if not changed and not deleted:
        return ModelScopePushResult(repo_id, branch, None, [], [], _config_names(configs, others),
                                    visibility == 1, notes, unchanged=unchanged, committed=False, page_url=page)

    blobs = {files[p][2]: (p, files[p]) for p in changed if is_lfs(p, files[p][3])}
    to_send: dict[str, str] = {}
    objects = [{"oid": oid, "size": f[3]} for oid, (_, f) in blobs.items()]
    for i in range(0, len(objects), 64):  # the client's batch size for the LFS batch API
        chunk = objects[i:i + 64]
        answer = call("upload the data", lambda chunk=chunk: api.legacy.validate_blobs(
            repo_id=repo_id, repo_type="dataset", objects=chunk))
        to_send.update({oid: href for oid, href in answer.items() if href})
    for oid, href in to_send.items():
        path, (local, data, _, size) = blobs[oid]
        call(f"upload {path}", lambda href=href, local=local, data=data, size=size: _put(api, href, local, data, size))

    actions = []
    for path in changed:
        local, data, sha, size = files[path]
        if sha in blobs:
            actions.append({"action": "create", "path": path, "type": "lfs", "size": size, "sha256": sha,
                            "content": "", "encoding": ""})
        else:
            content = data if data is not None else local.read_bytes()
            actions.append({"action": "create", "path": path, "type": "normal", "size": size, "sha256": "",
                            "content": base64.b64encode(content).decode(), "encoding": "base64"})
    actions += [{"action": "delete", "path": path, "type": "normal", "size": 0, "sha256": "", "content": "",
                 "encoding": ""} for path in deleted]
    summary = message or f"synth: publish run {manifest['name']} as config {config_name}"
    call("commit", lambda: api.legacy.create_commit(repo_id=repo_id, repo_type="dataset", operations=actions,
                                                    commit_message=summary, revision=branch))
    return ModelScopePushResult(repo_id, branch, page, sorted(changed), deleted, _config_names(configs, others),
                                visibility == 1, notes, unchanged=unchanged, committed=True, page_url=page)


def _config_names(configs: list[dict], others: list[dict]) -> list[str]:
    return [c["config_name"] for c in configs] + [c["config_name"] for c in others]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _put(api, href: str, local: Path | None, data: bytes | None, size: int) -> None:
    if data is not None:
        api.legacy.upload_blob(upload_url=href, data=data, size=size)
        return
    with open(local, "rb") as fh:  # opened again on each attempt
        api.legacy.upload_blob(upload_url=href, data=fh, size=size)


def _status(exc: Exception) -> int | None:
    return getattr(exc, "status_code", None)


def _server_message(exc: Exception) -> str:
    return " ".join(str(getattr(exc, "message", "") or "").split())[:200]


def _retryable(exc: Exception) -> bool | None:
    """True: retry (5xx, 408, 429, connection); False: an answer to explain; None: not a ModelScope error."""
    from modelscope_hub.errors import APIError, HubError, NetworkError

    if isinstance(exc, NetworkError) or (isinstance(exc, HubError) and not isinstance(exc, APIError)
                                         and getattr(exc, "retryable", False)):
        return True
    if isinstance(exc, APIError):
        status = getattr(exc, "status_code", None)
        if status is None:
            return bool(exc.retryable)
        return status >= 500 or status in (408, 429)
    if isinstance(exc, hf._transport_errors()):
        return True
    return None


MODELSCOPE = Hub(name="ModelScope", endpoint_env="MODELSCOPE_ENDPOINT", token_env="MODELSCOPE_API_TOKEN",
                 login="modelscope login --token TOKEN", error=ModelScopePushError, retryable=_retryable,
                 status=_status, server_message=_server_message)
