"""`taxonomy`: a topic tree → an instruction grid with quotas, a coverage report and top-ups.

GLAN (Li et al. 2024, arXiv 2402.13064) generates homework questions per key concept of a taxonomy and
answers them with another model; Persona Hub (arXiv 2406.20094) gets diversity from the persona that
asks. Here the seeds are a tree file of a business domain (tree.py); every cell of the grid
leaf × task type × difficulty × persona × language (grid.py) is one seed row that asks for exactly
`quota` questions (JSON, lists.py), drops near-duplicate questions within the cell (synth.dedup), and
answers the rest, optionally on another engine (`answer_engine`: a role under the config's
`engines:`). After filters and dedup the runner asks `coverage` for rows per leaf / task / difficulty
/ persona / language and the thin cells, and `follow_up` for top-up rows (round r + 1, quota = the
shortfall) up to `max_rounds`.

Left out: GLAN's subject → syllabus → class-session levels (the tree's leaves play the key concepts;
`synth taxonomy` writes topics → subtopics → knowledge points) and its sampling of several concepts
per question (one leaf per cell).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from synth.errors import ConfigError, InputError
from synth.recipe import Recipe, RecipeOptions
from synth.recipes.taxonomy import grid
from synth.recipes.taxonomy.coverage import report, top_ups
from synth.recipes.taxonomy.lists import ask_list
from synth.recipes.taxonomy.personas import generate_personas, load_personas
from synth.recipes.taxonomy.tree import TREE_SUFFIXES, load_tree
from synth.structured import StructuredOutputError
from synth.text import prompt_language


class GeneratePersonas(RecipeOptions):
    generate: int = Field(..., ge=1, le=200, description="personas the model writes for the domain")


class CellSample(RecipeOptions):
    sample: int = Field(..., ge=1, description="cells kept, spread evenly over the leaves")
    seed: int = Field(0, description="seed of the sample (same seed, same cells)")


class TaxonomyOptions(RecipeOptions):
    domain: str | None = Field(None, description="the domain named in prompts (default: the tree's `domain`, "
                               "else its top topics)")
    task_types: list[str] = Field(["qa", "explanation", "howto", "case"], min_length=1,
                                  description="task types (built in: " + ", ".join(grid.TASK_TYPES) + ")")
    task_descriptions: dict[str, str] = Field({}, description="your own task types: name -> description")
    difficulties: list[str] = Field(["basic", "intermediate", "advanced"], min_length=1,
                                    description="difficulty levels (built in: " + ", ".join(grid.DIFFICULTIES) + ")")
    difficulty_descriptions: dict[str, str] = Field({}, description="your own levels: name -> description")
    personas: list[str] | GeneratePersonas | None = Field(
        None, description="who asks: a list, or {generate: N}; default: personas_file, else the tree's `personas`")
    personas_file: str | None = Field(None, description=".txt / .yaml / .jsonl file of personas")
    languages: list[Literal["zh", "en"]] | None = Field(None, min_length=1,
                                                        description="languages (default: the tree's `language`, "
                                                        "else detected from its names)")
    quota: int = Field(2, ge=1, le=100, description="questions per cell")
    leaf_weights: dict[str, float] = Field({}, description="quota multipliers by node path ('topic/subtopic')")
    task_weights: dict[str, float] = Field({}, description="quota multipliers by task type")
    cells: Literal["all"] | CellSample = Field("all", description="all cells, or {sample: N, seed: S}")
    max_rounds: int = Field(1, ge=0, le=5, description="top-up rounds for cells left thin after filters and dedup")
    question_dedup_threshold: float | None = Field(0.6, gt=0, le=1, description="MinHash Jaccard above which two "
                                                   "questions of one cell are duplicates (null: keep all)")
    system: str | None = Field(None, description="system prompt of the answers (kept in `messages`)")
    question_temperature: float | None = Field(None, ge=0, le=2, description="default: the run's")
    question_max_tokens: int | None = Field(None, ge=1, description="default: the run's")
    answer_temperature: float | None = Field(None, ge=0, le=2, description="default: the run's")
    answer_max_tokens: int | None = Field(None, ge=1, description="default: the run's")
    answer_engine: str | None = Field(None, description="engine role that answers (a name under the config's "
                                      "`engines:`, e.g. teacher); default: the run's `engine`")

    @field_validator("answer_engine", mode="before")
    @classmethod
    def _role_not_endpoint(cls, value):
        if isinstance(value, dict):  # the form before engines by role
            raise ValueError("name an engine role: put the endpoint under the config's engines: (engines: "
                             "{teacher: {base_url: ..., model: ...}}) and write answer_engine: teacher")
        return value


class TaxonomyRecipe(Recipe):
    name = "taxonomy"
    version = "1"
    description = "Topic tree -> question grid (leaf x task x difficulty x persona) with quotas, coverage, top-ups."
    Options = TaxonomyOptions
    path_options = ("personas_file",)

    def __init__(self, options=None) -> None:
        super().__init__(options)
        o = self.options
        grid.check_names("task_types", o.task_types, grid.TASK_TYPES, o.task_descriptions, "task_descriptions")
        grid.check_names("difficulties", o.difficulties, grid.DIFFICULTIES, o.difficulty_descriptions,
                         "difficulty_descriptions")
        stray = [t for t in o.task_weights if t not in o.task_types]
        if stray:
            raise ConfigError(f"recipe 'taxonomy': options.task_weights: {stray[0]!r} is not in task_types")
        if any(w < 0 for w in [*o.task_weights.values(), *o.leaf_weights.values()]):
            raise ConfigError("recipe 'taxonomy': options.leaf_weights / task_weights: weights must be >= 0")
        if o.personas is not None and o.personas_file:
            raise ConfigError("recipe 'taxonomy': give options.personas or options.personas_file, not both")
        self._personas: dict[tuple, list[str]] = {}
        self._persona_locks: dict[tuple, asyncio.Lock] = {}

    def required_fields(self) -> list[str]:
        return ["leaf", "task", "difficulty"]

    # -- seeds: the tree expanded into cells -------------------------------------------------------
    def read_seeds(self, path: Path) -> list[dict] | None:
        if path.suffix.lower() not in TREE_SUFFIXES:
            return None  # a table of cells (e.g. edited by hand): rows with leaf, task, difficulty
        o = self.options
        tree = load_tree(path)
        personas: list[str | int | None]
        if isinstance(o.personas, GeneratePersonas):
            personas = list(range(o.personas.generate))
        elif o.personas is not None:
            personas = list(o.personas) or [None]
        elif o.personas_file:
            personas = list(load_personas(o.personas_file))
        else:
            personas = list(tree.personas) or [None]
        languages = o.languages or [tree.language if tree.language in ("zh", "en") else
                                    prompt_language(" ".join(" ".join(leaf) for leaf in tree.leaves[:50]))]
        domain = o.domain or tree.domain or ", ".join(dict.fromkeys(leaf[0] for leaf in tree.leaves))
        cells = grid.build_cells(tree.leaves, tasks=o.task_types, difficulties=o.difficulties, personas=personas,
                                 languages=list(languages), quota=o.quota,
                                 leaf_weights=grid.parse_leaf_weights(o.leaf_weights, tree.leaves),
                                 task_weights=o.task_weights)
        if isinstance(o.cells, CellSample):
            cells = grid.sample_cells(cells, o.cells.sample, seed=o.cells.seed)
        if not cells:
            raise InputError(f"{path}: every cell has quota 0: raise options.quota or the weights")
        return [{"domain": domain, **cell} for cell in cells]

    def _cell(self, row: dict) -> dict:
        """A seed row with every field filled (rows from a table may leave some out)."""
        o = self.options
        path = [str(p) for p in row.get("path") or [row["leaf"]]]
        language = row.get("language") or (o.languages or [prompt_language(" ".join(path))])[0]
        persona = row.get("persona")
        slot = row.get("persona_slot")
        cell = {"domain": row.get("domain") or o.domain or path[0], "path": path, "leaf": str(row["leaf"]),
                "task": str(row["task"]), "difficulty": str(row["difficulty"]), "persona": persona,
                "persona_slot": slot, "language": language, "quota": int(row.get("quota") or o.quota),
                "round": int(row.get("round") or 0), "avoid": list(row.get("avoid") or [])}
        cell["cell"] = row.get("cell") or grid.cell_id(path, cell["task"], cell["difficulty"],
                                                       persona if slot is None else f"#{slot}", language)
        for kind, names, catalog, custom in (("task", o.task_types, grid.TASK_TYPES, o.task_descriptions),
                                             ("difficulty", o.difficulties, grid.DIFFICULTIES,
                                              o.difficulty_descriptions)):
            if cell[kind] not in catalog and cell[kind] not in custom:
                raise InputError(f"cell {cell['cell']}: unknown {kind} {cell[kind]!r}: describe it in "
                                 f"options.{kind if kind == 'difficulty' else 'task'}_descriptions")
        return cell

    # -- one cell ----------------------------------------------------------------------------------
    async def run(self, row, llm):
        o = self.options
        cell = self._cell(row)
        persona = cell["persona"] if cell["persona_slot"] is None else await self._generated_persona(cell, llm)
        lang = cell["language"]
        prompt = self.render(f"question_{lang}.j2", domain=cell["domain"], path=cell["path"], leaf=cell["leaf"],
                             task=grid.describe(grid.TASK_TYPES, o.task_descriptions, cell["task"], lang),
                             difficulty=grid.describe(grid.DIFFICULTIES, o.difficulty_descriptions,
                                                      cell["difficulty"], lang),
                             persona=persona, n=cell["quota"], avoid=cell["avoid"])
        # a top-up round asks again with its own seed: the same prompt must not come back from the cache
        seed = None if cell["round"] == 0 else llm.seed_for(cell['cell'], cell['round'])
        base = {"taxonomy": {"domain": cell["domain"], "path": cell["path"], "leaf": cell["leaf"],
                             "task": cell["task"], "difficulty": cell["difficulty"], "persona": persona,
                             "language": lang},
                "cell": cell["cell"], "round": cell["round"]}
        try:
            questions, qc = await ask_list(llm, [{"role": "user", "content": prompt}], "questions", cell["quota"],
                                           seed=seed, temperature=o.question_temperature,
                                           max_tokens=o.question_max_tokens)
        except StructuredOutputError as exc:
            return [{**base, **_empty_answer(None, 0), "generation": None, "rejected": f"json_unparseable: {exc}"}]
        duplicate = _near_duplicates(questions, o.question_dedup_threshold)
        asked = [q for i, q in enumerate(questions) if i not in duplicate]
        answer_llm = llm.role(o.answer_engine)
        answers = await asyncio.gather(*(self._answer(answer_llm, q) for q in asked))
        by_question = dict(zip(asked, answers))
        records = []
        for i, question in enumerate(questions):
            if i in duplicate:
                records.append({**base, **_empty_answer(question, i), "generation": None,
                                "rejected": "question_near_duplicate"})
                continue
            messages, c, model = by_question[question]
            records.append({**base, "question_index": i, "messages": messages, "instruction": question,
                            "response": c.text, "reasoning": c.reasoning,
                            "generation": {"model": model, "finish_reason": c.finish_reason, "seed": c.seed,
                                           "prompt_tokens": c.prompt_tokens,
                                           "completion_tokens": c.completion_tokens,
                                           "question_model": llm.engine.model, "question_seed": qc.seed}})
        return records

    async def _answer(self, llm, question: str):
        o = self.options
        prompt = ([{"role": "system", "content": o.system}] if o.system else []) + \
                 [{"role": "user", "content": question}]
        (c,) = await llm.chat(prompt, temperature=o.answer_temperature, max_tokens=o.answer_max_tokens)
        return [*prompt, {"role": "assistant", "content": c.text}], c, llm.engine.model

    def roles(self) -> list[str]:
        return [self.options.answer_engine] if self.options.answer_engine else []

    async def _generated_persona(self, cell: dict, llm) -> str:
        """Persona number `persona_slot` of `personas: {generate: N}`, generated once per domain and language."""
        n = self.options.personas.generate if isinstance(self.options.personas, GeneratePersonas) else \
            cell["persona_slot"] + 1
        key = (cell["domain"], cell["language"], n)
        lock = self._persona_locks.setdefault(key, asyncio.Lock())
        async with lock:  # concurrent rows wait for one request instead of each sending it
            if key not in self._personas:
                self._personas[key] = await generate_personas(
                    self, llm, domain=cell["domain"], n=n, language=cell["language"], topics=[],
                    temperature=self.options.question_temperature)
        return self._personas[key][cell["persona_slot"]]

    # -- after the stages: coverage and top-ups ----------------------------------------------------
    def coverage(self, seeds, kept):
        return report(self._first_pass(seeds), seeds, kept)

    def follow_up(self, seeds, kept):
        """Top-up rows for the thin cells (coverage.py); none when `max_rounds` is 0."""
        if self.options.max_rounds == 0:
            return []
        return top_ups(self._first_pass(seeds), seeds, kept, max_rounds=self.options.max_rounds)

    def _first_pass(self, seeds: list[dict]) -> dict[str, dict]:
        """Round-0 rows by cell id, fields filled (their quota is the cell's)."""
        out = {}
        for s in seeds:
            try:
                cell = self._cell(s)
            except (InputError, KeyError, TypeError, ValueError):
                continue  # a row that cannot run made no records: it failed and is in failed.jsonl
            if cell["round"] == 0:
                out[cell["cell"]] = cell
        return out


def _empty_answer(question: str | None, index: int) -> dict:
    return {"question_index": index, "messages": None, "instruction": question, "response": None, "reasoning": None}


def _near_duplicates(questions: list[str], threshold: float | None) -> set[int]:
    """Indexes of questions that repeat an earlier one of the same cell (exact or MinHash near)."""
    if threshold is None or len(questions) < 2:
        return set()
    from synth.dedup import DedupConfig, dedup_rows

    rows = [{"id": i, "text": q} for i, q in enumerate(questions)]
    result = dedup_rows(rows, DedupConfig(near=True, threshold=threshold, fields=["text"], workers=1))
    return {row["id"] for row in result.dropped}
