"""`doc-quiz`: questions with a rule-checkable answer from document chunks, for RL on verifiable rewards
and for domain evaluation sets (issue 23).

Per chunk (a seed row from `synth ingest`, or documents cut on the fly, as doc-qa reads them), one ask
per format for ``items_per_format`` items as JSON (synth.structured), then every item is verified,
cheap rules first (checks.py; items.py builds each format's records), the model only for what rules
cannot settle:

- ``cloze``: a sentence copied from the chunk and a key span of it masked; the sentence and the span
  must be found in the chunk (offsets recorded), the blank not trivial, the masked sentence must not
  still contain the answer and must stand alone;
- ``mcq``: single or multiple answer (``multiple_share`` of the chunks, decided by a hash of the chunk id),
  distractors drawn by the model from the chunk and a related chunk (doc-qa's DistractorPool);
  options shuffled by a generator seeded from the seed row's key, format and slot (same seed row, same
  letters; a resumed run is identical). Rules: no duplicate options, no distractor equal to a correct
  one, the answer not in the question, not guessable by length, each correct option in the chunk or
  grounded by verified quotes (synth.grounding.check_answer); a distractor that occurs in the chunk
  may be correct too, so the judge settles it;
- ``true_false``: two records, the chunk's statement (grounded by verified quotes) and a minimally
  altered one that must contradict it: by rule when only a negation was added/removed or only an
  unbounded number changed (checks.alteration), else by the judge; an altered statement found in the
  chunk is rejected. The two are kept or rejected together (``tf_twin_rejected``), so true and false
  answers stay balanced;
- ``short_answer``: a number with unit, date, name or term found verbatim in the chunk (offsets),
  short, not in the question, comparable by synth.verify.check, and inside a verified evidence quote
  (else the judge answers the question from the chunk and must agree).

The judge (``judge_role``'s engine, else the run's) *solves* the item from the chunk, and its answer is
scored by the item's own checker (rewards.score): agreement keeps an item the rules left uncertain
(``judge: auto``) or confirms one they passed (``always``). Every rejection is a record with its reason.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any, Literal

from pydantic import BaseModel, Field

from synth.grounding import Thresholds
from synth.recipe import Recipe, RecipeOptions
from synth.recipes.doc_qa.chunks import ChunkSeeds, read_chunk
from synth.recipes.doc_qa.raft import DistractorPool
from synth.recipes.doc_quiz import items as it
from synth.recipes.doc_quiz.duplicates import FormatBalanceStage, ItemDedupStage
from synth.recipes.doc_quiz.exports import to_eval, to_rl
from synth.rewards import letters, score
from synth.seeds import row_key
from synth.structured import StructuredOutputError, chat_json

Format = Literal["cloze", "mcq", "true_false", "short_answer"]
FORMATS = ("cloze", "mcq", "true_false", "short_answer")


class DocQuizOptions(RecipeOptions):
    text_field: str = Field("text", description="seed column holding the chunk text")
    language: Literal["auto", "zh", "en"] = Field("auto", description="prompt language; auto: the chunk's "
                                                  "`lang`, else by its script")
    formats: list[Format] = Field(list(FORMATS), min_length=1, description="question formats, one ask each per chunk")
    items_per_format: int = Field(1, ge=1, le=10, description="items asked per format and chunk")
    mcq_options: int = Field(4, ge=3, le=8, description="options per multiple-choice item")
    multiple_share: float = Field(0.3, ge=0, le=1, description="share of MCQ slots asking for 2 correct options")
    judge: Literal["auto", "always", "never"] = Field("auto", description="auto: the judge settles items the "
                                                      "rules leave uncertain; always: also confirms those they "
                                                      "passed; never: uncertain items are rejected")
    judge_role: str | None = Field(None, description="engine role of the judge (config `engines:`); "
                                   "default: the run's engine")
    dedup_threshold: float | None = Field(0.7, gt=0, le=1, description="Jaccard (character / word bigrams) at "
                                          "which an item's question duplicates an earlier one of its format; "
                                          "null: no item dedup")
    balance_formats: bool = Field(False, description="keep as many items of each format as of the scarcest "
                                  "(a true/false pair counts once), spread over the corpus by a hash")
    max_answer_chars: int = Field(40, ge=1, description="longest short answer / cloze span (characters)")
    temperature: float | None = Field(None, ge=0, le=2, description="item asks; default: the run's")
    max_tokens: int | None = Field(None, ge=1, description="item and judge asks; default: the run's")
    retries: int = Field(2, ge=0, le=5, description="extra asks when an answer is not valid JSON")
    chunk_size: int | None = Field(None, ge=1, description="when seeds are documents: chunk size (ingest default)")
    overlap: int | None = Field(None, ge=0, description="when seeds are documents: overlap (ingest default)")


class _Solve(BaseModel):
    answer: str


def _generation(llm, completion) -> dict:
    return {"model": llm.engine.model, "finish_reason": completion.finish_reason, "seed": completion.seed,
            "prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens}


def _hash(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)


class DocQuizRecipe(ChunkSeeds, Recipe):  # seeds: chunk rows or documents, as doc-qa's (chunks.ChunkSeeds)
    name = "doc-quiz"
    version = "1"
    description = ("Cloze, multiple-choice, true/false and short-answer items from document chunks, each "
                   "verified against its chunk, with checker specs for RL rewards and evaluation sets.")
    Options = DocQuizOptions
    exports = {"rl": to_rl, "eval": to_eval}

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.thresholds = Thresholds()
        self.pool = DistractorPool([])

    def stages(self) -> list:
        """Near-duplicate items across chunks, decided over all records at once (duplicates.py)."""
        threshold = self.options.dedup_threshold
        stages: list = [ItemDedupStage(self.name, threshold)] if threshold else []
        return stages + ([FormatBalanceStage(self.name)] if self.options.balance_formats else [])

    def roles(self) -> list[str]:
        return [self.options.judge_role] if self.options.judge_role else []

    # -- one chunk -----------------------------------------------------------------------------------
    async def run(self, row, llm):
        o = self.options
        text, chunk, lang = read_chunk(row, o.text_field, o.language)
        base = {"chunk": chunk, "context": text, "lang": lang, "key": row_key(row)}
        groups = await asyncio.gather(*(self._format(llm, base, fmt) for fmt in o.formats))
        return [r for group in groups for r in group]

    def _multiple(self, chunk_id: str) -> bool:
        """Whether this chunk's MCQ ask wants 2 correct options (a hash of the chunk: no state, no order)."""
        return _hash(f"{chunk_id}|mcq") % 1000 < self.options.multiple_share * 1000

    async def _format(self, llm, base: dict, fmt: str) -> list[dict]:
        o = self.options
        chunk, n = base["chunk"], o.items_per_format
        multiple = fmt == "mcq" and self._multiple(chunk["id"])
        related = None
        if fmt == "mcq" and len(self.pool) > 1:
            picked = self.pool.pick({**chunk, "text": base["context"]}, 1)
            related = self.pool.by_id[picked[0]] if picked else None
        prompt = self.render("item.j2", lang=base["lang"], format=fmt, n=n, text=base["context"],
                             headings=chunk["headings"], related=related["text"] if related else None,
                             multiple=multiple, options=o.mcq_options)
        try:
            got, completion = await chat_json(llm, [{"role": "user", "content": prompt}], it.SCHEMAS[fmt],
                                              retries=o.retries, temperature=o.temperature, max_tokens=o.max_tokens)
        except StructuredOutputError as exc:
            return [it.new_record(base, fmt, slot, rejected="json_unparseable", error=str(exc)) for slot in range(n)]
        gen = _generation(llm, completion)
        items = list(got.items)[:n]
        out: list[dict] = []
        for slot, item in enumerate(items):
            if fmt == "cloze":
                recs = [it.cloze(base, slot, item, o)]
            elif fmt == "mcq":
                recs = [it.mcq(base, slot, item, related, multiple, o, self.thresholds)]  # as the ask asked for
            elif fmt == "true_false":
                recs = it.true_false(base, slot, item, self.thresholds)
            else:
                recs = [it.short_answer(base, slot, item, o, self.thresholds)]
            out += recs
        for slot in range(len(items), n):
            out.append(it.new_record(base, fmt, slot, rejected="item_shortfall"))
        for r in out:
            r["generation"] = gen
        await asyncio.gather(*(self._judge(llm, r) for r in out if self._wants_judge(r)))
        for r in out:
            status = r["verification"]["status"]
            if status != "pass" and not r.get("rejected"):
                r["rejected"] = r["verification"]["reason"]
        if fmt == "true_false":  # kept in pairs: true and false items stay balanced (a policy always
            for slot in range(len(items)):  # answering "true" must not earn a reward on the rest)
                pair = [r for r in out if r["slot"] == slot]
                if any(r.get("rejected") for r in pair):
                    for r in pair:
                        if not r.get("rejected"):
                            v = r["verification"]
                            v["checks"]["own_status"] = v["status"]
                            v["status"], v["reason"] = "fail", "tf_twin_rejected"
                            r["rejected"] = "tf_twin_rejected"
        return out

    def _wants_judge(self, record: dict) -> bool:
        status = record["verification"]["status"]
        return (self.options.judge == "auto" and status == "uncertain") or \
               (self.options.judge == "always" and status in ("pass", "uncertain"))

    # -- the judge -----------------------------------------------------------------------------------
    async def _judge(self, llm, record: dict) -> None:
        """The judge answers the item from the chunk; its answer, scored by the item's own checker,
        must be right."""
        judge = llm.role(self.options.judge_role)
        prompt = self.render("judge.j2", lang=record["lang"], text=record["context"], prompt=record["prompt"])
        v = record["verification"]
        try:
            got, _ = await chat_json(judge, [{"role": "user", "content": prompt}], _Solve, retries=self.options.retries,
                                     temperature=0.0, max_tokens=self.options.max_tokens)
        except StructuredOutputError as exc:
            v["judge"] = {"answer": None, "agrees": None, "error": str(exc)}
            v["status"], v["reason"] = "fail", "judge_json_unparseable"
            return
        agrees = score(record["verifier"], got.answer) == 1.0
        v["judge"] = {"answer": got.answer, "agrees": agrees, "error": None}
        if agrees:
            v["method"] = "judge" if v["status"] == "uncertain" else "rules+judge"
            v["status"], v["reason"] = "pass", None
            return
        reason = v["reason"] or "judge_disagrees"
        if record["format"] == "mcq":
            named = letters(got.answer) or set()
            gold = set(record["verifier"]["choices"])
            reason = "mcq_distractor_also_correct" if named > gold else "judge_disagrees"
        elif record["format"] == "true_false":
            reason = "tf_altered_not_contradicting" if record["variant"] == "altered" else "tf_statement_unsupported"
        v["status"], v["reason"] = "fail", reason

    # -- coverage ------------------------------------------------------------------------------------
    def coverage(self, seeds: list[dict], kept: list[dict]) -> dict:
        """Chunks and documents with kept items, and kept items per format."""
        from synth.recipes.doc_qa.coverage import chunk_coverage

        cov = chunk_coverage(seeds, kept, self.options.text_field, [])
        cov.pop("rows_by_task_type", None)
        counts: dict[str, int] = {f: 0 for f in self.options.formats}
        for r in kept:
            counts[r["format"]] = counts.get(r["format"], 0) + 1
        cov["rows_by_format"] = counts
        return cov

