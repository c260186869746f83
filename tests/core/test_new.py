"""`synth new recipe|filter NAME` writes a plugin package that installs, passes its own test as written
and runs: a real `pip install` of the package (its pyproject.toml, its entry point) into a folder of
its own, its tests run by pytest in a subprocess that sees only that folder and synth, then
`synth run` on its example config against a scripted server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from synth.testing import ScriptedServer
from tests.conftest import cli_in_process, synth_cli


def install(package: Path, site: Path) -> dict[str, str]:
    """`pip install` a copy of `package` (pip leaves build files beside the source) into `site`; the
    environment that sees it."""
    source = site.parent / f"{package.name}-build"
    shutil.copytree(package, source)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(site), str(source)], capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"PYTHONPATH": str(site)}


@pytest.mark.parametrize("kind", ["recipe", "filter"])
def test_the_new_package_passes_its_own_test_and_runs(tmp_path, capsys, kind):
    code, out, err = cli_in_process(capsys, "new", kind, "demo")
    assert code == 0, err
    package = tmp_path / "demo"
    assert f"wrote {kind} 'demo' (package synth_demo) to demo/" in out and "pip install -e demo" in out
    written = sorted(str(p.relative_to(package)) for p in package.rglob("*") if p.is_file())
    assert written == sorted(["pyproject.toml", "README.md", "synth_demo/__init__.py", f"synth_demo/{kind}.py",
                              "examples/demo.yaml", "examples/seeds.jsonl", "tests/test_demo.py",
                              *(["synth_demo/templates/prompt.j2"] if kind == "recipe" else [])])
    for path in package.rglob("*.py"):  # what it needs ships in synth (synth.testing), not in synth's tests/
        assert not re.search(r"^\s*(from|import) tests\b", path.read_text(encoding="utf-8"), re.M), path

    env = install(package, tmp_path / "site")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package)],
                           cwd=package, capture_output=True, text=True, env={**os.environ, **env}, timeout=300)
    assert tests.returncode == 0 and re.search(r"\b3 passed\b", tests.stdout), tests.stdout + tests.stderr

    def answer(_, body):
        return "A scripted answer of several words."

    with ScriptedServer(answer) as server:
        run = synth_cli("run", str(package / "examples" / "demo.yaml"), "--base-url", server.base_url,
                        "--out", "run", "--quiet", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["kept"] == 3
    records = [json.loads(line) for part in (tmp_path / "run" / "records").rglob("*.jsonl")
               for line in part.read_text(encoding="utf-8").splitlines()]
    assert {r["recipe"] for r in records} == {"demo" if kind == "recipe" else "instruct"}
    if kind == "filter":
        assert "filter:demo" in [stage["name"] for stage in manifest["stages"]]


@pytest.mark.parametrize("argv,line", [
    (["new", "recipe", "Demo"], "error: NAME 'Demo': use lowercase letters and digits"),
    (["new", "filter", "2fast"], "error: NAME '2fast': use lowercase letters and digits"),
    (["new", "recipe", "a b"], "error: NAME 'a b': use lowercase letters and digits"),
    (["new", "recipe", "instruct"], "error: a recipe named 'instruct' is already installed"),
    (["new", "filter", "length"], "error: a filter named 'length' is already installed"),
    (["new", "recipe", "demo", "--out", "taken"], "error: taken is not empty: choose a new or empty folder"),
    (["new", "filter", "demo", "--out", "a-file"], "error: --out a-file is a file"),
])
def test_refusals_are_one_line_exit_2_and_write_nothing(tmp_path, capsys, argv, line):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine\n", encoding="utf-8")
    (tmp_path / "a-file").write_text("not a folder\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, out, err = cli_in_process(capsys, *argv)
    assert code == 2 and err.startswith(line) and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_an_empty_out_folder_is_filled(tmp_path, capsys):
    (tmp_path / "plugins" / "qa").mkdir(parents=True)
    code, out, err = cli_in_process(capsys, "new", "recipe", "qa-pairs", "--out", "plugins/qa")
    assert code == 0, err
    recipe = (tmp_path / "plugins" / "qa" / "synth_qa_pairs" / "recipe.py").read_text(encoding="utf-8")
    assert 'name = "qa-pairs"' in recipe and "class QaPairsRecipe(Recipe):" in recipe
    pyproject = (tmp_path / "plugins" / "qa" / "pyproject.toml").read_text(encoding="utf-8")
    assert 'name = "synth-qa-pairs"' in pyproject
    assert 'qa-pairs = "synth_qa_pairs.recipe:QaPairsRecipe"' in pyproject
    assert [p.name for p in (tmp_path / "plugins").iterdir()] == ["qa"]  # no staging folder left beside it


def _block(text: str, heading: str) -> str:
    """The first ```python block after `heading` in docs/writing-a-recipe.md."""
    return re.search(rf"{re.escape(heading)}\n.*?```python\n(.*?)```", text, re.S).group(1)


def test_the_guide_code_runs(tmp_path, monkeypatch):
    """docs/writing-a-recipe.md's recipe, its test and its filter are real code, run here as written."""
    from synth.filter import make_filter
    from synth.stages import FilterStage, run_stages
    from tests.conftest import REPO, write_config, write_jsonl

    guide = (REPO / "docs" / "writing-a-recipe.md").read_text(encoding="utf-8")
    (tmp_path / "guide_recipe.py").write_text(_block(guide, "## The recipe contract"), encoding="utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "prompt.j2").write_text("Ask and answer one question about {{ topic }}.\n")
    (tmp_path / "guide_filter.py").write_text(_block(guide, "## Filters"), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    write_jsonl(tmp_path / "examples" / "seeds.jsonl", [{"topic": t} for t in ("tides", "yeast", "rust")])
    write_config(tmp_path / "examples" / "qa-pairs.yaml", name="qa", recipe="guide_recipe:QaPairsRecipe",
                 seeds="seeds.jsonl")
    namespace: dict = {}
    exec(compile(_block(guide, "## Testing with a scripted server"), "guide_test", "exec"), namespace)
    namespace["test_the_example_config"](tmp_path)  # asserts three kept answers, three requests, no rejects

    flt = make_filter("guide_filter:NoEchoFilter", {"min_units": 2})
    chat = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
            for q, a in (("Say hi.", "say hi."), ("Name a tree.", "An oak."), ("Name a tree.", "Oak."))]
    kept, rejected, _ = run_stages([FilterStage(flt)], chat)
    assert [r["scores"]["no_echo_units"] for r in kept] == [2]
    assert [(r["stage"], r["reason"]) for r in rejected] == [("filter:no-echo", "no_echo_echo"),
                                                             ("filter:no-echo", "no_echo_too_short")]


def test_the_guide_names_every_part_of_both_contracts():
    from synth.filter import Filter, LLMFilter
    from synth.recipe import Recipe
    from tests.conftest import REPO

    guide = (REPO / "docs" / "writing-a-recipe.md").read_text(encoding="utf-8")
    for cls in (Recipe, Filter, LLMFilter):
        for name in (n for n in vars(cls) if not n.startswith("_")):
            assert f"`{name}" in guide or f".{name}(" in guide, f"docs/writing-a-recipe.md: {cls.__name__}.{name}"
    for key in ("id", "seed_key", "recipe", "recipe_version"):  # synth's own record keys
        assert f"`{key}`" in guide and "`source_<key>`" in guide
