"""Built-in recipes and filters are found by scanning their packages (adding one is adding its files);
other packages' plugins through entry points."""

from __future__ import annotations

import os
import textwrap

import pytest

from synth import plugins
from synth.errors import PluginError
from tests.conftest import REPO, synth_cli

RECIPES = {"code", "dialogue", "doc-qa", "doc-quiz", "evolve", "instruct", "multi-hop", "problem-augment",
           "reasoning", "step-labels", "taxonomy", "text-to-sql"}
FILTERS = {"blocklist", "code-exec", "final-answer", "finish-reason", "judge", "lang-match", "length", "refusal",
           "repetition", "sql-exec", "template-leak", "truncation"}


def test_every_built_in_is_found_and_loads_the_class_of_its_name():
    assert set(plugins.built_ins(plugins.RECIPES)) == RECIPES
    assert set(plugins.built_ins(plugins.FILTERS)) == FILTERS
    step_labels = plugins.built_ins(plugins.RECIPES)["step-labels"]
    assert step_labels.value == "synth.recipes.step_labels.recipe"
    assert plugins.load(plugins.RECIPES, "step-labels").__name__ == "StepLabelsRecipe"
    assert plugins.load(plugins.FILTERS, "lang-match").__module__ == "synth.filters.lang_match"
    assert plugins.built_ins("synth.nothing") == {}


def test_a_built_in_is_one_new_module_and_helpers_are_skipped(tmp_path, monkeypatch):
    """What synth.filters and synth.recipes are scanned for, on a package of the same shape."""
    package = tmp_path / "acme_builtins"
    (package / "kit" / "templates").mkdir(parents=True)
    (package / "notes").mkdir()
    for path, text in {
        "__init__.py": "",
        "_helpers.py": "name = 'helpers'\n",
        "no_shout.py": """
            from synth.filter import Filter

            class NoShout(Filter):
                name = "no-shout"
                description = "Drop answers in capitals."

                def filter(self, record):
                    return not self.answer(record).isupper() or (False, "no_shout_capitals")
        """,
        "misnamed.py": """
            from synth.filter import Filter

            class Misnamed(Filter):
                name = "another-name"
        """,
        "kit/__init__.py": "",
        "kit/recipe.py": "from synth.recipe import Recipe\n\nclass Kit(Recipe):\n    name = 'kit'\n",
        "notes/__init__.py": "",  # a package without recipe.py is no recipe
    }.items():
        (package / path).write_text(textwrap.dedent(text), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(plugins.BUILT_IN, plugins.FILTERS, ("acme_builtins", None))
    monkeypatch.setitem(plugins.BUILT_IN, plugins.RECIPES, ("acme_builtins", "recipe"))
    assert sorted(plugins.built_ins(plugins.FILTERS)) == ["kit", "misnamed", "no-shout", "notes"]
    assert plugins.load(plugins.FILTERS, "no-shout")().filter({"response": "HELLO"}) == (False, "no_shout_capitals")
    with pytest.raises(PluginError, match=r"acme_builtins.misnamed defines no class named 'misnamed'"):
        plugins.load(plugins.FILTERS, "misnamed")
    assert list(plugins.built_ins(plugins.RECIPES)) == ["kit"]
    assert plugins.load(plugins.RECIPES, "kit").__name__ == "Kit"


def test_third_party_plugins_come_from_entry_points_and_a_built_in_name_wins(tmp_path):
    """A package installed the way pip installs one: module + dist-info with entry points."""
    site = tmp_path / "site"
    (site / "acme_plugins").mkdir(parents=True)
    (site / "acme_plugins" / "__init__.py").write_text(textwrap.dedent('''
        from synth.filter import Filter

        class Polite(Filter):
            name = "polite"
            description = "Keep everything, politely."

            def filter(self, record):
                return True

        class Impostor(Polite):
            name = "length"
            description = "Not the built-in length filter."
    '''), encoding="utf-8")
    info = site / "acme_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugins\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[synth.filters]\npolite = acme_plugins:Polite\n"
                                           "length = acme_plugins:Impostor\n", encoding="utf-8")
    listing = synth_cli("filters", env={"PYTHONPATH": str(site)})
    lines = {line.split()[0]: line for line in listing.stdout.splitlines()}
    assert listing.returncode == 0, listing.stderr
    assert set(lines) == FILTERS | {"polite"}
    assert "Keep everything, politely." in lines["polite"]
    assert "Not the built-in" not in lines["length"]


def test_the_source_tree_needs_no_registration_in_pyproject():
    """Adding a built-in must not mean editing pyproject.toml (entry points, the package list)."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points."synth.recipes"]' not in text and '[project.entry-points."synth.filters"]' not in text
    assert "packages = [" not in text
    assert os.path.exists(REPO / "setup.py")
