"""`doc-quiz`: questions with a rule-checkable answer from document chunks, for RL on verifiable rewards
and for domain evaluation sets (issue 23).

Per chunk (a seed row from `synth ingest`, or documents cut on the fly, as doc-qa reads them), one ask
per format for ``items_per_format`` items as JSON (synth.structured), then every item is verified,
cheap rules first (checks.py), the model only for what rules cannot settle:

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
import random
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from synth.grounding import Context, Thresholds, check_answer, normalize, verify_quotes
from synth.recipe import Recipe, RecipeOptions
from synth.recipes.doc_qa.chunks import chunk_info, read_chunks_and_pool
from synth.recipes.doc_qa.raft import DistractorPool
from synth.recipes.doc_quiz import checks as ck
from synth.recipes.doc_quiz.duplicates import FormatBalanceStage, ItemDedupStage
from synth.recipes.doc_quiz.exports import to_eval, to_rl
from synth.rewards import letters, score
from synth.seeds import row_key
from synth.structured import StructuredOutputError, chat_json
from synth.text import prompt_language

Format = Literal["cloze", "mcq", "true_false", "short_answer"]
FORMATS = ("cloze", "mcq", "true_false", "short_answer")
LETTERS = "ABCDEFGH"


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


class _Cloze(BaseModel):
    sentence: str
    answer: str


class _Mcq(BaseModel):
    question: str
    correct: list[str]
    distractors: list[str]
    evidence: list[str] = []


class _TrueFalse(BaseModel):
    statement: str
    altered: str
    evidence: list[str] = []


class _Short(BaseModel):
    question: str
    answer: str
    evidence: list[str] = []


_ITEM = {"cloze": _Cloze, "mcq": _Mcq, "true_false": _TrueFalse, "short_answer": _Short}
_SCHEMAS = {f: type(f"_{f}_items", (BaseModel,), {"__annotations__": {"items": list[m]}}) for f, m in _ITEM.items()}


class _Solve(BaseModel):
    answer: str


_TEXT = {
    "zh": {"cloze": "填空：{q}\n只写出空白处（____）的内容。", "true_false": "判断正误：{q}\n请回答“正确”或“错误”。",
           "short_answer": "{q}\n只写出答案。", "single": "（单选题）请只回答一个选项字母。",
           "multiple": "（多选题，选出所有正确选项）请只回答选项字母，用逗号分隔。", True: "正确", False: "错误"},
    "en": {"cloze": "Fill in the blank: {q}\nGive only the words that go in the blank (____).",
           "true_false": "True or false: {q}\nAnswer \"true\" or \"false\".", "short_answer": "{q}\nGive only the answer.",
           "single": "(One answer.) Reply with the letter only.",
           "multiple": "(Choose all that apply.) Reply with the letters, comma-separated.", True: "True", False: "False"},
}


def _generation(llm, completion) -> dict:
    return {"model": llm.engine.model, "finish_reason": completion.finish_reason, "seed": completion.seed,
            "prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens}


def _hash(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)


class DocQuizRecipe(Recipe):
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

    def required_fields(self) -> list[str]:
        return [self.options.text_field]

    def stages(self) -> list:
        """Near-duplicate items across chunks, decided over all records at once (duplicates.py)."""
        threshold = self.options.dedup_threshold
        stages: list = [ItemDedupStage(self.name, threshold)] if threshold else []
        return stages + ([FormatBalanceStage(self.name)] if self.options.balance_formats else [])

    def roles(self) -> list[str]:
        return [self.options.judge_role] if self.options.judge_role else []

    def read_seeds(self, path: Path) -> list[dict] | None:
        """Chunk rows (chunks.jsonl from `synth ingest`) or documents, read as doc-qa reads them; all rows
        are kept as the pool related chunks (MCQ distractor material) come from."""
        o = self.options
        rows, self.pool = read_chunks_and_pool(path, o.text_field, o.chunk_size, o.overlap)
        return rows

    # -- one chunk -----------------------------------------------------------------------------------
    async def run(self, row, llm):
        o = self.options
        text = str(row[o.text_field])
        chunk = chunk_info(row, o.text_field)
        lang = self._language(row, text)
        base = {"chunk": chunk, "context": text, "lang": lang, "key": row_key(row)}
        groups = await asyncio.gather(*(self._format(llm, base, fmt) for fmt in o.formats))
        return [r for group in groups for r in group]

    def _language(self, row: dict, text: str) -> str:
        if self.options.language != "auto":
            return self.options.language
        lang = str(row.get("lang") or "").lower()
        if lang.startswith("zh"):
            return "zh"
        if lang and lang != "und":
            return "en"
        return prompt_language(text)

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
            got, completion = await chat_json(llm, [{"role": "user", "content": prompt}], _SCHEMAS[fmt],
                                              retries=o.retries, temperature=o.temperature, max_tokens=o.max_tokens)
        except StructuredOutputError as exc:
            return [self._record(base, fmt, slot, rejected="json_unparseable", error=str(exc)) for slot in range(n)]
        gen = _generation(llm, completion)
        items = list(got.items)[:n]
        out: list[dict] = []
        for slot, item in enumerate(items):
            if fmt == "cloze":
                recs = [self._cloze(base, slot, item)]
            elif fmt == "mcq":
                recs = [self._mcq(base, slot, item, related, multiple)]  # as the ask asked for
            elif fmt == "true_false":
                recs = self._true_false(base, slot, item)
            else:
                recs = [self._short(base, slot, item)]
            out += recs
        for slot in range(len(items), n):
            out.append(self._record(base, fmt, slot, rejected="item_shortfall"))
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

    # -- the formats ---------------------------------------------------------------------------------
    def _cloze(self, base: dict, slot: int, item: _Cloze) -> dict:
        text = base["context"]
        sentence, answer = item.sentence.strip(), item.answer.strip()
        rec = self._record(base, "cloze", slot, answer=answer)
        where = ck.span(sentence, text) if sentence else None
        if where is None:
            return self._verdict(rec, "fail", "cloze_sentence_not_in_chunk", question=sentence or None)
        s0, s1 = where
        inner = ck.span(answer, text[s0:s1]) if answer else None
        if inner is None:
            return self._verdict(rec, "fail", "answer_not_in_chunk", question=text[s0:s1])
        a0, a1 = s0 + inner[0], s0 + inner[1]
        masked = (text[s0:a0] + "____" + text[a1:s1]).strip()
        rec["answer"] = text[a0:a1]
        rec["answer_span"] = self._span(base, a0, a1)
        self._pose(rec, masked)
        if ck.trivial(answer):
            return self._verdict(rec, "fail", "cloze_trivial_answer")
        if len(answer) > self.options.max_answer_chars:
            return self._verdict(rec, "fail", "answer_too_long")
        if ck.leaked(answer, masked.replace("____", " ")):
            return self._verdict(rec, "fail", "answer_leaked")
        if len(normalize(masked.replace("____", ""))) < 6:
            return self._verdict(rec, "fail", "cloze_too_little_context")
        if ck.standalone_problem(masked):
            return self._verdict(rec, "fail", "question_not_standalone")
        return self._verdict(rec, "pass", None)

    def _mcq(self, base: dict, slot: int, item: _Mcq, related: dict | None, multiple: bool) -> dict:
        o, text = self.options, base["context"]
        question = item.question.strip()
        correct = [c.strip() for c in item.correct if c.strip()]
        distractors = [d.strip() for d in item.distractors if d.strip()][:max(0, o.mcq_options - len(correct))]
        rng = random.Random(f"{base['key']}|mcq|{slot}")
        options = [(c, True) for c in correct] + [(d, False) for d in distractors]
        rng.shuffle(options)
        rel_text = related["text"] if related else ""
        opts = [{"letter": LETTERS[i], "text": t, "correct": ok,
                 "source": "chunk" if ck.span(t, text) else (related["id"] if rel_text and ck.span(t, rel_text) else None)}
                for i, (t, ok) in enumerate(options[:len(LETTERS)])]
        gold = [x["letter"] for x in opts if x["correct"]]
        rec = self._record(base, "mcq", slot, answer=", ".join(gold), variant="multiple" if multiple else "single")
        rec["options"] = opts
        rec["evidence"] = [m.as_dict(base["chunk"]["start"]) for m in verify_quotes(item.evidence, text, self.thresholds)]
        lines = [question] + [f"{x['letter']}. {x['text']}" for x in opts]
        self._pose(rec, question, "\n".join(lines) + "\n" + _TEXT[base["lang"]]["multiple" if multiple else "single"])
        if len(correct) != (2 if multiple else 1):
            return self._verdict(rec, "fail", "mcq_wrong_answer_count")
        if len(opts) < 3:
            return self._verdict(rec, "fail", "mcq_too_few_options")
        problem = ck.mcq_problem(question, correct, distractors) or ck.standalone_problem(question)
        if problem:
            return self._verdict(rec, "fail", problem)
        checks = rec["verification"]["checks"]
        for c in correct:
            if ck.span(c, text):
                continue
            v = check_answer(c, item.evidence, Context(text), thresholds=self.thresholds)
            checks.setdefault("correct_options", []).append({"option": c, "status": v.status, "reason": v.reason})
            if v.status == "fail":
                return self._verdict(rec, "fail", "mcq_correct_unsupported")
            if v.status == "uncertain":
                return self._verdict(rec, "uncertain", "mcq_correct_unsupported")
        in_chunk = [d for d in distractors if ck.span(d, text)]
        checks["distractors_in_chunk"] = in_chunk
        if in_chunk:  # the chunk mentions it: it may answer the question too
            return self._verdict(rec, "uncertain", "mcq_distractor_in_chunk")
        return self._verdict(rec, "pass", None)

    def _true_false(self, base: dict, slot: int, item: _TrueFalse) -> list[dict]:
        text, lang = base["context"], base["lang"]
        statement, altered = item.statement.strip(), item.altered.strip()
        true = self._record(base, "true_false", slot, answer=_TEXT[lang][True], variant="original")
        false = self._record(base, "true_false", slot, answer=_TEXT[lang][False], variant="altered")
        self._pose(true, statement)
        self._pose(false, altered)
        v = check_answer(statement, item.evidence or [statement], Context(text), thresholds=self.thresholds)
        true["evidence"] = [m.as_dict(base["chunk"]["start"]) for m in v.evidence]
        true["verification"]["checks"].update(grounding=v.status, grounding_reason=v.reason)
        if ck.standalone_problem(statement):
            self._verdict(true, "fail", "question_not_standalone")
        elif v.status == "fail":
            self._verdict(true, "fail", "tf_statement_unsupported")
        else:
            self._verdict(true, v.status, None if v.status == "pass" else "tf_statement_unsupported")
        how = ck.alteration(statement, altered)
        false["verification"]["checks"]["alteration"] = how
        if true["verification"]["status"] == "fail":
            self._verdict(false, "fail", "tf_statement_unsupported")  # nothing proven for it to contradict
        elif normalize(statement) == normalize(altered):
            self._verdict(false, "fail", "tf_not_altered")
        elif ck.span(altered, text):
            self._verdict(false, "fail", "tf_altered_in_chunk")
        elif ck.standalone_problem(altered):
            self._verdict(false, "fail", "question_not_standalone")
        elif how is not None and true["verification"]["status"] == "pass":
            self._verdict(false, "pass", None)
        else:
            self._verdict(false, "uncertain", "tf_altered_not_contradicting")
        return [true, false]

    def _short(self, base: dict, slot: int, item: _Short) -> dict:
        from synth.verify import check

        text = base["context"]
        question, answer = item.question.strip(), item.answer.strip()
        rec = self._record(base, "short_answer", slot, answer=answer)
        self._pose(rec, question)
        quotes = verify_quotes(item.evidence, text, self.thresholds)
        rec["evidence"] = [m.as_dict(base["chunk"]["start"]) for m in quotes]
        where = ck.span(answer, text) if answer else None
        if where is None:
            return self._verdict(rec, "fail", "answer_not_in_chunk")
        rec["answer"] = text[where[0]:where[1]]
        rec["answer_span"] = self._span(base, *where)
        if len(normalize(answer)) > self.options.max_answer_chars:
            return self._verdict(rec, "fail", "answer_too_long")
        if ck.leaked(answer, question):
            return self._verdict(rec, "fail", "answer_leaked")
        if ck.standalone_problem(question):
            return self._verdict(rec, "fail", "question_not_standalone")
        if not check(rec["answer"], rec["answer"], use_math_verify=False).correct:
            return self._verdict(rec, "fail", "answer_uncheckable")
        inside = any(m.found and m.start <= where[0] and where[1] <= m.end for m in quotes)
        rec["verification"]["checks"]["answer_in_evidence"] = inside
        if not inside:
            return self._verdict(rec, "uncertain", "short_answer_unsupported")
        return self._verdict(rec, "pass", None)

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

    # -- records -------------------------------------------------------------------------------------
    def _span(self, base: dict, start: int, end: int) -> dict:
        offset = base["chunk"]["start"]
        return {"start": start, "end": end, "doc_start": start + offset if offset is not None else None,
                "doc_end": end + offset if offset is not None else None, "text": base["context"][start:end]}

    def _pose(self, record: dict, question: str, posed: str | None = None) -> None:
        """Set the item's question and the prompt as a policy sees it (and the SFT messages)."""
        record["question"] = question
        fmt, lang = record["format"], record["lang"]
        record["prompt"] = posed if posed is not None else _TEXT[lang][fmt].format(q=question)
        record["messages"] = [{"role": "user", "content": record["prompt"]},
                              {"role": "assistant", "content": record["answer"]}]

    def _verdict(self, record: dict, status: str, reason: str | None, question: str | None = None) -> dict:
        if question is not None and record["question"] is None:
            record["question"] = question
        record["verification"].update(status=status, reason=reason)
        record["verifier"] = self._verifier(record)
        return record

    @staticmethod
    def _verifier(record: dict) -> dict:
        """The checker spec of the item (rewards.score reads it). Every record's has the same keys and
        kinds (one parquet schema): ``answer`` is text ("true"/"false" for bool, "A, C" for choice),
        ``choices`` the correct letters of a choice item."""
        fmt = record["format"]
        kind = {"cloze": "exact_span", "mcq": "choice", "true_false": "bool", "short_answer": "equivalence"}[fmt]
        choices = [o["letter"] for o in record["options"] or [] if o["correct"]]
        if fmt == "true_false":
            answer = "true" if record["variant"] == "original" else "false"
        else:
            answer = ", ".join(choices) if fmt == "mcq" else str(record["answer"] or "")
        return {"kind": kind, "answer": answer, "choices": choices, "lang": record["lang"],
                "options": [{"letter": o["letter"], "text": o["text"]} for o in record["options"] or []]}

    def _record(self, base: dict, fmt: str, slot: int, *, answer: str | None = None, variant: str | None = None,
                rejected: str | None = None, error: str | None = None) -> dict:
        record = {"chunk": base["chunk"], "context": base["context"], "lang": base["lang"], "format": fmt,
                  "variant": variant, "slot": slot, "question": None, "prompt": None, "answer": answer,
                  "options": None, "answer_span": None, "evidence": [],
                  "verifier": None, "verification": {"status": "fail" if rejected else None, "reason": rejected,
                                                     "method": "rules", "checks": {}, "judge": None},
                  "messages": None, "generation": None, "error": error, "duplicate_of": None}
        if rejected:
            record["rejected"] = rejected
        return record

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

