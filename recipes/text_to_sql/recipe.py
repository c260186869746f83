"""`text-to-sql`: questions over a database, k candidate SQL queries each, executed read-only on SQLite;
a query is kept when its result matches the reference query's, or the majority of the candidates'.

The database of a seed row is its DDL (`schema`) with a few rows (`data`: `{table: [row, ...]}` or
INSERT statements) built in memory, a SQLite file named by the row (`db`) or by `options.database`;
the prompt shows the DDL and the first `sample_rows` rows of each table. A row with a `question` (and
optionally its reference `sql`) gives one question; without, the model writes `n_questions` (English
or Chinese: `language`). Queries run through synth.execute.sql: read-only (`?mode=ro`, `query_only`,
an authorizer allowing reads only), interrupted at `timeout_s`, at most `max_fetch` rows fetched.

Labels follow the execution-accuracy practice of Spider / BIRD (Yu et al. 2018, arXiv 1809.08887; Li et
al. 2023, arXiv 2305.03111): results compared as multisets of rows, as lists when the reference has a
top-level ORDER BY. Without a reference, candidates vote with their result sets (execution-based
self-consistency, as in DAIL-SQL, Gao et al. 2023, arXiv 2308.15363): the largest group of equal
results (ORDER BY ignored) is the label when it has `min_votes` votes and a `min_agreement` share of
the queries that ran; empty results do not vote unless `empty_votes`.

Each candidate is one record: matching ones are kept with their result rows (the first `max_rows`),
SFT `messages` and failing candidates in `rejected_solutions` for DPO pairs; the others are rejected with
`no_sql`, `sql_error`, `denied` (it tried to write), `timeout`, `result_mismatch`, `no_majority` or
`reference_error` (and a database the model wrote no question about is one record rejected `no_questions`).

Left out: Spider's test-suite accuracy (distilled databases that tell near-miss queries apart);
column-permutation-insensitive comparison; schema linking and value retrieval for large databases;
other SQL engines.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Literal

from pydantic import Field

from synth.errors import ConfigError, RecipeError
from synth.execute.sql import Database, SQLResult, extract_sql, has_order_by
from synth.recipe import Recipe, RecipeOptions
from synth.recipes._records import generation_info, sft_messages, to_dpo
from synth.text import prompt_language

_NUMBERING = re.compile(r"^\s*(?:\d+\s*[.)、:：]|[-*•]|Q\d*[.:：]|问题\s*\d*[.:：])\s*")
REASONS = {"error": "sql_error", "empty_sql": "sql_error", "denied": "denied", "timeout": "timeout"}


class TextToSQLOptions(RecipeOptions):
    schema_field: str = Field("schema", description="seed column with the DDL (CREATE TABLE statements)")
    data_field: str = Field("data", description="seed column with rows: {table: [row, ...]} or INSERT statements")
    db_field: str = Field("db", description="seed column naming a SQLite file (instead of schema + data)")
    database: str | None = Field(None, description="a SQLite file for rows without schema or db "
                                 "(relative to the config file)")
    question_field: str = Field("question", description="seed column with a question (else questions are generated)")
    sql_field: str | None = Field("sql", description="seed column with the question's reference SQL, optional")
    language: Literal["auto", "en", "zh"] = Field("auto", description="prompt and question language (auto: the "
                                                  "question's script, else the row's `lang`, else en)")
    system: str | None = Field(None, description="system prompt for every request")
    n_questions: int = Field(3, ge=1, le=50, description="questions generated per database")
    question_temperature: float | None = Field(None, ge=0, le=2, description="temperature of question generation")
    question_seed: int | None = Field(None, description="seed of the question request (default: derived)")
    k: int = Field(4, ge=1, le=256, description="candidate queries per question")
    temperature: float | None = Field(None, ge=0, le=2, description="sampling temperature (default: the run's)")
    top_p: float | None = Field(None, gt=0, le=1, description="nucleus sampling (default: the run's)")
    max_tokens: int | None = Field(None, ge=1, description="tokens per answer (default: the run's)")
    seed: int | None = Field(None, description="seed of candidate 0 (candidate i uses seed + i)")
    sample_rows: int = Field(3, ge=0, le=50, description="rows of each table shown in the prompt")
    min_votes: int = Field(2, ge=1, description="majority label: fewest queries with the winning result")
    min_agreement: float = Field(0.5, ge=0, le=1, description="majority label: least share of the queries that ran")
    empty_votes: bool = Field(False, description="let empty results vote (many wrong queries return nothing)")
    keep: Literal["matching", "all"] = Field("matching", description="matching: other candidates are rejected "
                                             "records; all: every candidate is data, with `correct` set")
    rejected_per_record: int = Field(1, ge=0, le=16, description="failing candidates stored per kept record (DPO)")
    timeout_s: float = Field(5.0, gt=0, le=600, description="seconds a query may run")
    max_rows: int = Field(20, ge=0, le=10_000, description="result rows kept on a record")
    max_fetch: int = Field(10_000, ge=1, description="rows fetched and compared per query")


class TextToSQLRecipe(Recipe):
    name = "text-to-sql"
    version = "1"
    description = "Questions over a SQLite database, candidate SQL executed read-only; kept when results match."
    Options = TextToSQLOptions
    path_options = ("database",)
    exports = {"dpo": to_dpo}

    def __init__(self, options=None) -> None:
        super().__init__(options)
        self._shared: Database | None = None
        if self.options.database:
            try:
                self._shared = Database.open(self.options.database)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"recipe 'text-to-sql': options.database: {exc}") from None

    def required_fields(self) -> list[str]:
        return [] if self._shared else [self.options.schema_field]

    def database(self, row: dict) -> tuple[Database, str | None]:
        """(the row's database, its DDL as given) — raises RecipeError naming what is wrong."""
        o = self.options
        try:
            if row.get(o.schema_field):
                return Database.from_schema(str(row[o.schema_field]), row.get(o.data_field)), str(row[o.schema_field])
            if row.get(o.db_field):
                return Database.open(str(row[o.db_field])), None
        except (OSError, ValueError) as exc:
            raise RecipeError(str(exc)) from None
        if self._shared is not None:
            return self._shared, None
        raise RecipeError(f"no {o.schema_field!r} or {o.db_field!r} in the row, and no options.database")

    def describe(self, db: Database, ddl: str | None) -> str:
        """The database as the prompt shows it: DDL, then the first rows of each table."""
        text = (ddl or db.ddl()).strip()
        if self.options.sample_rows:
            lines = []
            for table, (columns, rows) in db.sample_rows(self.options.sample_rows).items():
                if rows:
                    lines.append(f"-- {table}({', '.join(columns)})")
                    lines += [f"({', '.join(_literal(v) for v in r)})" for r in rows]
            if lines:
                text += "\n\n-- first rows of each table\n" + "\n".join(lines)
        return text

    def messages(self, template: str, **context) -> list[dict]:
        system = self.options.system
        return ([{"role": "system", "content": system}] if system else []) + \
            [{"role": "user", "content": self.render(template, **context)}]

    async def run(self, row, llm):
        o = self.options
        db, ddl = self.database(row)
        try:
            described = self.describe(db, ddl)
            given = str(row.get(o.question_field) or "").strip()
            lang = o.language if o.language != "auto" else (
                prompt_language(given) if given else (row.get("lang") if row.get("lang") in ("en", "zh") else "en"))
            if given:
                questions = [(given, str(row.get(o.sql_field) or "").strip() or None if o.sql_field else None)]
            else:
                asked = await llm.chat(self.messages(f"questions_{lang}.j2", database=described, n=o.n_questions),
                                       temperature=o.question_temperature, max_tokens=o.max_tokens,
                                       seed=o.question_seed)
                questions = [(q, None) for q in parse_questions(asked[0].text, o.n_questions)]
                if not questions:  # one record says so, and the runner books it in rejected.jsonl
                    return [self.no_questions(db, lang, asked[0].text)]
            records = []
            for per_question in await asyncio.gather(*(self.question(llm, db, described, lang, q, ref)
                                                        for q, ref in questions)):
                records += per_question
            return records
        finally:
            if db is not self._shared:
                db.close()

    async def question(self, llm, db: Database, described: str, lang: str, question: str,
                       reference: str | None) -> list[dict]:
        o = self.options
        prompt = self.messages(f"sql_{lang}.j2", database=described, question=question)
        completions = await llm.chat(prompt, n=o.k, temperature=o.temperature, top_p=o.top_p,
                                     max_tokens=o.max_tokens, seed=o.seed)
        queries = [extract_sql(c.text) for c in completions]
        run = lambda sql: db.execute(sql, timeout_s=o.timeout_s, max_rows=o.max_rows, max_fetch=o.max_fetch)  # noqa: E731
        results, ref = await asyncio.to_thread(lambda: ([run(q) if q else None for q in queries],
                                                        run(reference) if reference else None))
        label, majority = self.label(results, reference, ref)
        verdicts = [_verdict(q, r, label, reference, ref) for q, r in zip(queries, results)]
        return self.records(llm, db, question, lang, prompt, completions, queries, results, verdicts,
                            reference, ref, majority, label)

    def label(self, results: list[SQLResult | None], reference: str | None,
              ref: SQLResult | None) -> tuple[tuple[str, bool] | None, dict | None]:
        """((signature, ordered) that a matching query's result has, or None), the majority's summary."""
        o = self.options
        if reference:
            if ref is None or not ref.ok:
                return None, None
            ordered = has_order_by(reference)
            return (ref.signature(ordered), ordered), None
        voters = [r for r in results if r is not None and r.ok and (o.empty_votes or r.row_count)]
        if not voters:
            return None, {"votes": 0, "total": 0, "agreement": 0.0}
        (top, votes), = Counter(r.signature() for r in voters).most_common(1)
        majority = {"votes": votes, "total": len(voters), "agreement": round(votes / len(voters), 4)}
        if votes < o.min_votes or votes / len(voters) < o.min_agreement:
            return None, majority
        return (top, False), majority

    def records(self, llm, db, question, lang, prompt, completions, queries, results, verdicts,
                reference, ref, majority, label) -> list[dict]:
        o = self.options
        db_ddl = db.ddl()
        kept = [i for i, (reason, _) in enumerate(verdicts) if reason is None]
        failing = []
        for i, (reason, _) in enumerate(verdicts):
            if reason is not None and queries[i] and queries[i] not in (queries[j] for j in failing):
                failing.append(i)
        m = min(o.rejected_per_record, len(failing))
        source = "reference" if reference else "majority" if label else None
        stats = {"samples": len(completions), "with_sql": sum(bool(q) for q in queries),
                 "ran": sum(r is not None and r.ok for r in results), "matching": len(kept)}
        sampling = {"k": o.k, "temperature": o.temperature if o.temperature is not None else llm.defaults.temperature,
                    "max_tokens": o.max_tokens or llm.defaults.max_tokens}
        out = []
        for i, completion in enumerate(completions):
            reason, detail = verdicts[i]
            ok = reason is None
            partners = [failing[(kept.index(i) * m + t) % len(failing)] for t in range(m)] if ok else []
            record = {
                "question": question,
                "language": lang,
                "database": db.name,
                "schema": db_ddl,
                "sample_index": i,
                "response": completion.text,
                "sql": queries[i],
                "reference_sql": reference,
                "label_source": source,
                "result": (results[i] or SQLResult("empty_sql", detail="no SQL in the answer")).as_dict(o.max_rows),
                "reference_result": ref.as_dict(o.max_rows) if ref is not None else None,
                "majority": majority,
                "status": "matching" if ok else reason,
                "detail": detail,
                "correct": ok,
                "selected": ok,
                "rejected_solutions": [{"solution": completions[j].text, "sql": queries[j], "status": verdicts[j][0]}
                                       for j in partners] if ok else [],
                "rejected": None,
                "stats": stats,
                "generation": generation_info(llm, completion, **sampling),
                "messages": sft_messages(prompt, completion.text) if ok else None,
            }
            if not ok and o.keep == "matching":
                record["rejected"] = reason
            out.append(record)
        return out

    def no_questions(self, db: Database, lang: str, answer: str) -> dict:
        """The record of a database the model wrote no question about, with the keys of the others."""
        return {"question": None, "language": lang, "database": db.name, "schema": db.ddl(), "sample_index": None,
                "response": answer, "sql": None, "reference_sql": None, "label_source": None, "result": None,
                "reference_result": None, "majority": None, "status": "no_questions", "detail": None,
                "correct": False, "selected": False, "rejected_solutions": [], "stats": None, "generation": None,
                "messages": None, "rejected": "no_questions"}

    async def close(self) -> None:
        if self._shared is not None:
            self._shared.close()
            self._shared = None


def parse_questions(text: str, n: int) -> list[str]:
    """Up to `n` distinct questions, one per line, numbering and bullets removed.

    >>> parse_questions("1. How many orders?\\n2) Who spent most?\\n\\n1. How many orders?", 5)
    ['How many orders?', 'Who spent most?']
    """
    out: list[str] = []
    for line in (text or "").splitlines():
        q = _NUMBERING.sub("", line).strip().strip("*").strip()
        if len(q) >= 4 and not q.lower().startswith(("select ", "```", "with ")) and q not in out:
            out.append(q)
    return out[:n]


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _verdict(sql: str | None, result: SQLResult | None, label: tuple[str, bool] | None, reference: str | None,
             ref: SQLResult | None) -> tuple[str | None, str | None]:
    """(None, None) for a query to keep, else (the reason, a detail)."""
    if not sql or result is None:
        return "no_sql", "no SQL in the answer"
    if not result.ok:
        return REASONS.get(result.status, "sql_error"), result.detail
    if reference and (ref is None or not ref.ok):
        return "reference_error", f"the reference SQL fails: {ref.detail if ref else 'no result'}"
    if label is None:
        return "no_majority", "no result reached the majority thresholds"
    signature, ordered = label
    if result.signature(ordered) != signature:
        return "result_mismatch", f"{result.row_count} rows, not the {'reference' if reference else 'majority'} result"
    return None, None
