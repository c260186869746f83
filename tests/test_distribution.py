"""The distribution is `synth-datagen`: `synth` on PyPI is an unrelated 2014 project, so no install line,
link or metadata lookup may name it. The import package and the `synth` command stay `synth`."""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib

import synth
from tests.conftest import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_distribution_is_named_once_and_is_not_pypis_synth():
    assert PROJECT["name"] == synth.__distribution__ == "synth-datagen"
    assert PROJECT["version"] == synth.__version__
    assert PROJECT["scripts"] == {"synth": "synth.cli:main"}  # the command keeps its name


def test_installed_metadata_is_found_under_the_distribution_name():
    """What the manifest's "versions" and the card read. After a rename, refresh the venv:
    pip uninstall -y synth; rm -rf synth.egg-info; pip install --no-deps -e ."""
    assert md.version(synth.__distribution__) == synth.__version__
    dist = md.distribution(synth.__distribution__)
    recipes = {ep.name for ep in dist.entry_points if ep.group == "synth.recipes"}
    assert {"instruct", "reasoning", "doc-qa"} <= recipes
    assert dist.entry_points.select(group="console_scripts", name="synth")


PYPI_SYNTH = re.compile(r"""pip install ['"]?synth(\[|['"\s]|$)|pypi\.org/project/synth/|\bsynth\[(vllm|redis|ray|dev|trainers|tokens)\]""",
                        re.M)


def test_no_install_line_or_link_points_at_pypis_synth():
    files = [REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "bench").glob("*.md"),
             *(REPO / "scripts").iterdir(), REPO / ".ci" / "run",
             *(p for p in (REPO / "synth").rglob("*") if p.suffix in {".py", ".md", ".j2", ".js", ".html"})]
    found = [f"{p.relative_to(REPO)}:{text[:m.start()].count(chr(10)) + 1}: {m.group(0)}"
             for p in files if p.is_file() for text in [p.read_text(encoding="utf-8", errors="replace")]
             for m in PYPI_SYNTH.finditer(text)]
    assert not found, "these name the unrelated `synth` on PyPI; use synth-datagen:\n" + "\n".join(found)
