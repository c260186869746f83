"""Personas: who asks the questions of a cell (Persona Hub, Ge et al. 2024, arXiv 2406.20094).

The public persona sets are CC-BY-NC-SA (Persona Hub) or have no Chinese locale (Nemotron-Personas),
so personas come from the user: a list in the options, a file, the `personas:` of the tree file, or
generated for the domain by the model (`personas: {generate: N}` in a run, or `synth taxonomy`).

A persona file is a .txt (one per line, `#` comments), a .yaml list (or a tree file with `personas:`),
or a table (.jsonl/.json/.csv/.parquet) with a `persona` column.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from synth.errors import InputError
from synth.io import read_rows
from synth.recipes.taxonomy.lists import ask_list, clean_items


def load_personas(path: str | Path) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"persona file not found: {p} (options.personas_file: a .txt, .yaml or .jsonl file)")
    if p.suffix.lower() in (".txt", ".yaml", ".yml"):
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{p} is not valid UTF-8 (byte {exc.start}): re-save it as UTF-8") from None
        if p.suffix.lower() == ".txt":
            items = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        else:
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise InputError(f"{p}: malformed YAML ({getattr(exc, 'problem', None) or exc})") from None
            items = data.get("personas") if isinstance(data, dict) else data
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise InputError(f"{p}: expected a YAML list of persona descriptions (or a `personas:` list)")
    else:
        rows = read_rows(p)
        missing = next((i for i, r in enumerate(rows, 1) if not str(r.get("persona") or "").strip()), None)
        if missing:
            raise InputError(f"{p}: row {missing} has no 'persona' field: name the column `persona`")
        items = [str(r["persona"]) for r in rows]
    personas = clean_items(items)
    if not personas:
        raise InputError(f"{p} lists no personas: add one description per line")
    return personas


async def generate_personas(recipe, llm, *, domain: str, n: int, language: str, topics: list[str],
                            **sampling) -> list[str]:
    """`n` distinct personas who would ask about `domain`; StructuredOutputError when the model
    gives fewer after retries."""
    prompt = recipe.render(f"personas_{language}.j2", domain=domain, n=n, topics=topics)
    personas, _ = await ask_list(llm, [{"role": "user", "content": prompt}], "personas", n, min_items=n,
                                 **sampling)
    return personas
