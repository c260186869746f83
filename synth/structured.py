"""JSON answers from any model: schema-constrained where the engine can, parsed, repaired, retried.

`chat_json` asks for a JSON object that validates against a pydantic model. The schema goes to the
engine when it supports one (vLLM `structured_outputs`, llama.cpp `json_object` + schema) and
`llm.json_schema` is on; the answer is then parsed, and when that fails (reasoning-model chatter,
```json fences, a trailing comma, a cut-off object) repaired with `json_repair`, and validated. An
answer that still does not fit is asked again, up to `retries` times, in a request that can get another
answer: the question with the problem appended and a temperature of at least 0.7 (judges and checks ask
at temperature 0, where a server ignores the seed, so another seed alone would get the same answer
back); being another request, it is cached apart too. After that `StructuredOutputError` names the
last problem, and a recipe turns it into a rejected record.

Every outcome is tallied on the LLM (`llm.structured`), and the runner writes the tally with the
parse-failure rate into the manifest, so a run shows how often its model broke the format.

>>> parse_json('Sure! ```json\\n{"a": 1,}\\n```')
({'a': 1}, True)
>>> parse_json('{"a": 1}')
({'a': 1}, False)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from synth.errors import RecipeError, format_validation
from synth.text import prompt_language

M = TypeVar("M", bound=BaseModel)

_THINK = re.compile(r"<think>.*?</think>", re.S)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)(?:```|$)", re.S)
RETRY_TEMPERATURE = 0.7  # the least a retry samples at: greedy decoding would answer the same again
REPAIR = {"en": "\n\n(Your previous answer could not be used: {problem}. Reply with only the JSON object.)",
          "zh": "\n\n（上一次的回答无法使用：{problem}。请只输出 JSON 对象。）"}


class StructuredOutputError(RecipeError):
    """The model's answers never parsed into the expected JSON shape."""


def parse_json(text: str) -> tuple[Any, bool]:
    """(value, repaired): the JSON in `text`; `repaired` is True when it needed more than json.loads.

    Raises ValueError when nothing JSON-like can be recovered.
    """
    try:
        return json.loads(text), False
    except (json.JSONDecodeError, TypeError):
        pass
    body = _THINK.sub("", text or "").strip()
    fenced = _FENCE.search(body)
    if fenced:
        body = fenced.group(1).strip()
    start = min((i for i in (body.find("{"), body.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ValueError("no JSON object in the answer")
    import json_repair

    value = json_repair.loads(body[start:])
    if value in ("", None) or (isinstance(value, (list, dict)) and not value and len(body[start:]) > 2):
        raise ValueError("the answer's JSON could not be repaired")
    return value, True


def tally(llm) -> Counter:
    """The LLM's structured-output counters (created on first use)."""
    counter = getattr(llm, "structured", None)
    if counter is None:
        counter = llm.structured = Counter()
    return counter


def summary(counter: Counter) -> dict[str, Any]:
    """Manifest view: calls, first-try parses, repairs, retries, failures and the failure rates."""
    calls = counter.get("calls", 0)
    answers = counter.get("answers", 0)
    return {"calls": calls, "answers": answers, "parsed": counter.get("parsed", 0),
            "repaired": counter.get("repaired", 0), "invalid_answers": counter.get("invalid", 0),
            "retries": counter.get("retries", 0), "failed_calls": counter.get("failed", 0),
            "schema_sent": counter.get("schema_sent", 0),
            "parse_failure_rate": round(counter.get("invalid", 0) / answers, 4) if answers else 0.0,
            "call_failure_rate": round(counter.get("failed", 0) / calls, 4) if calls else 0.0}


async def chat_json(llm, messages: list[dict[str, str]], model: type[M], *, retries: int = 2,
                    seed: int | None = None, **sampling: Any) -> tuple[M, Any]:
    """(validated object, the Completion it came from); raises StructuredOutputError after retries."""
    counts = tally(llm)
    counts["calls"] += 1
    schema = model.model_json_schema()
    send_schema = getattr(llm, "json_schema", True)
    if send_schema:
        counts["schema_sent"] += 1
    problem = ""
    asked, asked_sampling = messages, sampling
    for attempt in range(retries + 1):
        if attempt:
            counts["retries"] += 1
            asked, asked_sampling = _retry(llm, messages, sampling, problem)
        attempt_seed = None if seed is None and attempt == 0 else (seed or 0) + 7919 * attempt
        (completion,) = await llm.chat(asked, seed=attempt_seed, json_schema=schema if send_schema else None,
                                       **asked_sampling)
        if completion.finish_reason == "dry_run":  # nothing to parse; retrying would inflate the estimate
            raise StructuredOutputError("dry run: no answer")
        counts["answers"] += 1
        try:
            value, repaired = parse_json(completion.text)
            obj = model.model_validate(value)
        except (ValueError, ValidationError) as exc:
            counts["invalid"] += 1
            problem = _short(exc)
            continue
        counts["repaired" if repaired else "parsed"] += 1
        return obj, completion
    counts["failed"] += 1
    raise StructuredOutputError(f"no valid JSON after {retries + 1} answers ({problem})")


def _retry(llm, messages: list[dict[str, str]], sampling: dict[str, Any],
           problem: str) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The request of a retry: the last message with the problem appended (in its language), sampled at
    RETRY_TEMPERATURE or more. Both change the request, so the answer can change and the cache keeps it apart."""
    last = messages[-1]
    lang = prompt_language(str(last.get("content") or ""))
    asked = [*messages[:-1], {**last, "content": str(last.get("content") or "") + REPAIR[lang].format(problem=problem)}]
    temperature = sampling.get("temperature")
    if temperature is None:
        temperature = getattr(getattr(llm, "defaults", None), "temperature", 0.0)
    return asked, {**sampling, "temperature": max(temperature, RETRY_TEMPERATURE)}


def _short(exc: Exception) -> str:
    """What was wrong with an answer, for the retry's prompt and the error."""
    return format_validation(exc)[:300] if isinstance(exc, ValidationError) else str(exc)[:120]
