"""The run's fingerprint covers the project code a recipe imports, not just the recipe's folder: editing
a shared helper (answer checking, JSON parsing, grounding) makes new records; editing a module the
recipe never imports does not."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import synth
from synth import plugins

SYNTH = Path(synth.__file__).parent
RECIPES = Path(importlib.import_module("synth.recipes").__file__).parent  # recipes/ in this repository
FILTERS = Path(importlib.import_module("synth.filters").__file__).parent


def recipe(name: str, options: dict | None = None):
    return plugins.load(plugins.RECIPES, name)(options or {})


def digest_with_edit(monkeypatch, rec, edited: Path) -> str:
    """The recipe's source digest as it would be with `edited` changed by one comment line."""
    read = Path.read_bytes
    target = edited.resolve()

    def read_bytes(self: Path) -> bytes:
        data = read(self)
        return data + b"\n# edited\n" if self.resolve() == target else data

    with monkeypatch.context() as m:
        m.setattr(Path, "read_bytes", read_bytes)
        return rec.source_digest()


@pytest.mark.parametrize("name, helper", [
    ("reasoning", RECIPES / "_math.py"),
    ("reasoning", RECIPES / "_records.py"),
    ("reasoning", SYNTH / "verify" / "decide.py"),         # imported through synth.verify's __init__
    ("reasoning", SYNTH / "verify" / "numbers.py"),
    ("step-labels", SYNTH / "verify" / "steps.py"),
    ("doc-qa", SYNTH / "structured.py"),
    ("doc-qa", SYNTH / "grounding" / "__init__.py"),
    ("doc-qa", SYNTH / "dedup" / "signatures.py"),          # imported by doc_qa/questions.py
    ("evolve", FILTERS / "length.py"),                      # synth.filters: a filter's helper in a recipe
])
def test_editing_an_imported_helper_changes_the_fingerprint(monkeypatch, name, helper):
    rec = recipe(name)
    assert helper.exists()
    assert digest_with_edit(monkeypatch, rec, helper) != rec.source_digest(), f"{helper} is not in {name}'s digest"


@pytest.mark.parametrize("name, unrelated", [
    ("reasoning", SYNTH / "view" / "run.py"),
    ("reasoning", SYNTH / "hub" / "card.py"),
    ("reasoning", SYNTH / "grounding" / "__init__.py"),  # doc-qa's, not reasoning's
    ("instruct", SYNTH / "verify" / "decide.py"),  # instruct checks no answers
    ("doc-qa", RECIPES / "_math.py"),
    ("doc-qa", SYNTH / "runner.py"),              # runs every recipe, makes no record content
])
def test_editing_a_module_the_recipe_does_not_import_keeps_the_fingerprint(monkeypatch, name, unrelated):
    rec = recipe(name)
    assert unrelated.exists()
    assert digest_with_edit(monkeypatch, rec, unrelated) == rec.source_digest()


def test_a_plugin_package_helper_outside_the_recipe_folder_is_covered(tmp_path, monkeypatch):
    """A third-party package: recipes/mine.py imports ../common.py; other.py is never imported."""
    pkg = tmp_path / "fp_plugin"
    (pkg / "recipes").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "common.py").write_text("PREFIX = 'Answer: '\n")
    (pkg / "other.py").write_text("UNUSED = 1\n")
    (pkg / "recipes" / "__init__.py").write_text("")
    (pkg / "recipes" / "mine.py").write_text(
        "from ..common import PREFIX\n"
        "from synth.recipes.instruct.recipe import InstructRecipe\n"
        "class Mine(InstructRecipe):\n"
        "    name = 'fp-mine'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        rec = plugins.load(plugins.RECIPES, "fp_plugin.recipes.mine:Mine")({})
        before = rec.source_digest()
        (pkg / "other.py").write_text("UNUSED = 2\n")
        assert rec.source_digest() == before
        (pkg / "common.py").write_text("PREFIX = 'Final answer: '\n")
        assert rec.source_digest() != before
    finally:
        for module in [m for m in sys.modules if m == "fp_plugin" or m.startswith("fp_plugin.")]:
            del sys.modules[module]


def test_the_digest_is_the_same_in_a_fresh_process(tmp_path):
    """Walked from the source, not from what this process happened to import."""
    import subprocess

    code = "from synth import plugins; print(plugins.load(plugins.RECIPES, 'doc-qa')({}).source_digest())"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    importlib.import_module("synth.runner")  # more of synth imported here than in the fresh process
    assert recipe("doc-qa").source_digest() == fresh
