"""The one packaging fact pyproject.toml cannot say: which packages to ship, found rather than listed.

synth/ ships as `synth`, and recipes/ and filters/ (top-level folders of the repository) as
`synth.recipes` / `synth.filters` (the package-dir mapping in pyproject.toml). Every folder with an
`__init__.py` under them is a package, so a new built-in recipe or filter is one new folder or module:
nothing to list here or in pyproject.toml, and no reinstall of an editable install (synth.plugins
finds built-ins by scanning the package). Everything else is in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = str(Path(__file__).resolve().parent)


def packages() -> list[str]:
    found = find_packages(HERE, include=["synth", "synth.*"])
    for folder in ("recipes", "filters"):
        found += [f"synth.{name}" for name in find_packages(HERE, include=[folder, f"{folder}.*"])]
    return sorted(found)


if __name__ == "__main__":
    setup(packages=packages())
