"""`synth taxonomy DOMAIN --out tree.yaml`: draft a topic tree and personas for the `taxonomy` recipe."""

from __future__ import annotations

import asyncio
import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from synth.cli._app import app
from synth.errors import InputError
from synth.paths import check_out
from synth.text import prompt_language


class Language(str, Enum):
    zh = "zh"
    en = "en"


@app.command("taxonomy")
def taxonomy_command(
    domain: Annotated[str, typer.Argument(help="The domain to cover, e.g. 金融 or 'clinical medicine'.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="YAML tree file to write.")],
    description: Annotated[str | None, typer.Option("--description",
                                                    help="The scope in one sentence, e.g. 'retail banking'.")] = None,
    language: Annotated[Language | None, typer.Option("--language", help="Language of the tree (default: "
                                                      "zh when DOMAIN is mostly Chinese, else en).")] = None,
    topics: Annotated[int, typer.Option("--topics", min=1, max=50, help="Top-level topics.")] = 6,
    subtopics: Annotated[int, typer.Option("--subtopics", min=0, max=50, help="Subtopics per topic "
                                           "(0: knowledge points right under the topics).")] = 4,
    points: Annotated[int, typer.Option("--points", min=1, max=50, help="Knowledge points per subtopic.")] = 5,
    personas: Annotated[int, typer.Option("--personas", min=0, max=200, help="Personas to write (0: none).")] = 8,
    base_url: Annotated[str | None, typer.Option("--base-url", envvar="SYNTH_BASE_URL",
                                                 help="OpenAI-compatible endpoint, e.g. http://gpu:8000/v1.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model name served at --base-url.")] = None,
    api_key_env: Annotated[str, typer.Option("--api-key-env",
                                             help="Environment variable holding the API key.")] = "OPENAI_API_KEY",
    temperature: Annotated[float, typer.Option("--temperature", min=0, max=2, help="Sampling temperature.")] = 0.7,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=16, help="Tokens per answer.")] = 1024,
    seed: Annotated[int, typer.Option("--seed", help="Run seed: the same seed gives the same requests.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUT if it exists.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Draft a taxonomy of DOMAIN (topics -> subtopics -> knowledge points) and personas into a YAML file.

    Review and edit the file, then use it as the seeds of a `taxonomy` run (examples/taxonomy-finance-zh.yaml).
    GLAN-style: one JSON request per node, level by level. Without --base-url the embedded CPU model is used.
    """
    check_out(out, is_dir=False)  # before the model is asked anything
    if out.exists() and not force:
        raise InputError(f"{out} exists: it may hold your edits; pass --force to overwrite it or choose another --out")
    lang = language.value if language else prompt_language(domain)
    draft, served = asyncio.run(_draft(domain, lang, description, topics, subtopics, points, personas, base_url, model,
                               api_key_env, temperature, max_tokens, seed, quiet))
    from synth.io import write_text

    header = (f"# Drafted by `synth taxonomy` with {served} on {datetime.date.today()}: review and edit it\n"
              f"# (rename, merge, delete, add), then use it as `seeds:` of a run with `recipe: taxonomy`.\n")
    write_text(out, draft.to_yaml(header))
    for problem in draft.skipped:
        typer.echo(f"warning: left out {problem}", err=True)
    typer.echo(f"{out}: {len(draft.tree)} topics, {draft.subtopics} subtopics, "
               f"{draft.leaves} knowledge points, {len(draft.personas)} personas")


async def _draft(domain, language, description, topics, subtopics, points, personas, base_url, model,
                 api_key_env, temperature, max_tokens, seed, quiet):
    from synth.config import EngineConfig
    from synth.engines.base import Sampling
    from synth.llm import LLM
    from synth.progress import status
    from synth.recipes.taxonomy.generate import draft_tree
    from synth.recipes.taxonomy.recipe import TaxonomyRecipe
    from synth.build import make_engine

    engine = make_engine(EngineConfig(base_url=base_url, model=model, api_key_env=api_key_env))
    with status("starting the engine", quiet=quiet):
        await engine.start()
    try:
        llm = LLM(engine, None, Sampling(temperature=temperature, max_tokens=max_tokens), run_seed=seed)
        with status(f"drafting the taxonomy of {domain}", quiet=quiet):
            draft = await draft_tree(TaxonomyRecipe(), llm, domain=domain, language=language, topics=topics,
                                     subtopics=subtopics, points=points, personas=personas, description=description)
        return draft, engine.model or engine.kind
    finally:
        await engine.close()
