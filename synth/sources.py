"""The project modules a recipe imports, for the run's fingerprint (synth.recipe.Recipe.source_digest).

A recipe's records depend on more than its own folder: answer checking (synth.verify), JSON parsing
(synth.structured), grounding checks, shared helpers (synth.recipes._math). The imports are read from
the source with `ast`, from the recipe's module on, rather than taken from `sys.modules` after
import: the answer is then the same in every process (it does not depend on what else the process
happened to import) and costs a parse of a few dozen small files once per run. Imports inside
functions count too. Only modules of the `synth` package (synth.recipes and synth.filters included)
and of the recipe's own top-level package are followed: third-party packages are left out, their
versions are in the manifest. A package's `__init__` counts when a name is taken from it
(`from synth.verify import check`), not when it is only the parent of the module imported
(`from synth import plugins`, `import synth.verify.steps`). Nothing is imported to find the files.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
from pathlib import Path


def imported_modules(module: str, roots: set[str]) -> dict[str, Path]:
    """Module name -> source file for `module` and every module it imports, transitively, whose
    top-level package is in `roots`."""
    found: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in found or name.partition(".")[0] not in roots:
            continue
        path = source_file(name)
        if path is None:
            continue
        found[name] = path
        tree = ast.parse(path.read_bytes(), filename=str(path))
        todo.extend(_imports(tree, name if path.name == "__init__.py" else name.rpartition(".")[0]))
    return found


def source_file(name: str) -> Path | None:
    """The .py file of module `name`, or None (a namespace package, a compiled extension, `__main__`,
    no such module). Found without importing anything."""
    spec = _spec(name)
    origin = getattr(spec, "origin", None)
    if not origin or not origin.endswith(".py"):
        return None
    path = Path(origin)
    return path if path.is_file() else None


def _spec(name: str):
    parent, _, _ = name.rpartition(".")
    try:
        if not parent or parent in sys.modules:
            return importlib.util.find_spec(name)  # imports nothing: the parent, if any, is loaded already
        outer = _spec(parent)  # find_spec would import the parent package (run its __init__): walk down instead
        locations = getattr(outer, "submodule_search_locations", None)
        return importlib.machinery.PathFinder.find_spec(name, list(locations)) if locations else None
    except (ImportError, ValueError, AttributeError):
        return None


def _imports(tree: ast.AST, package: str) -> list[str]:
    """The modules the code imports: `import a.b` gives a.b; `from a import b` gives a.b when that is a
    module, else a (b is a name in a's __init__); relative imports resolved against `package`."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                if node.level - 1 >= len(parts):
                    continue  # beyond the top-level package: Python refuses it too
                anchor = ".".join(parts[:len(parts) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            if not base:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                names.append(sub if alias.name != "*" and source_file(sub) else base)
    return names
