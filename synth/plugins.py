"""Every extension point: the built-ins, found in synth's own packages, and plugins, found through entry points.

Five groups, each an entry-point group: recipes (`synth.recipes`), filters (`synth.filters`), engine
kinds (`synth.engines`), export formats (`synth.exports`) and stages (`synth.stages`). Built-ins and
plugins are listed by `available` and loaded by `load` alike.


A built-in is found by scanning, so adding one is adding its files, nothing to register: a recipe is
a package `recipes/<module>/` with a `recipe.py`, a filter a module `filters/<module>.py`; its name is
the module's with `-` for `_` (`step_labels` -> `step-labels`), and the class of that `name` in the
module is the plugin. Modules starting with `_` are helpers. A package adds its own with, in its
pyproject.toml (`synth new recipe NAME` writes one)::

    [project.entry-points."synth.recipes"]
    my-recipe = "my_package.recipe:MyRecipe"

Engine kinds, export formats and stages have names that are not module names and share modules, so
their built-ins are a table beside their code (`BUILT_IN_TABLES`: synth.engines.kinds.KINDS,
synth.exports.FORMATS, synth.build.STAGES); adding one is adding it there. A plugin registers in the
same groups::

    [project.entry-points."synth.engines"]      # factory(cfg, *, log_dir, role) -> Engine
    my-kind = "my_package.engine:make_engine"
    [project.entry-points."synth.exports"]      # format(record, reasoning) -> row | None
    my-format = "my_package.exports:to_my_format"
    [project.entry-points."synth.stages"]       # factory(options, *, base_dir) -> Stage | None
    my-stage = "my_package.stages:make_stage"

A built-in's name wins over an entry point of the same name. A config may also name a plugin
directly as `module.path:Name`.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from synth.errors import PluginError

RECIPES = "synth.recipes"
FILTERS = "synth.filters"
ENGINES = "synth.engines"
EXPORTS = "synth.exports"
STAGES = "synth.stages"
# what one plugin of each group is called in messages (and `synth <word>s` lists recipes and filters)
WORDS = {RECIPES: "recipe", FILTERS: "filter", ENGINES: "engine kind", EXPORTS: "export format", STAGES: "stage"}


# group -> (the package holding the built-ins, the module inside a built-in's package, or None: the module itself)
BUILT_IN = {RECIPES: ("synth.recipes", "recipe"), FILTERS: ("synth.filters", None)}
# group -> "module:TABLE", a dict of name -> plugin beside the built-ins' code
BUILT_IN_TABLES = {ENGINES: "synth.engines.kinds:KINDS", EXPORTS: "synth.exports:FORMATS", STAGES: "synth.build:STAGES"}


@dataclass(frozen=True)
class BuiltIn:
    """A recipe or filter shipped in synth, loaded like an entry point (`.name`, `.value`, `.load()`)."""

    name: str
    group: str
    value: str  # the module

    def load(self) -> type:
        """The class in the module whose `name` is this plugin's (defined there, not imported)."""
        module = importlib.import_module(self.value)
        found = [obj for obj in vars(module).values() if isinstance(obj, type) and obj.__module__ == self.value
                 and getattr(obj, "name", None) == self.name and callable(getattr(obj, "run", None) or
                                                                        getattr(obj, "filter", None))]
        if len(found) != 1:
            raise PluginError(f"{self.value} defines {len(found) or 'no'} class{'es' if found else ''} named "
                              f"{self.name!r}: give the built-in one class with `name = {self.name!r}`")
        return found[0]


@dataclass(frozen=True)
class Listed:
    """An engine kind, export format or stage from its module's table, loaded like an entry point."""

    name: str
    group: str
    value: str  # "module:TABLE"

    def load(self) -> object:
        module, _, table = self.value.partition(":")
        return getattr(importlib.import_module(module), table)[self.name]


def built_ins(group: str) -> dict[str, BuiltIn | Listed]:
    """name -> BuiltIn or Listed, for every built-in of `group` (recipes and filters found without
    importing them; a table's module is imported to read its names)."""
    if group in BUILT_IN_TABLES:
        module, _, table = BUILT_IN_TABLES[group].partition(":")
        return {name: Listed(name, group, BUILT_IN_TABLES[group])
                for name in getattr(importlib.import_module(module), table)}
    if group not in BUILT_IN:
        return {}
    package, inner = BUILT_IN[group]
    spec = importlib.util.find_spec(package)
    found = {}
    for folder in spec.submodule_search_locations if spec else ():
        for info in pkgutil.iter_modules([folder]):
            if info.name.startswith("_") or (inner and not (info.ispkg and (Path(folder, info.name, f"{inner}.py")
                                                                              .is_file()))):
                continue
            name = info.name.replace("_", "-")
            found[name] = BuiltIn(name, group, ".".join([package, info.name, *([inner] if inner else [])]))
    return found


def available(group: str) -> dict[str, object]:
    """name -> BuiltIn or entry point, for every installed plugin of `group`, by name."""
    plugins = {ep.name: ep for ep in entry_points(group=group)}
    plugins.update(built_ins(group))
    return dict(sorted(plugins.items()))


def load(group: str, name: str) -> Any:
    """The plugin registered as `name` in `group` (or a `module:Name` path): a recipe or filter class,
    an engine or stage factory, an export format function."""
    kind = WORDS.get(group, "plugin")
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise PluginError(f"cannot load {kind} {name!r}: {exc}") from None
    plugins = available(group)
    if name not in plugins:
        names = ", ".join(plugins) or "(none installed)"
        see = f" (see `synth {kind}s`)" if group in (RECIPES, FILTERS) else ""
        raise PluginError(f"unknown {kind} {name!r}: choose one of {names}{see}")
    try:
        return plugins[name].load()
    except Exception as exc:  # a broken third-party plugin must not look like a synth bug
        raise PluginError(f"{kind} {name!r} failed to load: {type(exc).__name__}: {exc}") from None
