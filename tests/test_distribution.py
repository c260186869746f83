"""The distribution is `synth-datagen`: `synth` on PyPI is an unrelated 2014 project, so no install line,
link or metadata lookup may name it. The import package and the `synth` command stay `synth`."""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import subprocess
import sys
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
    assert dist.entry_points.select(group="console_scripts", name="synth")
    # built-in recipes and filters are found in the package (synth.plugins), not listed in the metadata
    assert not {ep.group for ep in dist.entry_points} & {"synth.recipes", "synth.filters"}


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


def _names(extra: str) -> set[str]:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return {canonicalize_name(Requirement(r).name) for r in PROJECT["optional-dependencies"][extra]}


def test_the_readme_test_install_is_light_and_ci_still_runs_the_trainer_checks():
    """`pip install -e '.[dev]'` once pulled torch for TRL's data checks: from PyPI that is the CUDA build
    and ~6 GB of venv. The trainer checks live in their own extra, and CI installs it in a step of its own."""
    assert not {"torch", "trl", "vllm"} & _names("dev")
    assert {"torch", "trl"} <= _names("trainers")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"pip install (-q )?-e '\.\[trainers\]'", ci) and "pytest -m trainers" in ci
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for extra in PROJECT["optional-dependencies"]:  # what each extra costs, in the README's table of extras
        assert re.search(rf"^\| `{extra}` \|.*\b\d[\d.,]* ?[MG]B\b", readme, re.M), f"README: the cost of [{extra}]"


def test_trainer_checks_skip_with_the_reason_when_trl_is_absent(tmp_path):
    """Without the `trainers` extra the TRL checks say why they skip (before building their run)."""
    (tmp_path / "no_trl.py").write_text("import sys\nsys.modules['trl'] = None  # as if not installed\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no_trl", "-p", "no:cacheprovider", "-rs",
                           "tests/hub/test_exports.py", "-k", "trl"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout and "the trainer checks need the `trainers` extra" in proc.stdout
