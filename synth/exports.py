"""Export views any chat record can take, in the shapes the trainers load.

Formats are plugins like recipes and filters: these built-ins and any a package registers under the
entry points ``synth.exports`` (see synth.plugins). Each format turns one record (its `messages` and,
when present, `reasoning`) into one row, or `None` to skip it. Shapes (checked against the trainers'
own converters):

- ``messages`` / ``sft`` / ``ms_swift``: ``{"messages": [{"role", "content"}, ...]}`` — TRL SFT, ms-swift's
  standard format, OpenAI fine-tuning;
- ``alpaca``: ``{"instruction", "input", "output", "system", "history"}`` — LLaMA-Factory (default
  formatting), ms-swift, Alpaca trainers; earlier turns go to ``history`` as ``[[user, assistant], ...]``;
- ``sharegpt``: ``{"conversations": [{"from": "human"|"gpt", "value"}], "system"}`` — LLaMA-Factory
  ``formatting: sharegpt``, FastChat;
- ``llamafactory``: the ShareGPT rows plus ``dataset_info.json`` beside them with the entry
  LLaMA-Factory reads (``--dataset <name> --dataset_dir <exports dir>``).

Reasoning (a reasoning model's thinking) is kept as a separate ``reasoning`` field (``field``), put
before the answer as ``<think>…</think>`` (``think``: what Qwen3/DeepSeek-R1-style chat templates
train on), or left out (``drop``).

>>> rec = {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}],
...        "reasoning": "add"}
>>> to_alpaca(rec, "think")["output"]
'<think>\\nadd\\n</think>\\n\\n4'
>>> to_sharegpt(rec, "field")
{'conversations': [{'from': 'human', 'value': '2+2?'}, {'from': 'gpt', 'value': '4'}], 'system': '', 'reasoning': 'add'}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from synth.io import write_text

Reasoning = Literal["field", "think", "drop"]


def _turns(record: dict) -> tuple[str, list[dict]] | None:
    """(system, user/assistant turns ending with an assistant) or None when the record is not a chat."""
    messages = record.get("messages") or []
    system = ""
    if messages and messages[0].get("role") == "system":
        system, messages = messages[0].get("content") or "", messages[1:]
    if not messages or messages[-1].get("role") != "assistant" or len(messages) % 2:
        return None
    if any(m.get("role") != ("user" if i % 2 == 0 else "assistant") for i, m in enumerate(messages)):
        return None
    return system, messages


def _answer(text: str, record: dict, reasoning: Reasoning) -> str:
    thinking = record.get("reasoning")
    if reasoning == "think" and thinking:
        return f"<think>\n{thinking}\n</think>\n\n{text}"
    return text


def _with_reasoning(row: dict, record: dict, reasoning: Reasoning) -> dict:
    if reasoning == "field":
        row["reasoning"] = record.get("reasoning")
    return row


def to_messages(record: dict, reasoning: Reasoning = "field") -> dict | None:
    turns = _turns(record)
    if turns is None:
        return None
    system, messages = turns
    out = [{"role": "system", "content": system}] if system else []
    out += [dict(m) for m in messages[:-1]]
    out.append({"role": "assistant", "content": _answer(messages[-1]["content"], record, reasoning)})
    return _with_reasoning({"messages": out}, record, reasoning)


def to_alpaca(record: dict, reasoning: Reasoning = "field") -> dict | None:
    turns = _turns(record)
    if turns is None:
        return None
    system, messages = turns
    history = [[messages[i]["content"], messages[i + 1]["content"]] for i in range(0, len(messages) - 2, 2)]
    row = {"instruction": messages[-2]["content"], "input": "",
           "output": _answer(messages[-1]["content"], record, reasoning), "system": system, "history": history}
    return _with_reasoning(row, record, reasoning)


def to_sharegpt(record: dict, reasoning: Reasoning = "field") -> dict | None:
    turns = _turns(record)
    if turns is None:
        return None
    system, messages = turns
    conversations = [{"from": "human" if m["role"] == "user" else "gpt", "value": m["content"]}
                     for m in messages[:-1]]
    conversations.append({"from": "gpt", "value": _answer(messages[-1]["content"], record, reasoning)})
    return _with_reasoning({"conversations": conversations, "system": system}, record, reasoning)


# the built-in formats, listed by synth.plugins like the entry points synth.exports (a plugin's format
# is a function of the same shape: (record, reasoning) -> row or None)
FORMATS: dict[str, Callable[[dict, Reasoning], dict | None]] = {
    "messages": to_messages, "sft": to_messages, "ms_swift": to_messages, "alpaca": to_alpaca, "sharegpt": to_sharegpt,
    "llamafactory": to_sharegpt,
}


def format_names() -> list[str]:
    """Every installed export format: the built-ins and the plugins' (entry points synth.exports)."""
    from synth import plugins

    return list(plugins.available(plugins.EXPORTS))


def export_format(name: str) -> Callable[[dict, Reasoning], dict | None]:
    """The export format registered as `name`."""
    from synth import plugins

    return plugins.load(plugins.EXPORTS, name)


def llamafactory_entry(file_name: str) -> dict:
    """The dataset_info.json entry for a ShareGPT file (LLaMA-Factory data/README.md)."""
    return {"file_name": file_name, "formatting": "sharegpt",
            "columns": {"messages": "conversations", "system": "system"},
            "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}}


def alpaca_entry(file_name: str) -> dict:
    return {"file_name": file_name, "columns": {"prompt": "instruction", "query": "input", "response": "output",
                                                "system": "system", "history": "history"}}


def write_dataset_info(exports_dir: Path, name: str, formats: list[str]) -> Path:
    """`dataset_info.json` for the LLaMA-Factory-loadable files among `formats` (merged with one already there)."""
    path = exports_dir / "dataset_info.json"
    info = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if "llamafactory" in formats:
        info[name] = llamafactory_entry("llamafactory.jsonl")
    if "sharegpt" in formats:
        info[f"{name}_sharegpt"] = llamafactory_entry("sharegpt.jsonl")
    if "alpaca" in formats:
        info[f"{name}_alpaca"] = alpaca_entry("alpaca.jsonl")
    write_text(path, json.dumps(info, ensure_ascii=False, indent=2) + "\n")
    return path


def add_dataset_info(folder: Path, name: str, fmt: str, file_name: str) -> Path:
    """Add (or replace) the LLaMA-Factory entry `name` for one exported file in `folder/dataset_info.json`."""
    path = folder / "dataset_info.json"
    info = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    info[name] = alpaca_entry(file_name) if fmt == "alpaca" else llamafactory_entry(file_name)
    write_text(path, json.dumps(info, ensure_ascii=False, indent=2) + "\n")
    return path
