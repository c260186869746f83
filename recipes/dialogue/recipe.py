"""`dialogue`: a persona talks to the assistant about a document (one chunk, or a group of related chunks)
for 2-6 turns, every assistant turn that states a fact carrying quotes verified in the source.

Seed rows: like `multi-hop` (whose groups.py and read_seeds shape this reuses), a row is ``{chunks:
[...]}``; with ``chunks_per_dialogue: 1`` each chunk is its own row, above 1 the chunks are grouped
deterministically. Per row, turn by turn (a turn needs the ones before it):

1. the user (played by the model as the row's persona, picked from ``personas`` by a hash of the row)
   asks an opening question, then follow-ups to the last answer;
2. a follow-up must lean on the earlier turns: a pronoun, demonstrative or ellipsis ("它", "这个",
   "那……呢", "and what about", "it", "that") found by ``refers_back``; one that stands alone is asked
   for once more, then the dialogue is rejected ``dialogue_followup_independent``;
3. the assistant replies as ``{reply, factual, evidence: [quotes]}``. A reply that states facts (says so,
   gives evidence, holds a number, or is neither short nor a question) goes through synth.grounding's
   ``check_answer`` against the document: quotes located (offsets into their chunk and document),
   numbers, terms, claims, lexical support; what those leave uncertain goes to a judge call (``judge:
   auto``, doc-qa's judge, its quotes verified too). A reply that does not pass is asked for once more with the
   reason (repair); still failing, the dialogue is rejected ``dialogue_<reason>`` (e.g.
   ``dialogue_ungrounded_quote``) with ``failed_turn``. Greetings and clarifying questions are kept with
   ``factual: false``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from synth.grounding import Context, Thresholds, check_answer, find_numbers, verify_quotes
from synth.recipe import Recipe, RecipeOptions
from synth.recipes.doc_qa.chunks import chunk_info, read_chunks
from synth.recipes.doc_qa.recipe import _generation, _Judgement
from synth.recipes.multi_hop.coverage import group_coverage
from synth.recipes.multi_hop.groups import group_language, is_group_table, make_groups
from synth.recipes.multi_hop.recipe import PROVENANCE
from synth.structured import StructuredOutputError, chat_json
from synth.text import count_units

PERSONAS = {"zh": ["刚入职、想弄清楚规定的新员工", "负责检查是否合规的审核人员", "需要尽快做决定的部门主管"],
            "en": ["a new employee trying to understand the rules", "an auditor checking compliance",
                   "a manager who has to decide quickly"]}

# words that point back at an earlier turn: pronouns, demonstratives, "and what about", "what else"
_REFERS_ZH = re.compile(r"它|它们|他们|这个|那个|这些|那些|这种|那种|这样|这一|那一|这项|该|其|此|上面|刚才|前面|"
                        r"还有|另外|那么|那如果|那.{0,12}呢|呢[？?]?\s*$|同样|也是|也要|也需要")
_REFERS_EN = re.compile(r"\b(?:it|its|it's|they|them|their|this|that|these|those|such|same|also|else|then|"
                        r"what about|how about|and if|and what)\b", re.I)


def refers_back(message: str) -> str | None:
    """The word by which a follow-up leans on the earlier turns, or None when it stands alone.

    >>> refers_back("那它多久检修一次？"), refers_back("And what about the air supply?")
    ('它', 'And what')
    >>> refers_back("压力机多久检修一次？") is None
    True
    """
    m = _REFERS_ZH.search(message) or _REFERS_EN.search(message)
    return m.group(0) if m else None


class DialogueOptions(RecipeOptions):
    text_field: str = Field("text", description="column with the chunk text (when seeds are chunks)")
    language: Literal["auto", "zh", "en"] = Field("auto", description="prompt language")
    personas: list[str] = Field([], description="who talks to the assistant; default: three generic ones")
    min_turns: int = Field(3, ge=2, le=6, description="user turns at least")
    max_turns: int = Field(4, ge=2, le=6, description="user turns at most (the count per dialogue is "
                           "hashed from the row)")
    chunks_per_dialogue: int = Field(1, ge=1, le=4, description="1: a dialogue per chunk; more: about a "
                                     "group of related chunks (multi-hop's grouping)")
    scope: Literal["any", "cross", "within"] = Field("any", description="grouping scope when chunks_per_dialogue > 1")
    min_similarity: float = Field(0.1, ge=0, le=1, description="grouping threshold when chunks_per_dialogue > 1")
    consistency_check: bool = Field(True, description="one call per conversation: does a reply contradict an "
                                    "earlier one?")
    judge: Literal["auto", "never"] = Field("auto", description="auto: a judge call settles a factual turn the "
                                            "cheap checks leave uncertain; never: such a turn fails")
    repair: bool = Field(True, description="ask once more for a turn that fails its check before rejecting")
    system: str | None = Field(None, description="system prompt of the SFT records")
    quote_threshold: float = Field(90.0, ge=50, le=100, description="partial_ratio a non-verbatim quote needs")
    support_threshold: float = Field(0.5, ge=0, le=1, description="lexical support a factual reply needs")
    temperature: float | None = Field(None, ge=0, le=2, description="default: the run's")
    max_tokens: int | None = Field(None, ge=1, description="default: the run's")
    retries: int = Field(2, ge=0, le=5, description="extra asks when an answer is not valid JSON")
    chunk_size: int | None = Field(None, ge=1, description="when seeds are documents: chunk size")
    overlap: int | None = Field(None, ge=0, description="when seeds are documents: overlap")


class _User(BaseModel):
    message: str = Field(..., min_length=1)


class _Consistency(BaseModel):
    contradicts: bool
    turn: int | None = None
    claim: str = ""


class _Reply(BaseModel):
    reply: str = Field(..., min_length=1)
    factual: bool = True
    evidence: list[str] = []


def _hash(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)


class DialogueRecipe(Recipe):
    name = "dialogue"
    version = "1"
    description = "Multi-turn conversations about a document; every factual assistant turn quotes it (verified)."
    Options = DialogueOptions

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        o = self.options
        if o.max_turns < o.min_turns:
            raise ValueError("max_turns must be at least min_turns")
        self.thresholds = Thresholds(quote_score=o.quote_threshold, support=o.support_threshold)

    def required_fields(self) -> list[str]:
        return ["chunks"]

    def read_seeds(self, path: Path) -> list[dict]:
        o = self.options
        rows = read_chunks(path, o.text_field, o.chunk_size, o.overlap)
        if is_group_table(rows):
            return rows
        if o.chunks_per_dialogue > 1:
            return make_groups(rows, text_field=o.text_field, group_size=o.chunks_per_dialogue,
                               min_similarity=o.min_similarity, scope=o.scope)
        out = []
        for r in rows:
            if isinstance(r.get(o.text_field), str) and r[o.text_field].strip():
                info = chunk_info(r, o.text_field)
                out.append({"group_id": info["id"], "chunks": [{**info, "lang": r.get("lang"),
                                                                "text": r[o.text_field]}]})
        return out

    async def run(self, row, llm):
        o = self.options
        chunks = row["chunks"]
        lang = group_language(chunks, o.language)
        gid = str(row.get("group_id") or "|".join(str(c.get("id")) for c in chunks))
        personas = o.personas or PERSONAS[lang]
        persona = personas[_hash(gid + "|persona") % len(personas)]
        n_turns = o.min_turns + _hash(gid + "|turns") % (o.max_turns - o.min_turns + 1)
        text, spans = self._document(chunks)
        ctx = Context(text)
        record = {"group": {"id": gid, "method": row.get("method"), "similarity": row.get("similarity")},
                  "chunks": [{k: c.get(k) for k in PROVENANCE} for c in chunks],
                  "contexts": [c["text"] for c in chunks], "lang": lang, "persona": persona, "turns": [],
                  "consistency": None, "messages": None, "failed_turn": None, "generation": None, "error": None}
        history: list[dict] = []
        for t in range(1, n_turns + 1):
            try:
                user, marker = await self._user_turn(llm, lang, persona, text, history)
                if t > 1 and marker is None:
                    return [{**record, "failed_turn": t, "rejected": "dialogue_followup_independent",
                             "turns": history + [self._turn(t, user, None)]}]
                turn, completion = await self._assistant_turn(llm, lang, text, ctx, spans, chunks, history, user)
            except StructuredOutputError as exc:
                return [{**record, "turns": history, "failed_turn": t, "error": str(exc),
                         "rejected": "json_unparseable"}]
            turn.update(turn=t, depends_on_earlier=marker)
            history.append(turn)
            record["generation"] = _generation(llm, completion)
            if turn["grounding"]["status"] not in ("pass", "not_factual"):
                return [{**record, "turns": history, "failed_turn": t,
                         "rejected": f"dialogue_{turn['grounding']['reason']}"}]
        if o.consistency_check and len(history) > 1:
            prompt = self.render(f"consistency_{lang}.j2", turns=history)
            try:
                got, _ = await chat_json(llm, [{"role": "user", "content": prompt}], _Consistency, retries=o.retries,
                                         temperature=0.0, max_tokens=o.max_tokens)
            except StructuredOutputError as exc:
                return [{**record, "turns": history, "error": str(exc), "rejected": "dialogue_check_unparseable"}]
            record["consistency"] = {"contradicts": got.contradicts, "turn": got.turn, "claim": got.claim}
            if got.contradicts:
                return [{**record, "turns": history, "failed_turn": got.turn,
                         "rejected": "dialogue_inconsistent_turns"}]
        system = [{"role": "system", "content": o.system}] if o.system else []
        messages = system + [m for h in history for m in ({"role": "user", "content": h["user"]},
                                                          {"role": "assistant", "content": h["assistant"]})]
        return [{**record, "turns": history, "messages": messages, "rejected": None}]

    @staticmethod
    def _document(chunks: list[dict]) -> tuple[str, list[tuple[int, int]]]:
        parts, spans, pos = [], [], 0
        for c in chunks:
            spans.append((pos, pos + len(c["text"])))
            parts.append(c["text"])
            pos += len(c["text"]) + 2
        return "\n\n".join(parts), spans

    @staticmethod
    def _turn(t: int, user: str, assistant: str | None) -> dict:
        return {"turn": t, "user": user, "assistant": assistant, "factual": None, "depends_on_earlier": None,
                "repaired": False, "evidence": [], "grounding": None}

    async def _user_turn(self, llm, lang, persona, text, history) -> tuple[str, str | None]:
        """The user's message and the word it refers back with (asked once more when it stands alone)."""
        o = self.options
        message, marker = "", None
        for attempt in range(2 if (history and o.repair) else 1):
            prompt = self.render(f"user_{lang}.j2", persona=persona, text=text, history=history,
                                 standalone=message if attempt else None)
            got, _ = await chat_json(llm, [{"role": "user", "content": prompt}], _User, retries=o.retries,
                                     temperature=o.temperature, max_tokens=o.max_tokens)
            message = got.message.strip()
            marker = refers_back(message) if history else None
            if not history or marker:
                break
        return message, marker

    async def _assistant_turn(self, llm, lang, text, ctx, spans, chunks, history, user):
        o = self.options
        problem = None
        for attempt in range(2 if o.repair else 1):
            prompt = self.render(f"assistant_{lang}.j2", text=text, history=history, message=user, problem=problem)
            got, completion = await chat_json(llm, [{"role": "user", "content": prompt}], _Reply, retries=o.retries,
                                              temperature=o.temperature, max_tokens=o.max_tokens)
            reply = got.reply.strip()
            quotes = [q for q in got.evidence if q.strip()]
            factual = got.factual or bool(quotes) or bool(find_numbers(reply)) or not (
                count_units(reply) <= 40 or reply.rstrip().endswith(("?", "？")))
            turn = {**self._turn(0, user, reply), "factual": factual, "repaired": attempt > 0}
            if not factual:
                turn["grounding"] = {"status": "not_factual", "reason": None, "method": None, "lexical_support": None}
                return turn, completion
            verdict = check_answer(reply, quotes, ctx, thresholds=self.thresholds)
            turn["evidence"] = [self._evidence(m, spans, chunks) for m in verdict.evidence]
            turn["grounding"] = {"status": verdict.status, "reason": verdict.reason, "method": None,
                                 "lexical_support": verdict.checks.get("lexical_support")}
            if verdict.status == "uncertain" and o.judge == "auto":
                await self._judge(llm, lang, text, ctx, spans, chunks, user, reply, turn)
            if turn["grounding"]["status"] == "pass":
                turn["grounding"]["method"] = turn["grounding"]["method"] or "checks"
                return turn, completion
            problem = turn["grounding"]["reason"]
        return turn, completion

    async def _judge(self, llm, lang, text, ctx, spans, chunks, user, reply, turn) -> None:
        """Settle an uncertain turn: a supported verdict with quotes found in the document passes it
        (``method: judge``, the judge's quotes added to the evidence); otherwise its reason says why."""
        prompt = self.render(f"judge_{lang}.j2", text=text, message=user, reply=reply)
        g = turn["grounding"]
        try:
            got, _ = await chat_json(llm, [{"role": "user", "content": prompt}], _Judgement,
                                     retries=self.options.retries, temperature=0.0, max_tokens=self.options.max_tokens)
        except StructuredOutputError:
            g["reason"] = "judge_json_unparseable"
            return
        quotes = verify_quotes([q for q in got.evidence if q.strip()], ctx, self.thresholds)
        if not got.supported:
            g["reason"] = "judge_unsupported"
        elif not quotes or not all(m.found for m in quotes):
            g["reason"] = "judge_ungrounded_quote"
        else:
            turn["evidence"] += [self._evidence(m, spans, chunks) for m in quotes]
            g.update(status="pass", method="judge")

    @staticmethod
    def _evidence(match, spans, chunks) -> dict:
        out = {"chunk_id": None, **match.as_dict(None)}
        if match.found:
            for (lo, hi), c in zip(spans, chunks):
                if lo <= match.start < hi + 1:
                    start, end = match.start - lo, min(match.end, hi) - lo
                    doc = c.get("start")
                    out.update(chunk_id=c.get("id"), start=start, end=end,
                               doc_start=doc + start if doc is not None else None,
                               doc_end=doc + end if doc is not None else None)
                    break
        return out

    def coverage(self, seeds: list[dict], kept: list[dict]) -> dict:
        """Groups, chunks, documents and headings the kept conversations used (multi-hop's coverage.py)."""
        turns = [len(r.get("turns") or []) for r in kept]
        return {**group_coverage(seeds, kept), "dialogues": len(kept),
                "turns_mean": round(sum(turns) / len(turns), 2) if turns else None,
                "factual_turns": sum(1 for r in kept for t in r.get("turns") or [] if t.get("factual"))}
