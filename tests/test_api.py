"""The public API is explicit, and every docstring example in the package runs."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import synth

MODULES = sorted(m.name for m in pkgutil.walk_packages(synth.__path__, "synth.")
                 if not m.name.endswith(("__main__", "_worker")))


def test_exported_members():
    exported = set(synth.__all__)
    public = {name for name, value in vars(synth).items() if not name.startswith("_") and not inspect.ismodule(value)}
    assert public == exported - {"__version__"}
    for name in synth.__all__:
        assert hasattr(synth, name), name


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
