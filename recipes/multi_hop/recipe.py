"""`multi-hop`: questions that need 2-4 related chunks (within or across documents), each hop's evidence
verified in its own chunk.

Seed rows are *groups* of chunks, made deterministically before the first request (groups.py): the
recipe's ``read_seeds`` reads chunks (chunks.jsonl from `synth ingest`, or a folder of documents cut as
doc-qa cuts them) and groups them; a table whose rows already have a ``chunks`` list is taken as groups
as it is. So one seed row is one group: resume, ``--limit``, seed keys and failures work per group with
nothing new in the runner, and ``--seeds`` takes a folder or chunks.jsonl as it does for doc-qa.

Per group: one call writes ``{question, answer, evidence: [{chunk, quote}]}`` for a question type fixed
in advance (comparison / causal / temporal / aggregation, in turn from a hash of the group id); then,
cheapest first, rejected with the reason:

1. ``answer_leaks_source`` / ``question_not_standalone`` / ``empty_answer`` (synth.grounding, doc-qa's
   question checks, and ``names_passages``: "资料1", "passage 2", "the two passages");
2. ``multi_hop_missing_hop``: a chunk without a quote; ``multi_hop_ungrounded_quote``: a quote not found
   in the chunk it names (located with synth.grounding, offsets into the chunk and its document);
3. ``ungrounded_number``: a number of the answer in none of the chunks (aggregation questions may
   compute one);
4. ``multi_hop_single_chunk_answerable``: per chunk, the model is asked to answer from that chunk alone
   or to say it cannot; a chunk it answers from makes the question single-hop;
5. ``multi_hop_contradicts_chunk``: a consistency call over all chunks says the answer contradicts one.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from synth.grounding import Context, Thresholds, leak, missing_numbers, verify_quotes
from synth.recipe import Recipe, RecipeOptions
from synth.recipes.doc_qa import questions as q
from synth.recipes.doc_qa.chunks import read_chunks
from synth.recipes.doc_qa.recipe import _generation, split_reasoning
from synth.recipes.multi_hop.coverage import group_coverage
from synth.recipes.multi_hop.groups import group_language, is_group_table, make_groups
from synth.structured import StructuredOutputError, chat_json

QuestionType = Literal["comparison", "causal", "temporal", "aggregation"]
QUESTION_TYPES = ("comparison", "causal", "temporal", "aggregation")
TYPE_LABELS = {
    "zh": {"comparison": "比较（两段或几段资料中的对象、要求或数值有何异同）",
           "causal": "因果（一段资料中的原因或条件，导致另一段资料中的结果或要求）",
           "temporal": "时间与顺序（各段资料中的步骤、期限或周期如何先后衔接）",
           "aggregation": "汇总（把各段资料中的条目、数量或要求合起来）"},
    "en": {"comparison": "comparison (how the subjects, requirements or values of the passages differ or agree)",
           "causal": "causal (a cause or condition in one passage leads to a result or requirement in another)",
           "temporal": "temporal (how the steps, deadlines or intervals of the passages follow one another)",
           "aggregation": "aggregation (the items, quantities or requirements of the passages put together)"},
}
PROVENANCE = ("id", "source", "doc_id", "headings", "start", "end")
# a question that names the numbered passages it was written from ("资料1", "第二段", "passage 2", "[1]",
# "the two passages") cannot be asked without them; doc-qa's patterns catch the single-text ones
_NAMES_PASSAGES = re.compile(r"(?:资料|材料|段落|文段|片段)\s*[0-9一二三四①②③④]|第\s*[0-9一二三四]\s*(?:段|份资料|篇)|"
                             r"[两二三四几]\s*(?:段|份|篇)\s*(?:资料|材料|文字|文本)|\[\s*\d\s*\]|"
                             r"\b(?:passage|excerpt|text|document)s?\s*#?\d|\b(?:the|these|both|two|three|four)\s+"
                             r"(?:passages|excerpts|texts)\b", re.I)


def names_passages(question: str) -> str | None:
    """The phrase by which a question points at the numbered passages it was written from, or None.

    >>> names_passages("资料1和资料2中的期限有何不同？"), names_passages("How do the two passages differ?")
    ('资料1', 'two passages')
    >>> names_passages("首件检验和不合格品评审的期限有何不同？") is None
    True
    """
    m = _NAMES_PASSAGES.search(question)
    return m.group(0) if m else None


class MultiHopOptions(RecipeOptions):
    text_field: str = Field("text", description="column with the chunk text (when seeds are chunks)")
    language: Literal["auto", "zh", "en"] = Field("auto", description="prompt language; auto: the chunks' "
                                                  "`lang`, else by script")
    group_size: int = Field(3, ge=2, le=4, description="chunks per group at most")
    min_similarity: float = Field(0.1, ge=0, le=1, description="smallest tf-idf cosine between any two "
                                  "members of a group")
    scope: Literal["any", "cross", "within"] = Field("any", description="cross: chunks of different documents "
                                                     "only; within: one document; any: both")
    max_uses: int = Field(1, ge=1, le=10, description="groups a chunk may be in")
    max_df: float = Field(0.5, gt=0, le=1, description="terms in more than this share of chunks do not relate "
                          "chunks")
    question_types: list[QuestionType] = Field(list(QUESTION_TYPES), min_length=1,
                                               description="question types, in turn by group")
    single_chunk_check: bool = Field(True, description="reject questions the model answers from one chunk")
    consistency_check: bool = Field(True, description="reject answers a consistency call finds contradicting a chunk")
    system: str | None = Field(None, description="system prompt of the SFT records")
    quote_threshold: float = Field(90.0, ge=50, le=100, description="partial_ratio a non-verbatim quote needs")
    temperature: float | None = Field(None, ge=0, le=2, description="question call; default: the run's")
    max_tokens: int | None = Field(None, ge=1, description="question call; default: the run's")
    retries: int = Field(2, ge=0, le=5, description="extra asks when an answer is not valid JSON")
    chunk_size: int | None = Field(None, ge=1, description="when seeds are documents: chunk size")
    overlap: int | None = Field(None, ge=0, description="when seeds are documents: overlap")


class _Hop(BaseModel):
    chunk: int
    quote: str


class _Generated(BaseModel):
    question: str = Field(..., min_length=2)
    answer: str = ""
    evidence: list[_Hop] = []


class _Single(BaseModel):
    answerable: bool
    answer: str = ""


class _Consistency(BaseModel):
    contradicts: bool
    chunk: int | None = None
    claim: str = ""


def to_rag(record: dict) -> dict | None:
    if not record.get("answer"):
        return None
    return {"question": record["question"], "contexts": record["contexts"], "answer": record["answer"],
            "evidence": [[e["quote"] for e in h["evidence"] if e["method"]] for h in record["hops"]],
            "chunk_ids": [c["id"] for c in record["chunks"]]}


class MultiHopRecipe(Recipe):
    name = "multi-hop"
    version = "1"
    description = "Questions that need 2-4 related chunks, with a verified quote from every chunk."
    Options = MultiHopOptions
    exports = {"rag": to_rag}

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.thresholds = Thresholds(quote_score=self.options.quote_threshold)

    def required_fields(self) -> list[str]:
        return ["chunks"]

    def read_seeds(self, path: Path) -> list[dict]:
        """Groups: made from chunks (a table or documents), or a table of groups taken as it is."""
        o = self.options
        rows = read_chunks(path, o.text_field, o.chunk_size, o.overlap)
        if is_group_table(rows):
            return rows
        return make_groups(rows, text_field=o.text_field, group_size=o.group_size, min_similarity=o.min_similarity,
                           scope=o.scope, max_uses=o.max_uses, max_df=o.max_df)

    async def run(self, row, llm):
        o = self.options
        chunks = [c for c in row["chunks"]]
        lang = group_language(chunks, o.language)
        gid = str(row.get("group_id") or hashlib.sha1("|".join(str(c.get("id")) for c in chunks).encode())
                  .hexdigest()[:16])
        qtype = o.question_types[int(hashlib.sha1(gid.encode()).hexdigest(), 16) % len(o.question_types)]
        record = {
            "group": {"id": gid, "method": row.get("method"), "scope": row.get("scope"),
                      "similarity": row.get("similarity"), "shared_terms": row.get("shared_terms") or []},
            "chunks": [{k: c.get(k) for k in PROVENANCE} for c in chunks],
            "contexts": [c["text"] for c in chunks], "lang": lang, "question_type": qtype,
            "question": None, "answer": None, "hops": [], "consistency": None, "messages": None,
            "instruction": None, "response": None, "reasoning": None, "generation": None, "error": None,
        }
        prompt = self.render(f"generate_{lang}.j2", chunks=chunks, type_label=TYPE_LABELS[lang][qtype])
        try:
            got, completion = await chat_json(llm, [{"role": "user", "content": prompt}], _Generated,
                                              retries=o.retries, temperature=o.temperature, max_tokens=o.max_tokens)
        except StructuredOutputError as exc:
            return [{**record, "error": str(exc), "rejected": "json_unparseable"}]
        question, answer = got.question.strip(), got.answer.strip()
        record.update(question=question, answer=answer, reasoning=split_reasoning(completion)[1],
                      generation=_generation(llm, completion))
        contexts = [Context(c["text"]) for c in chunks]
        hops = []
        for i, (c, ctx) in enumerate(zip(chunks, contexts), start=1):
            quotes = [h.quote for h in got.evidence if h.chunk == i and h.quote.strip()]
            matches = verify_quotes(quotes, ctx, self.thresholds)
            evidence = [{**m.as_dict(c.get("start")), "found_in": None} for m in matches]
            for e, m in zip(evidence, matches):
                if not m.found:  # a quote from another chunk of the group: say which
                    e["found_in"] = next((o.get("id") for o, octx in zip(chunks, contexts) if o is not c
                                          and verify_quotes([m.quote], octx, self.thresholds)[0].found), None)
            hops.append({"chunk_id": c.get("id"), "evidence": evidence, "single_chunk": None})
        stray = [h.quote for h in got.evidence if not 1 <= h.chunk <= len(chunks)]
        record["hops"] = hops
        rejected = self._cheap_checks(question, answer, hops, stray, chunks, qtype)
        if rejected is None:
            rejected = await self._model_checks(llm, record, chunks, lang)
        if rejected is None:
            system = [{"role": "system", "content": o.system}] if o.system else []
            record.update(messages=system + [{"role": "user", "content": question},
                                             {"role": "assistant", "content": answer}],
                          instruction=question, response=answer)
        return [{**record, "rejected": rejected}]

    def _cheap_checks(self, question, answer, hops, stray, chunks, qtype) -> str | None:
        if not answer:
            return "empty_answer"
        if leak(answer):
            return "answer_leaks_source"
        if q.context_dependent(question) or names_passages(question):
            return "question_not_standalone"
        if stray or any(not e["method"] for h in hops for e in h["evidence"]):
            return "multi_hop_ungrounded_quote"
        if any(not h["evidence"] for h in hops):
            return "multi_hop_missing_hop"
        if qtype != "aggregation" and missing_numbers(answer, Context("\n\n".join(c["text"] for c in chunks))):
            return "ungrounded_number"
        return None

    async def _model_checks(self, llm, record, chunks, lang) -> str | None:
        o = self.options
        question, answer = record["question"], record["answer"]

        async def single(c):
            prompt = self.render(f"single_{lang}.j2", text=c["text"], question=question)
            try:
                got, _ = await chat_json(llm, [{"role": "user", "content": prompt}], _Single, retries=o.retries,
                                         temperature=0.0, max_tokens=o.max_tokens)
            except StructuredOutputError as exc:
                return {"answerable": None, "answer": None, "error": str(exc)}
            return {"answerable": got.answerable, "answer": got.answer.strip(), "error": None}

        async def consistency():
            prompt = self.render(f"consistency_{lang}.j2", chunks=chunks, question=question, answer=answer)
            try:
                got, _ = await chat_json(llm, [{"role": "user", "content": prompt}], _Consistency,
                                         retries=o.retries, temperature=0.0, max_tokens=o.max_tokens)
            except StructuredOutputError as exc:
                return {"contradicts": None, "chunk_id": None, "claim": None, "error": str(exc)}
            cid = chunks[got.chunk - 1].get("id") if got.chunk and 1 <= got.chunk <= len(chunks) else None
            return {"contradicts": got.contradicts, "chunk_id": cid, "claim": got.claim, "error": None}

        singles = [single(c) for c in chunks] if o.single_chunk_check else []
        checks = singles + ([consistency()] if o.consistency_check else [])
        results = await asyncio.gather(*checks)
        for hop, verdict in zip(record["hops"], results[:len(singles)]):
            hop["single_chunk"] = verdict
        if o.consistency_check:
            record["consistency"] = results[-1]
        if any(h["single_chunk"] and h["single_chunk"]["answerable"] for h in record["hops"]):
            return "multi_hop_single_chunk_answerable"
        if any(h["single_chunk"] and h["single_chunk"]["error"] for h in record["hops"]):
            return "multi_hop_check_unparseable"
        if record["consistency"] is not None:
            if record["consistency"]["contradicts"]:
                return "multi_hop_contradicts_chunk"
            if record["consistency"]["error"]:
                return "multi_hop_check_unparseable"
        return None

    def coverage(self, seeds: list[dict], kept: list[dict]) -> dict:
        """Groups, chunks, documents and headings the kept questions used (coverage.py), rows per type."""
        by_type: dict[str, int] = {}
        for r in kept:
            by_type[r.get("question_type")] = by_type.get(r.get("question_type"), 0) + 1
        return {**group_coverage(seeds, kept), "rows_by_question_type": by_type}
