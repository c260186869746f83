"""Seed rows from a hub: ``seeds: hf://ORG/NAME[:split]`` and ``seeds: ms://ORG/NAME[:split]``.

``hf://`` streams through ``datasets.load_dataset(..., streaming=True)``: from the Hub, or the mirror in
``HF_ENDPOINT``, or, offline (``HF_HUB_OFFLINE=1`` / ``HF_DATASETS_OFFLINE=1``, or the Hub out of reach),
from the local caches: the ``datasets`` cache of an earlier load, else the Hub file cache that
``hf download --repo-type dataset`` / ``snapshot_download`` fills (``HF_HOME``).

``ms://`` downloads the repo's card and the split's data files through ModelScope's client into its
cache (``MODELSCOPE_CACHE``; ``MODELSCOPE_ENDPOINT`` for another site; a private dataset needs
``MODELSCOPE_API_TOKEN`` or ``modelscope login``), then streams them with ``datasets``, reading the card's
``configs`` as ``MsDataset.load`` does; ModelScope out of reach, the cached copy is read.

Either way rows come one at a time (parquet a batch at a time), and the run checks every row for the
recipe's fields as for a local file. The split defaults to ``train``; the config to the card's default.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from synth.errors import InputError

# "hf://ORG/NAME[:split]", also as it arrives joined onto a folder ("/cfg/dir/hf:/ORG/NAME:split")
SPEC = re.compile(r"(?:^|/)(?P<hub>hf|ms):/+(?P<repo>[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)"
                  r"(?::(?P<split>[A-Za-z0-9][\w.-]*))?/?$")
HUBS = {"hf": "the Hugging Face Hub", "ms": "ModelScope"}


@dataclass(frozen=True)
class HubSeeds:
    hub: str          # hf | ms
    repo: str         # ORG/NAME
    split: str        # train unless given

    @property
    def spec(self) -> str:
        return f"{self.hub}://{self.repo}:{self.split}"


def parse(spec: str | Path) -> HubSeeds | None:
    """The hub seeds `spec` names, or None for a local path.

    >>> parse("hf://acme/seeds:test"), parse("/work/cfg/ms:/acme/seeds").spec, parse("seeds.jsonl")
    (HubSeeds(hub='hf', repo='acme/seeds', split='test'), 'ms://acme/seeds:train', None)
    """
    text = str(spec)
    if "hf:/" not in text and "ms:/" not in text:
        return None
    m = SPEC.search(text)
    if not m:
        hub = "hf" if "hf:/" in text else "ms"
        raise InputError(f"seeds {text!r}: write {hub}://ORG/NAME or {hub}://ORG/NAME:SPLIT, "
                         f"e.g. {hub}://acme/instructions:train")
    return HubSeeds(m["hub"], m["repo"], m["split"] or "train")


def opener(seeds: HubSeeds) -> Callable[[], Iterator[dict]]:
    """A function that opens the rows again each time it is called (the run reads them twice: to check
    them, then to generate); what is slow (finding and downloading files) is done once, here."""
    if seeds.hub == "hf":
        source = _hf_source(seeds)
    else:
        source = _ms_source(seeds)
    return lambda: _rows(seeds, source)


# -- Hugging Face ---------------------------------------------------------------------------------
def _hf_source(seeds: HubSeeds) -> tuple[str, str | None]:
    """(what to hand to load_dataset, the config name or None): the repo id, or a cached snapshot dir."""
    import datasets
    from datasets import config as ds_config

    offline = bool(getattr(ds_config, "HF_HUB_OFFLINE", False))
    if not offline:
        try:
            datasets.load_dataset_builder(seeds.repo)
            return seeds.repo, None
        except datasets.exceptions.DatasetNotFoundError:
            raise InputError(f"{seeds.spec}: no dataset {seeds.repo} on {_hf_where()} (or it is private or gated: "
                             "set HF_TOKEN or run `hf auth login`): check the name") from None
        except ValueError as exc:  # an unknown config and the like
            raise InputError(f"{seeds.spec}: {_first_line(exc)}") from None
        except (ConnectionError, OSError) as exc:
            unreachable = exc
    else:
        unreachable = None
    try:  # offline, or the Hub out of reach: the datasets cache of an earlier load
        datasets.load_dataset_builder(seeds.repo)
        return seeds.repo, None
    except Exception:  # noqa: BLE001 - not cached there; try the Hub file cache next
        pass
    snapshot = _hf_snapshot(seeds.repo)
    if snapshot is not None:
        return str(snapshot), None
    why = "offline mode is on (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE)" if offline else \
        f"{_hf_where()} cannot be reached ({type(unreachable).__name__})"
    raise InputError(f"{seeds.spec}: {why} and {seeds.repo} is not in the local caches (HF_HOME): load it once "
                     f"online, or `hf download --repo-type dataset {seeds.repo}` on a machine that can reach the Hub "
                     "and copy HF_HOME over")


def _hf_snapshot(repo: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo, repo_type="dataset", local_files_only=True))
    except Exception:  # noqa: BLE001 - LocalEntryNotFoundError and friends: not cached
        return None


def _hf_where() -> str:
    from datasets import config as ds_config

    endpoint = getattr(ds_config, "HF_ENDPOINT", "https://huggingface.co")
    return "the Hugging Face Hub" if endpoint.rstrip("/") == "https://huggingface.co" else f"the Hub at {endpoint}"


# -- ModelScope -----------------------------------------------------------------------------------
def _ms_source(seeds: HubSeeds) -> tuple[str, str | None]:
    from synth.hub.ms_push import client

    api, config = client()
    from modelscope_hub.errors import APIError, AuthenticationError, HubError, NetworkError, NotExistError

    where = f"ModelScope at {config.endpoint}"
    try:
        with _quiet():
            root = api.download_repo(seeds.repo, "dataset", allow_patterns=["README.md"])
            patterns = _card_files(root / "README.md", seeds)
            root = api.download_repo(seeds.repo, "dataset", allow_patterns=patterns)
        return str(root), None
    except (NotExistError, AuthenticationError):
        raise InputError(f"{seeds.spec}: no dataset {seeds.repo} on {where} (or it is private: set "
                         "MODELSCOPE_API_TOKEN or run `modelscope login`): check the name") from None
    except (NetworkError, HubError, OSError) as exc:
        if isinstance(exc, APIError) and not getattr(exc, "retryable", False):
            raise InputError(f"{seeds.spec}: {where} refused the download "
                             f"({getattr(exc, 'status_code', '?')}: {_first_line(exc)})") from None
        try:
            with _quiet():
                return str(api.download_repo(seeds.repo, "dataset", local_files_only=True)), None
        except Exception:  # noqa: BLE001 - CacheNotFound: nothing cached either
            raise InputError(f"{seeds.spec}: {where} cannot be reached ({type(exc).__name__}) and {seeds.repo} is "
                             "not in the local cache (MODELSCOPE_CACHE): read it once online, or "
                             f"`modelscope download --dataset {seeds.repo}` where ModelScope can be reached and copy "
                             "the cache over") from None


def _card_files(card: Path, seeds: HubSeeds) -> list[str] | None:
    """The card and the data files of its default config (every split: `datasets` resolves them all), to
    download only those; None (everything) when the card does not say. A split the card does not list is
    an error naming those it does."""
    import yaml

    if not card.exists():
        return None
    text = card.read_text(encoding="utf-8", errors="replace")
    m = re.match(r"^---\n(.*?)\n---\s*\n", text, re.S)
    try:
        meta = yaml.safe_load(m[1]) if m else None
    except yaml.YAMLError:
        return None
    configs = meta.get("configs") if isinstance(meta, dict) else None
    if not isinstance(configs, list) or not configs:
        return None
    config = next((c for c in configs if isinstance(c, dict) and c.get("config_name") == "default"), configs[0])
    files = config.get("data_files") if isinstance(config, dict) else None
    if not isinstance(files, list) or not all(isinstance(e, dict) for e in files):
        return None
    splits = [e.get("split", "train") for e in files]
    if seeds.split not in splits:
        raise InputError(f"{seeds.spec}: no split {seeds.split!r} in {seeds.repo} (it has {', '.join(splits)}): "
                         f"write {seeds.hub}://{seeds.repo}:SPLIT")
    paths = [p for e in files for p in ([e["path"]] if isinstance(e.get("path"), str) else e.get("path") or [])]
    return ["README.md", *paths]


@contextlib.contextmanager
def _quiet():
    """ModelScope's downloader draws progress bars on stderr with no switch to turn them off."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield


# -- both -------------------------------------------------------------------------------------------
def _rows(seeds: HubSeeds, source: tuple[str, str | None]) -> Iterator[dict]:
    import datasets

    path, name = source
    try:
        stream = datasets.load_dataset(path, name, split=seeds.split, streaming=True)
        for row in stream:
            yield dict(row)
    except ValueError as exc:
        text = _first_line(exc)
        m = re.search(r"(?:Bad split|Unknown split)[^.]*\.\s*(?:Available splits|Should be one of):?\s*(.*)", text)
        if m:
            raise InputError(f"{seeds.spec}: no split {seeds.split!r} in {seeds.repo} (it has "
                             f"{m[1].strip(' []').replace(chr(39), '')}): write {seeds.hub}://{seeds.repo}:SPLIT") \
                from None
        raise InputError(f"{seeds.spec}: {text}") from None
    except datasets.exceptions.DatasetNotFoundError:
        raise InputError(f"{seeds.spec}: no dataset {seeds.repo} on {HUBS[seeds.hub]}: check the name") from None
    except FileNotFoundError as exc:
        raise InputError(f"{seeds.spec}: {seeds.repo} has no data files for split {seeds.split!r} "
                         f"({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[0].split())
    return text[:300] or type(exc).__name__
