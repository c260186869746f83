"""Draft a taxonomy tree for a domain with a model: topics → subtopics → knowledge points, and personas.

GLAN builds its taxonomy with GPT-4 and has people check it (arXiv 2402.13064, §2.1); this is the
first half. `synth taxonomy` writes the result as YAML for a person to review, edit and re-use as
the seeds of the `taxonomy` recipe. Each level is one JSON request per parent (lists.py), the
requests of a level run concurrently. A branch whose answer never parses is left out and named in
`skipped`; the tree is checked with the recipe's own loader before anything is written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import yaml

from synth.errors import RecipeError
from synth.recipes.taxonomy.lists import ask_list
from synth.recipes.taxonomy.personas import generate_personas
from synth.recipes.taxonomy.tree import parse_yaml
from synth.structured import StructuredOutputError


@dataclass
class Draft:
    domain: str
    language: str
    tree: dict[str, dict[str, list[str]] | list[str]]  # topic -> subtopic -> points, or topic -> points
    personas: list[str]
    description: str | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def subtopics(self) -> int:
        return sum(len(subs) for subs in self.tree.values() if isinstance(subs, dict))

    @property
    def leaves(self) -> int:
        return sum(len(subs) if isinstance(subs, list) else sum(len(p) for p in subs.values())
                   for subs in self.tree.values())

    def to_yaml(self, header: str = "") -> str:
        doc = {"domain": self.domain, **({"description": self.description} if self.description else {}),
               "language": self.language, "personas": self.personas, "tree": self.tree}
        text = header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)
        parse_yaml(text, "generated tree")  # what the recipe will load: fails here, not in a later run
        return text


async def draft_tree(recipe, llm, *, domain: str, language: str, topics: int, subtopics: int, points: int,
                     personas: int, description: str | None = None, **sampling) -> Draft:
    """Ask for the levels one after another (`subtopics` 0: knowledge points right under the topics);
    RecipeError when the top level or every leaf failed."""
    skipped: list[str] = []

    async def children(path: list[str], level: str, n: int) -> list[str]:
        prompt = recipe.render(f"children_{language}.j2", domain=domain, description=description, path=path,
                               level=level, n=n)
        try:
            items, _ = await ask_list(llm, [{"role": "user", "content": prompt}], "items", n, **sampling)
        except StructuredOutputError as exc:
            skipped.append(f"{' / '.join(path) or domain}: {exc}")
            return []
        return items

    top = await children([], "topics", topics)
    if not top:
        raise RecipeError(f"no topics for {domain!r}: {skipped[0] if skipped else 'empty answer'} "
                          "(try a larger model, or --max-tokens)")
    tree: dict = {}
    if subtopics == 0:
        leaves = await asyncio.gather(*(children([t], "points", points) for t in top))
        tree = {t: pts for t, pts in zip(top, leaves) if pts}
    else:
        subs = await asyncio.gather(*(children([t], "subtopics", subtopics) for t in top))
        pairs = [(t, s) for t, ss in zip(top, subs) for s in ss]
        leaves = await asyncio.gather(*(children([t, s], "points", points) for t, s in pairs))
        for (t, s), pts in zip(pairs, leaves):
            if pts:
                tree.setdefault(t, {})[s] = pts
    if not tree:
        raise RecipeError(f"no knowledge points for {domain!r}: {skipped[-1] if skipped else 'empty answers'}")
    people: list[str] = []
    if personas:
        try:
            people = await generate_personas(recipe, llm, domain=domain, n=personas, language=language,
                                             topics=list(tree), **sampling)
        except StructuredOutputError as exc:
            skipped.append(f"personas: {exc}")
    return Draft(domain, language, tree, people, description, skipped)
