"""doc-quiz's export formats (`export: {formats: [rl, eval]}` -> exports/rl.jsonl, exports/eval.jsonl).

- ``rl``: one row per kept item for verifiable-reward training. ``prompt`` is chat messages (TRL
  GRPOTrainer's conversational prompt column), ``answer`` the gold answer as text, ``verifier`` the
  checker spec (``{kind: exact_span|choice|bool|equivalence, answer, choices, lang, options}``) that
  ``synth.rewards.score(verifier, completion)`` scores, and verl's columns beside
  them: ``data_source``, ``ability`` (the format), ``reward_model: {style: "rule", ground_truth}``
  (the gold answer as text), ``extra_info`` (item id, chunk, source, format, the verifier as JSON);
- ``eval``: one row per item for an evaluation set (lm-eval-harness / OpenCompass custom JSONL style):
  ``id, question`` (the prompt as posed), ``choices`` (option texts, MCQ), ``answer`` (text),
  ``gold`` (indices of the correct choices), ``format``, ``lang``, ``source``, ``chunk_id``,
  ``headings`` and ``verifier``.
"""

from __future__ import annotations

import json


def _gold_text(record: dict) -> str:
    """The gold answer as the checker reads it: the span / short answer, "A, C", "true" / "false"."""
    return str(record["verifier"]["answer"])


def to_rl(record: dict) -> dict | None:
    if not record.get("prompt") or not record.get("verifier"):
        return None
    chunk = record.get("chunk") or {}
    verifier = record["verifier"]
    return {"prompt": [{"role": "user", "content": record["prompt"]}], "answer": _gold_text(record),
            "verifier": verifier, "data_source": f"synth/doc-quiz/{record['format']}", "ability": record["format"],
            "reward_model": {"style": "rule", "ground_truth": _gold_text(record)},
            "extra_info": {"id": record.get("id"), "chunk_id": chunk.get("id"), "source": chunk.get("source"),
                           "format": record["format"], "lang": record.get("lang"),
                           "verifier": json.dumps(verifier, ensure_ascii=False)}}


def to_eval(record: dict) -> dict | None:
    if not record.get("prompt") or not record.get("verifier"):
        return None
    chunk = record.get("chunk") or {}
    options = record.get("options") or []
    return {"id": record.get("id"), "question": record["prompt"], "choices": [o["text"] for o in options],
            "answer": _gold_text(record), "gold": [i for i, o in enumerate(options) if o["correct"]],
            "format": record["format"], "lang": record.get("lang"), "source": chunk.get("source"),
            "chunk_id": chunk.get("id"), "headings": chunk.get("headings") or [], "verifier": record["verifier"]}
