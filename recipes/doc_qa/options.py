"""The options of `doc-qa` (DocQAOptions) and its parts: genre x audience pairs, RAFT mode."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from synth.recipe import RecipeOptions
from synth.recipes.doc_qa import questions as q

TaskType = Literal["fact", "explanation", "reasoning", "procedure", "comparison", "calculation", "summary"]


class Audience(BaseModel):
    """One genre x audience pair (easy-dataset's GA pairs, given by the user)."""

    model_config = ConfigDict(extra="forbid")
    genre: str = Field(..., min_length=1, description="kind of text or setting, e.g. 操作问答 / FAQ")
    audience: str = Field(..., min_length=1, description="who asks, e.g. 新员工 / 客户 / 监管人员")


class RaftOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    distractors: int = Field(3, ge=0, le=20, description="distractor chunks per question (RAFT: 3)")
    oracle_probability: float = Field(0.8, ge=0, le=1, description="share of questions shown with their "
                                      "source chunk (RAFT's p; 0.8 in its function, 1.0 in its CLI)")
    cite: bool = Field(True, description="response = verified quotes in ##begin_quote## markers + <ANSWER>:")


class ProbeOptions(BaseModel):
    """The knowledge probe (synth.knowledge_probe): questions go where the student's loss is high."""

    model_config = ConfigDict(extra="forbid")
    engine: str = Field("student", description="engine role of the model being trained (under engines:)")
    statements: int = Field(3, ge=1, le=20, description="true statements per chunk (each with its negation)")
    method: Literal["auto", "logprobs", "accuracy"] = Field("auto", description="auto: yes/no logprobs where "
                                                            "the server gives them, else sampled accuracy")
    samples: int = Field(4, ge=1, le=64, description="accuracy method: answers sampled per statement")
    min_questions: int = Field(1, ge=0, le=50, description="questions for a chunk the student knows fully")


class DocQAOptions(RecipeOptions):
    text_field: str = Field("text", description="seed column holding the chunk text")
    language: Literal["auto", "zh", "en"] = Field("auto", description="prompt language; auto: the chunk's "
                                                  "`lang`, else by its script (synth.text.prompt_language)")
    chars_per_question: int | None = Field(None, ge=1, description="characters of chunk per question "
                                           "(default: 300 for Chinese, 900 otherwise)")
    max_questions: int = Field(5, ge=1, le=50, description="questions per chunk (and per audience pair) at most")
    task_types: list[TaskType] = Field(list(q.TASK_TYPES), min_length=1, description="task types, assigned "
                                       "to question slots in turn (calculation only for chunks with numbers)")
    audiences: list[Audience] = Field([], description="genre x audience pairs; questions are asked once per pair")
    system: str | None = Field(None, description="system prompt of the SFT records")
    rewrite: bool = Field(True, description="rewrite a context-dependent question once before rejecting it")
    dedup_threshold: float | None = Field(0.7, gt=0, le=1, description="Jaccard (character / word bigrams) "
                                          "at which a question duplicates an earlier one; null: no question dedup")
    judge: Literal["auto", "always", "never"] = Field("auto", description="auto: judge answers the cheap "
                                                      "checks leave uncertain; always: every answer that passed "
                                                      "them; never: reject the uncertain ones")
    quote_threshold: float = Field(90.0, ge=50, le=100, description="rapidfuzz partial_ratio a quote that is "
                                   "not verbatim needs")
    support_threshold: float = Field(0.5, ge=0, le=1, description="share of answer bigrams found in the chunk "
                                     "below which the judge decides")
    binding_slack: float = Field(0.0, ge=0, le=0.5, description="share of a claim's distinctive words its chunk "
                                 "sentence may lack and still pass without the judge: fewer judge calls, less "
                                 "precise (bench/RESULTS.md)")
    raft: RaftOptions | None = Field(None, description="RAFT mode: the user message holds the documents")
    question_temperature: float | None = Field(None, ge=0, le=2, description="default: the run's temperature")
    answer_temperature: float | None = Field(None, ge=0, le=2, description="default: the run's temperature")
    question_max_tokens: int | None = Field(None, ge=1, description="default: the run's max_tokens")
    answer_max_tokens: int | None = Field(None, ge=1, description="default: the run's max_tokens")
    retries: int = Field(2, ge=0, le=5, description="extra asks when an answer is not valid JSON")
    probe: ProbeOptions | None = Field(None, description="probe the student per chunk and scale its questions "
                                       "by the student's error: max(min_questions, round(n * min(1, 2 * error)))")
    chunk_size: int | None = Field(None, ge=1, description="when seeds are documents: chunk size (ingest default)")
    overlap: int | None = Field(None, ge=0, description="when seeds are documents: overlap (ingest default)")
