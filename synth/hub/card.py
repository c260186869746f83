"""The dataset card (README.md of a run directory) with Hub-readable YAML front matter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import yaml


def render_card(manifest: dict[str, Any], fields: list[str], *, load_path: str, shards: list[str],
                split: str = "train") -> str:
    """The card; `shards` are the data file names, listed one by one (see synth.hub.dataset)."""
    paths = [f"data/{name}" for name in shards]
    front = {
        "configs": [{"config_name": "default", "data_files": [{"split": split, "path": paths}]}],
        "tags": ["synthetic", "synth", f"synth-recipe-{manifest['recipe']['name']}"],
        "pretty_name": manifest["name"],
    }
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent)), autoescape=False,
                             keep_trailing_newline=True)
    return env.get_template("card_template.md").render(
        front_matter=yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip(),
        name=manifest["name"], synth_version=manifest["synth_version"], recipe=manifest["recipe"]["name"],
        recipe_version=manifest["recipe"]["version"], rows=manifest["rows"], model=manifest["engine"]["model"],
        engine=manifest["engine"]["kind"], toy_model=manifest["engine"]["kind"] == "embedded",
        stages=manifest["stages"], sampling=manifest["sampling"], fingerprint=manifest["fingerprint"],
        failed=manifest["rows"].get("failed", 0), fields=fields, load_path=load_path,
        coverage=coverage_lines(manifest.get("coverage")), structured=manifest.get("structured_outputs"))


def coverage_lines(coverage: dict[str, Any] | None, *, max_items: int = 20) -> list[str]:
    """A recipe's coverage report as Markdown lines: scalars as a list, lists (what is not covered)
    shortened to `max_items`, count tables (`{name: {key: n}}`) as two-column tables.

    >>> coverage_lines({"chunks": 3, "uncovered": ["a", "b"], "by_leaf": {"x": 2}})
    ['- chunks: 3', '- uncovered (2): a, b', '', '| by_leaf | rows |', '|---|---|', '| x | 2 |', '']
    """
    if not coverage:
        return []
    lines, tables = [], []
    for key, value in coverage.items():
        if isinstance(value, dict) and all(isinstance(v, (int, float)) for v in value.values()):
            tables.append(("", f"| {key} | rows |", "|---|---|",
                           *(f"| {k} | {v} |" for k, v in list(value.items())[:200]), ""))
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value[:max_items]) + (" …" if len(value) > max_items else "")
            lines.append(f"- {key} ({len(value)}): {shown or 'none'}")
        elif not isinstance(value, dict):
            lines.append(f"- {key}: {value}")
    return lines + [line for table in tables for line in table]
