"""`synth new recipe NAME` / `synth new filter NAME`: write a plugin package that passes its own test.

The files are the templates in recipe/ and filter/ beside this module, with @NAME@-style placeholders
filled in (plain text replacement: the recipe's own Jinja template keeps its `{{ }}`). A package is

    NAME/pyproject.toml            distribution synth-NAME, entry point in synth.recipes / synth.filters
    NAME/README.md
    NAME/synth_NAME/recipe.py      (or filter.py) the plugin; recipe: templates/prompt.j2 beside it
    NAME/examples/NAME.yaml        a run config, and examples/seeds.jsonl, its seed rows
    NAME/tests/test_NAME.py        the example config run against synth.testing.ScriptedServer

It is written to a temporary folder beside the target and renamed into place, so a failure leaves
nothing behind.

    >>> names("qa-pairs").package, names("qa-pairs").cls
    ('synth_qa_pairs', 'QaPairs')
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import synth
from synth.errors import ConfigError, InputError
from synth.paths import check_out

KINDS = ("recipe", "filter")
_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*\Z")
_TEMPLATES = Path(__file__).resolve().parent
# template file -> path in the package (PACKAGE and MODULE filled in like the placeholders)
FILES = {
    "recipe": {"pyproject.toml.tmpl": "pyproject.toml", "README.md.tmpl": "README.md",
               "init.py.tmpl": "PACKAGE/__init__.py", "recipe.py.tmpl": "PACKAGE/recipe.py",
               "prompt.j2.tmpl": "PACKAGE/templates/prompt.j2", "config.yaml.tmpl": "examples/NAME.yaml",
               "seeds.jsonl.tmpl": "examples/seeds.jsonl", "test.py.tmpl": "tests/test_MODULE.py"},
    "filter": {"pyproject.toml.tmpl": "pyproject.toml", "README.md.tmpl": "README.md",
               "init.py.tmpl": "PACKAGE/__init__.py", "filter.py.tmpl": "PACKAGE/filter.py",
               "config.yaml.tmpl": "examples/NAME.yaml", "seeds.jsonl.tmpl": "examples/seeds.jsonl",
               "test.py.tmpl": "tests/test_MODULE.py"},
}


@dataclass(frozen=True)
class Names:
    """What NAME becomes: the plugin's name in configs, its module, package, distribution and class."""

    name: str     # qa-pairs      (recipe: qa-pairs)
    module: str   # qa_pairs      (reasons are prefixed with it: qa_pairs_empty_answer)
    package: str  # synth_qa_pairs
    dist: str     # synth-qa-pairs
    cls: str      # QaPairs       (QaPairsRecipe, QaPairsFilter)


def names(name: str) -> Names:
    """The names of plugin NAME; ConfigError (one line) when NAME is not lowercase letters, digits, - or _."""
    if not _NAME.match(name) or len(name) > 40:
        raise ConfigError(f"NAME {name!r}: use lowercase letters and digits, joined by - or _, starting with a "
                          "letter (at most 40 characters), e.g. qa-pairs")
    module = name.replace("-", "_")
    return Names(name, module, f"synth_{module}", f"synth-{name.replace('_', '-')}",
                 "".join(part.capitalize() for part in module.split("_")))


def create(kind: str, name: str, out: str | os.PathLike | None = None) -> tuple[Path, list[Path]]:
    """Write the `kind` plugin package NAME into `out` (default ./NAME): (folder, files written).

    Refused in one line, before anything is written: a bad NAME, a NAME already installed as a `kind`,
    an `out` that is a file or a folder with something in it."""
    from synth import plugins

    n = names(name)
    group = plugins.RECIPES if kind == "recipe" else plugins.FILTERS
    if name in plugins.available(group):
        raise ConfigError(f"a {kind} named {name!r} is already installed (`synth {kind}s`): choose another NAME")
    target = check_out(Path(out) if out is not None else Path(name), "--out" if out is not None else "NAME",
                       is_dir=True)
    if target.is_dir() and any(target.iterdir()):
        raise InputError(f"{target} is not empty: choose a new or empty folder (--out DIR)")
    fill = {"@NAME@": n.name, "@MODULE@": n.module, "@PACKAGE@": n.package, "@DIST@": n.dist,
            "@CLASS@": n.cls, "@SYNTH_VERSION@": synth.__version__}
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        written = []
        for template, dest in FILES[kind].items():
            rel = dest.replace("PACKAGE", n.package).replace("MODULE", n.module).replace("NAME", n.name)
            text = (_TEMPLATES / kind / template).read_text(encoding="utf-8")
            for key, value in fill.items():
                text = text.replace(key, value)
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(target / rel)
        staging.chmod(0o755)  # mkdtemp makes it 0700
        if target.is_dir():
            target.rmdir()  # empty (checked above): the staged folder takes its place
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target, written
