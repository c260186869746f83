"""Recipes and filters are found through entry points, built-ins included, like pytest plugins.

A package adds its own with, in its pyproject.toml::

    [project.entry-points."synth.recipes"]
    my-recipe = "my_package.recipe:MyRecipe"

A config may also name a class directly as `module.path:ClassName`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from synth.errors import PluginError

RECIPES = "synth.recipes"
FILTERS = "synth.filters"


def available(group: str) -> dict[str, object]:
    """name -> entry point, for every installed plugin of `group`."""
    return {ep.name: ep for ep in sorted(entry_points(group=group), key=lambda e: e.name)}


def load(group: str, name: str) -> type:
    """The class registered as `name` in `group` (or a `module:Class` path)."""
    kind = "recipe" if group == RECIPES else "filter"
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise PluginError(f"cannot load {kind} {name!r}: {exc}") from None
    plugins = available(group)
    if name not in plugins:
        names = ", ".join(plugins) or "(none installed)"
        raise PluginError(f"unknown {kind} {name!r}: choose one of {names} (see `synth {kind}s`)")
    try:
        return plugins[name].load()
    except Exception as exc:  # a broken third-party plugin must not look like a synth bug
        raise PluginError(f"{kind} {name!r} failed to load: {type(exc).__name__}: {exc}") from None
