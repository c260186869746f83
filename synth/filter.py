"""The filter contract: `filter(record)` keeps a record (True) or drops it with a reason (False, "<filter>_<reason>").

A filter declares its options as a pydantic model (`Options`, unknown keys rejected), validated when
the filter is built, so a misspelt key or a wrong type stops a run before any request is sent. Each
option's `source` says where its default comes from (shown by `synth filters NAME`). A filter may
return a `Decision` instead of a bool or tuple to keep scores on the record (`record["scores"][name]`,
declared in `score_names` so every row gets the same keys) or a `detail` for rejected.jsonl.
Filters never count or write rejects themselves: `FilterStage` in synth.stages does.

`LLMFilter` is the asynchronous kind (e.g. `judge`): `afilter(record, llm)` asks the run's `LLM`, so
it shares the engine, the request cache and the concurrency of the run. A request that fails after its
retries (synth.errors.RequestFailed, e.g. HTTP 400 for a context overflow) is that row's outcome, not
the stage's: the stage rejects the row as `<filter>_failed` with the error as detail, or keeps it
unscored when the filter's options say `on_error: keep`, and counts it (`failed_requests`).

Rows come in several shapes; the views below read the question and the answer from any of them:

    >>> answer_text({"messages": [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"}]})
    '2'
    >>> question_text({"instruction": "Translate", "input": "你好", "output": "Hello"})
    'Translate\\n\\n你好'
    >>> row_shape({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]})
    'conversations'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synth.errors import ConfigError, InputError, PluginError, format_validation
from synth.paths import check_file

# Answer / question columns of the common row shapes, most specific first.
ANSWER_FIELDS = ("response", "output", "answer", "completion", "solution")
QUESTION_FIELDS = ("instruction", "prompt", "question", "problem", "query")
SHAPES = ("messages (role/content chat)", "conversations (ShareGPT from/value)", "instruction [+ input] / output",
          "instruction / response", "prompt / response or completion", "question / answer", "problem / solution")
_USER_ROLES = ("user", "human")
_ASSISTANT_ROLES = ("assistant", "gpt", "model")


class FilterOptions(BaseModel):
    """Base for filter options: strict, so a misspelt key fails loudly."""

    model_config = ConfigDict(extra="forbid")


def option(default: Any, help: str, *, source: str | None = None, **constraints: Any) -> Any:
    """A pydantic Field with a description and the source of its default (paper, tool or "synth")."""
    return Field(default, description=help, json_schema_extra={"source": source or "synth"}, **constraints)


@dataclass(frozen=True)
class Decision:
    """A filter's decision, with scores to keep on the record and a detail for rejected.jsonl."""

    keep: bool
    reason: str | None = None
    scores: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None


def as_decision(result: bool | tuple | Decision, name: str) -> Decision:
    """Any return value of `Filter.filter` as a Decision (a drop without a reason gets `<name>_rejected`)."""
    if isinstance(result, Decision):
        verdict = result
    elif isinstance(result, tuple):
        verdict = Decision(bool(result[0]), result[1] if len(result) > 1 else None)
    else:
        verdict = Decision(bool(result))
    if not verdict.keep and not verdict.reason:
        return Decision(False, f"{name.replace('-', '_')}_rejected", verdict.scores, verdict.detail)
    return verdict


class Filter:
    """Subclass, set `name`, `description` and `Options`, and implement `filter`.

    Build with options as a dict or as keyword arguments: `LengthFilter({"min_units": 5})`,
    `LengthFilter(min_units=5)`; invalid options raise ConfigError naming the key.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Options: ClassVar[type[FilterOptions]] = FilterOptions
    # options holding file paths, resolved against the config file's folder like `seeds`
    path_options: ClassVar[tuple[str, ...]] = ()
    # reasons this filter can give, and the scores it writes to record["scores"] (for docs and parquet)
    reasons: ClassVar[tuple[str, ...]] = ()
    score_names: ClassVar[tuple[str, ...]] = ()
    # scores that are free text (a rationale): kept on each record, only counted in the stage summary
    text_scores: ClassVar[tuple[str, ...]] = ()
    needs_llm: ClassVar[bool] = False

    # which column holds the answer / the question, when rows have none of the usual shapes (synth filter --field)
    answer_field: str | None = None
    question_field: str | None = None

    def __init__(self, options: dict[str, Any] | FilterOptions | None = None, /, **kwargs: Any) -> None:
        if isinstance(options, FilterOptions):
            self.options = options
        else:
            try:
                self.options = self.Options.model_validate({**(options or {}), **kwargs})
            except ValidationError as exc:
                raise ConfigError(f"filter {self.name!r}: bad options: " + format_validation(exc)) from None

    def filter(self, record: dict[str, Any]) -> bool | tuple[bool, str] | Decision:  # pragma: no cover - abstract
        raise NotImplementedError

    def summarize(self, score: str, values: list[Any]) -> dict[str, Any] | None:
        """The distribution of one score over a stage's records, for the manifest (None: the default summary)."""
        return None

    def answer(self, record: dict[str, Any]) -> str:
        return answer_text(record, self.answer_field)

    def question(self, record: dict[str, Any]) -> str:
        return question_text(record, self.question_field)


class LLMFilter(Filter):
    """A filter that asks a model: implement `afilter(record, llm)`; the stage runs records concurrently."""

    needs_llm = True

    async def afilter(self, record: dict[str, Any], llm) -> Decision:  # pragma: no cover - abstract
        raise NotImplementedError

    def filter(self, record):
        raise ConfigError(f"filter {self.name!r} asks a model: run it in `synth run` or `synth filter`")


def compile_patterns(filter_name: str, key: str, patterns: list[str], flags: int = 0) -> list[re.Pattern]:
    """Compile user regular expressions; a bad one is a ConfigError naming the option."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, flags))
        except re.error as exc:
            raise ConfigError(f"filter {filter_name!r}: bad options: {key}: {pattern!r} is not a regular "
                              f"expression ({exc})") from None
    return compiled


def make_filter(name: str, options: dict[str, Any] | None = None, *, base_dir: Path | None = None) -> Filter:
    """Load the filter registered as `name` (or `module:Class`) and build it with validated options.

    Path options are resolved against `base_dir` (the config's folder).
    """
    from synth import plugins

    cls = plugins.load(plugins.FILTERS, name)
    if not (isinstance(cls, type) and issubclass(cls, Filter)):
        raise PluginError(f"filter {name!r} is not a synth.filter.Filter: subclass it, with its options as an "
                          "Options model (synth new filter NAME writes one)")
    options = dict(options or {})
    for key in getattr(cls, "path_options", ()):
        if isinstance(options.get(key), str) and base_dir is not None:
            options[key] = str((base_dir / options[key]).resolve())
        if isinstance(options.get(key), str):  # there and readable, before any row is filtered
            check_file(options[key], f"filter {name!r}: bad options: {key}", ConfigError)
    return cls(options)


# -- row views --------------------------------------------------------------------------------------
def _dig(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _turns(record: dict[str, Any]) -> list[tuple[str, str]] | None:
    """(role, text) of a chat row: `messages` (role/content) or ShareGPT `conversations` (from/value)."""
    messages = record.get("messages")
    if isinstance(messages, list) and messages:
        return [(str(m.get("role", "")), str(m.get("content") or "")) for m in messages if isinstance(m, dict)]
    conversations = record.get("conversations")
    if isinstance(conversations, list) and conversations:
        return [(str(m.get("from", "")), str(m.get("value") or "")) for m in conversations if isinstance(m, dict)]
    return None


def answer_text(record: dict[str, Any], field: str | None = None) -> str:
    """The answer to check: `field` if given, else the last assistant turn, else the first answer column."""
    if field:
        value = _dig(record, field)
        return "" if value is None else str(value)
    turns = _turns(record)
    if turns is not None:
        for role, text in reversed(turns):
            if role in _ASSISTANT_ROLES:
                return text
        return ""
    for key in ANSWER_FIELDS:
        value = record.get(key)
        if isinstance(value, str):
            return value
    return ""


def question_text(record: dict[str, Any], field: str | None = None) -> str:
    """The question: `field` if given, else the user turn before the last answer, else the first question
    column (Alpaca's `input` appended to `instruction`)."""
    if field:
        value = _dig(record, field)
        return "" if value is None else str(value)
    turns = _turns(record)
    if turns is not None:
        users = [text for role, text in turns if role in _USER_ROLES]
        return users[-1] if users else ""
    for key in QUESTION_FIELDS:
        value = record.get(key)
        if isinstance(value, str):
            extra = record.get("input") if key == "instruction" else None
            return f"{value}\n\n{extra}" if isinstance(extra, str) and extra.strip() else value
    return ""


def reasoning_text(record: dict[str, Any]) -> str:
    """A reasoning model's separate thinking (`reasoning` / `reasoning_content`), or ''."""
    for key in ("reasoning", "reasoning_content"):
        value = record.get(key)
        if isinstance(value, str):
            return value
    return ""


def finish_reason(record: dict[str, Any]) -> str | None:
    """`generation.finish_reason` (synth records) or a top-level `finish_reason` column; None if absent."""
    generation = record.get("generation")
    if isinstance(generation, dict) and generation.get("finish_reason"):
        return str(generation["finish_reason"])
    value = record.get("finish_reason")
    return str(value) if value else None


def row_shape(record: dict[str, Any]) -> str | None:
    """Which recognised shape a row has ('messages', 'conversations', or 'question/answer' columns), or None."""
    if isinstance(record.get("messages"), list) and record["messages"]:
        return "messages"
    if isinstance(record.get("conversations"), list) and record["conversations"]:
        return "conversations"
    question = next((k for k in QUESTION_FIELDS if isinstance(record.get(k), str)), None)
    answer = next((k for k in ANSWER_FIELDS if isinstance(record.get(k), str)), None)
    return f"{question or '-'}/{answer}" if answer else None


def check_rows(rows: list[dict[str, Any]], first: int, source: str, field: str | None) -> None:
    """Every row has the answer column `field`, or without one a recognised shape; else InputError naming
    row `first + k` of `source` and the fix."""
    for i, row in enumerate(rows, first):
        if field and _dig_missing(row, field):
            raise InputError(f"{source}: row {i} has no {field!r} field (check --field)")
        if not field and row_shape(row) is None:
            raise InputError(f"{source}: row {i} has none of the recognised shapes ({'; '.join(SHAPES)}); "
                             "name the answer column with --field")


def _dig_missing(record: dict[str, Any], path: str) -> bool:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return True
        value = value[part]
    return False
