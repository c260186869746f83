"""What each extra of pyproject.toml costs on disk: the installed size of its dependency closure.

Reads the venv this runs in (each distribution's RECORD, file sizes from disk), walks the requirements
of `[project] dependencies` and of each extra with their markers and extras, and prints the size of the
core closure and of what each extra adds beyond it. An extra whose packages are not installed in this
venv is reported as such (install it first, or read its size from a venv that has it).

    .venv/bin/python bench/install_sizes.py [--pyproject pyproject.toml]
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def installed() -> dict[str, md.Distribution]:
    return {canonicalize_name(d.metadata["Name"]): d for d in md.distributions()}


def size_of(dist: md.Distribution) -> int:
    total = 0
    for f in dist.files or []:
        try:
            total += f.locate().stat().st_size
        except OSError:
            pass
    return total


def closure(requirements: list[str], dists: dict[str, md.Distribution]) -> tuple[set[str], set[str]]:
    """(installed distributions the requirements pull in, names that are not installed)."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    missing: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        dist = dists.get(name)
        if dist is None:
            missing.add(name)
            continue
        key = (name, tuple(sorted(req.extras)))
        if key in seen:
            continue
        seen.add(key)
        for spec in dist.requires or []:
            dep = Requirement(spec)
            if dep.marker is None:
                todo.append(dep)
            elif any(dep.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
                todo.append(dep)
    return {n for n, _ in seen}, missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", default="pyproject.toml")
    args = parser.parse_args()
    project = tomllib.load(open(args.pyproject, "rb"))["project"]
    dists = installed()
    sizes = {n: size_of(d) for n, d in dists.items()}
    core, missing = closure(project["dependencies"], dists)
    print(f"core: {len(core)} distributions, {sum(sizes[n] for n in core) / 1e6:,.0f} MB installed"
          + (f" (not installed: {', '.join(sorted(missing))})" if missing else ""))
    for extra, reqs in project.get("optional-dependencies", {}).items():
        names, missing = closure(reqs, dists)
        beyond = names - core
        biggest = sorted(beyond, key=lambda n: -sizes[n])[:5]
        print(f"[{extra}]: +{len(beyond)} distributions, +{sum(sizes[n] for n in beyond) / 1e6:,.0f} MB beyond core"
              + (f"; largest: {', '.join(f'{n} {sizes[n] / 1e6:,.0f} MB' for n in biggest)}" if biggest else "")
              + (f"; NOT INSTALLED here: {', '.join(sorted(missing))}" if missing else ""))


if __name__ == "__main__":
    main()
