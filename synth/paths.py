"""Checks of the paths a user names, made before any work starts (so no request is paid for and nothing
is written when one is wrong): each names the path, its role (`decontam.benchmarks`, `--out`) and the fix
in one line (InputError, exit code 2).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from synth.errors import InputError, SynthError


def spec_file(spec: str) -> str:
    """The file of a `FILE[:FIELD]` spec (a file whose own name has a colon is taken whole).

    >>> spec_file("bench/gsm8k.jsonl:question"), spec_file("bench/gsm8k.jsonl")
    ('bench/gsm8k.jsonl', 'bench/gsm8k.jsonl')
    """
    return spec if Path(spec).exists() or ":" not in spec else spec.rsplit(":", 1)[0]


def check_file(path: str | os.PathLike, role: str, error: type[SynthError] = InputError) -> Path:
    """`path` as a Path when it is a file this process can read; else `error` naming `role` (ConfigError
    where the path is an option's value)."""
    p = Path(path)
    if not p.exists():
        raise error(f"{role}: {p} not found (check the path; relative paths in a config are relative to it)")
    if p.is_dir():
        raise error(f"{role}: {p} is a directory; give a file")
    if not os.access(p, os.R_OK):
        raise error(f"{role}: cannot read {p} (permission denied): fix its permissions")
    return p


def check_out(path: str | os.PathLike, role: str = "--out", *, is_dir: bool) -> Path:
    """`path` as a Path when output can go there: a directory (`is_dir`) or a file, new or of that kind,
    under folders that are folders; else InputError naming `role` (checked before the work, not after)."""
    p = Path(path)
    if p.exists() and p.is_dir() != is_dir:
        kind, wanted = ("a file", "a directory") if is_dir else ("a directory", "a file")
        raise InputError(f"{role} {p} is {kind}, and {wanted} is written there: choose another name")
    for parent in p.parents:  # the nearest existing folder above must be a folder
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{role} {p}: {parent} is a file, not a folder: choose another path")
            break
    return p


@contextmanager
def new_folders_removed_on_error(path: str | os.PathLike) -> Iterator[None]:
    """Folders above `path` that the block creates are removed again when it fails: nothing half-written."""
    new, parent = None, Path(path).absolute().parent
    while not parent.exists():
        new, parent = parent, parent.parent
    try:
        yield
    except BaseException:
        if new is not None:
            shutil.rmtree(new, ignore_errors=True)
        raise


def check_model(model: str, role: str = "MODEL") -> str:
    """`model` when it is a Hub id (no such path) or a local model vLLM can load: a folder with
    config.json (params.json for Mistral's format) or a .gguf file; else InputError, before a server starts."""
    import json

    p = Path(model)
    if not p.exists():
        return model  # a Hub model id
    if p.is_file():
        if p.suffix == ".gguf":
            return model
        raise InputError(f"{role} {p} is a file: give the model's folder (with config.json), a .gguf file "
                         "or a Hub model id")
    if not os.access(p, os.R_OK | os.X_OK):
        raise InputError(f"{role} {p}: cannot read this folder (permission denied): fix its permissions")
    config = p / "config.json"
    if not config.is_file():
        if (p / "params.json").is_file():
            return model
        raise InputError(f"{role} {p} has no config.json: give the folder a model was saved or downloaded to")
    try:
        json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{role} {config} cannot be read as JSON ({type(exc).__name__}): re-download the model") \
            from None
    return model
