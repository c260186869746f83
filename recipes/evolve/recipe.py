"""`evolve`: Evol-Instruct (WizardLM, Xu et al. 2023, arXiv 2304.12244) over any instruction file.

Per seed instruction, `rounds` evolutions are chained inside one row: round r rewrites the last
surviving instruction of the chain with one operation, picked from `operations` by a seed (the
paper picks uniformly), then answers it. In-depth operations (the prompts of `WizardLM/Evol_Instruct/
depth.py`, and "complicate input" from the paper) make the instruction harder; in-breadth (`breadth.py`)
writes a new, rarer instruction of the same domain. An evolution that fails an elimination rule
(rules.py) becomes a record with `"rejected": "evol_<rule>"` (the runner moves it to rejected.jsonl),
and, as in the paper, its parent goes back to the pool: the next round evolves the parent again.

Chaining inside the row (not follow-up rows) keeps every chain in one place: a resumed run replays
it from the request cache, and round r never waits for the filters of round r − 1.

Seeds: a table (.jsonl/.json/.csv/.parquet or a run's data/ folder) with an instruction column
(`field`), or chat rows whose first user message is the instruction (outputs of other recipes).
Left out: the paper's re-answering with a second model and its ShareGPT-based rounds.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from synth.errors import InputError
from synth.io import read_rows
from synth.recipe import Recipe, RecipeOptions
from synth.recipes.evolve.rules import copies_template, sorry_short, stopwords_only
from synth.structured import StructuredOutputError, chat_json
from synth.text import prompt_language

IN_DEPTH = ("add_constraints", "deepening", "concretizing", "increase_reasoning", "complicate_input")
OPERATIONS = (*IN_DEPTH, "breadth")
Operation = Literal["add_constraints", "deepening", "concretizing", "increase_reasoning", "complicate_input",
                    "breadth"]


class Equality(BaseModel):
    equal: bool


class EvolveOptions(RecipeOptions):
    field: str = Field("instruction", description="seed column holding the instruction (else the first user "
                       "message of `messages`)")
    rounds: int = Field(4, ge=1, le=10, description="evolutions chained per seed (the paper: 4 rounds)")
    operations: list[Operation] = Field(list(OPERATIONS), min_length=1, description="operations to pick from")
    language: Literal["auto", "zh", "en"] = Field("auto", description="template language (auto: per instruction)")
    seed: int = Field(0, description="seed of the operation choice")
    system: str | None = Field(None, description="system prompt of the answers (kept in `messages`)")
    evolve_temperature: float = Field(1.0, ge=0, le=2, description="the paper's main.py: 1.0")
    evolve_top_p: float = Field(0.95, gt=0, le=1, description="the paper's main.py: 0.95")
    evolve_max_tokens: int | None = Field(None, ge=1, description="default: the run's")
    answer_temperature: float | None = Field(None, ge=0, le=2, description="default: the run's")
    answer_max_tokens: int | None = Field(None, ge=1, description="default: the run's")
    equality_check: bool = Field(True, description="rule 1: an LLM judges whether the evolution adds anything")
    check_max_tokens: int | None = Field(None, ge=1, description="tokens of the equality answer (default: the run's)")
    sorry_max_words: int = Field(80, ge=1, description="rule 2: 'sorry' in fewer words eliminates (paper: 80)")
    sorry_max_chars_zh: int = Field(120, ge=1, description="rule 2 for Chinese: 抱歉/无法 in fewer characters")


class EvolveRecipe(Recipe):
    name = "evolve"
    version = "1"
    description = "Evol-Instruct: chained in-depth / in-breadth evolutions with the paper's elimination rules."
    Options = EvolveOptions

    def read_seeds(self, path: Path) -> list[dict]:
        """The instructions of a table, each checked; rows keep only the instruction and an id."""
        rows = []
        for i, row in enumerate(read_rows(path), 1):
            text = instruction_of(row, self.options.field)
            if not text:
                raise InputError(f"{path}: row {i} has no {self.options.field!r} field and no user message in "
                                 "'messages' (set options.field to the instruction column)")
            rows.append({self.options.field: text, **({"id": str(row["id"])} if row.get("id") else {})})
        return rows

    async def run(self, row, llm):
        o = self.options
        root = instruction_of(row, o.field)
        if not root:
            raise InputError(f"seed row has no {o.field!r} field and no user message: {str(row)[:80]}")
        root_id = str(row.get("id") or _hash(root))
        language = o.language if o.language != "auto" else prompt_language(root)
        current = {"instruction": root, "id": root_id, "depth": 0}
        records = []
        for rnd in range(1, o.rounds + 1):
            op = random.Random(f"{o.seed}:{root_id}:{rnd}").choice(o.operations)
            prompt = self.render(f"{op}_{language}.j2", instruction=current["instruction"])
            (ec,) = await llm.chat([{"role": "user", "content": prompt}], temperature=o.evolve_temperature,
                                   top_p=o.evolve_top_p, max_tokens=o.evolve_max_tokens,
                                   seed=llm.seed_for(o.seed, root_id, rnd))
            evolved = ec.text.strip()
            evolution = {"id": _hash(f"{root_id}:{rnd}:{op}"), "parent_id": current["id"], "root_id": root_id,
                         "parent_instruction": current["instruction"], "root_instruction": root, "operation": op,
                         "kind": "in-depth" if op in IN_DEPTH else "in-breadth", "depth": current["depth"] + 1,
                         "round": rnd, "language": language}
            reason = await self._eliminate_instruction(evolved, current["instruction"], language, llm)
            answer = None if reason else await self._answer(evolved, llm)
            if answer and sorry_short(answer[1].text, o.sorry_max_words, o.sorry_max_chars_zh):
                reason = "evol_sorry_short"
            elif answer and stopwords_only(answer[1].text):
                reason = "evol_stopwords_only"
            records.append(_record(llm, evolved, evolution, ec, answer, reason))
            if reason is None:  # a failed evolution's parent goes back to the pool (paper §3)
                current = {"instruction": evolved, "id": evolution["id"], "depth": evolution["depth"]}
        return records

    async def _eliminate_instruction(self, evolved: str, parent: str, language: str, llm) -> str | None:
        """Rules checked before answering: empty, copied template words (4), no information gain (1)."""
        if not evolved:
            return "evol_empty_instruction"
        if copies_template(evolved):
            return "evol_copied_template"
        if not self.options.equality_check:
            return None
        prompt = self.render(f"equal_{language}.j2", first=parent, second=evolved)
        try:
            verdict, _ = await chat_json(llm, [{"role": "user", "content": prompt}], Equality, temperature=0.0,
                                         max_tokens=self.options.check_max_tokens)
        except StructuredOutputError as exc:
            return f"json_unparseable: equality check: {exc}"
        return "evol_no_information_gain" if verdict.equal else None

    async def _answer(self, instruction: str, llm):
        o = self.options
        prompt = ([{"role": "system", "content": o.system}] if o.system else []) + \
                 [{"role": "user", "content": instruction}]
        (c,) = await llm.chat(prompt, temperature=o.answer_temperature, max_tokens=o.answer_max_tokens)
        return [*prompt, {"role": "assistant", "content": c.text}], c

    def coverage(self, seeds, kept):
        """Kept evolutions by operation and depth, and how many seeds kept none."""
        mine = [r for r in kept if isinstance(r.get("evolution"), dict)]
        roots = {r["evolution"]["root_id"] for r in mine}
        seed_ids = {str(s.get("id") or _hash(instruction_of(s, self.options.field) or "")) for s in seeds}
        return {"seeds": len(seed_ids), "rows": len(mine), "seeds_without_evolution": len(seed_ids - roots),
                "rows_by_operation": dict(Counter(r["evolution"]["operation"] for r in mine).most_common()),
                "rows_by_depth": {str(d): n for d, n in sorted(Counter(r["evolution"]["depth"] for r in mine).items())}}


def instruction_of(row: dict, field: str = "instruction") -> str:
    """The instruction of a seed row: `field`, else the first user message of `messages` (OpenAI
    `{role, content}` or ShareGPT `{from, value}`).

    >>> instruction_of({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": " Hi "}]})
    'Hi'
    """
    value = row.get(field)
    if isinstance(value, str) and value.strip():
        return value.strip()
    for key in ("messages", "conversations"):
        for m in row.get(key) or []:
            if isinstance(m, dict) and (m.get("role") or m.get("from")) in ("user", "human"):
                text = m.get("content", m.get("value"))
                return text.strip() if isinstance(text, str) else ""
    return ""


def _record(llm, evolved: str, evolution: dict, ec, answer, reason: str | None) -> dict:
    messages, c = answer if answer else (None, None)
    record = {"messages": messages, "instruction": evolved, "response": c.text if c else None,
              "reasoning": c.reasoning if c else None, "evolution": evolution,
              "generation": {"model": llm.engine.model, "finish_reason": c.finish_reason if c else None,
                             "seed": c.seed if c else None, "prompt_tokens": c.prompt_tokens if c else 0,
                             "completion_tokens": c.completion_tokens if c else 0,
                             "evolve_finish_reason": ec.finish_reason, "evolve_seed": ec.seed}}
    if reason:
        record["rejected"] = reason
    return record


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
