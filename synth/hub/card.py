"""The dataset card (README.md of a run directory, and of a pushed repo) with Hub-readable YAML metadata.

The card is rendered from the run's manifest (which holds the statistics and the written files, see
synth.hub.outputs) and a few rows read back from the data, so `synth push` can render it again with
the repo's own paths and `load_dataset` snippet.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
import yaml

from synth import __distribution__

WHAT = {
    "default": "kept records", "rejected": "dropped records, with stage and reason",
    "messages": "chat SFT rows `{messages}` (TRL SFTTrainer, ms-swift)", "sft": "chat SFT rows `{messages}` (TRL SFTTrainer)",
    "ms_swift": "chat rows `{messages}` (ms-swift)", "alpaca": "Alpaca rows (LLaMA-Factory)",
    "sharegpt": "ShareGPT rows (LLaMA-Factory, FastChat)", "llamafactory": "ShareGPT rows (LLaMA-Factory)",
    "trl_stepwise": "stepwise supervision `{prompt, completions, labels}`",
    "openrlhf_prm": "Math-Shepherd-style PRM rows `{input, label}` (OpenRLHF train_prm)",
    "prm800k": "PRM800K-like step ratings", "dpo": "preference pairs `{prompt, chosen, rejected}` (TRL DPOTrainer)",
}
WHAT_ZH = {
    "default": "保留的记录", "rejected": "被剔除的记录（含阶段和原因）",
    "messages": "对话 SFT 行 `{messages}`（TRL SFTTrainer、ms-swift）", "sft": "对话 SFT 行 `{messages}`（TRL SFTTrainer）",
    "ms_swift": "对话行 `{messages}`（ms-swift）", "alpaca": "Alpaca 行（LLaMA-Factory）",
    "sharegpt": "ShareGPT 行（LLaMA-Factory、FastChat）", "llamafactory": "ShareGPT 行（LLaMA-Factory）",
    "trl_stepwise": "逐步监督 `{prompt, completions, labels}`",
    "openrlhf_prm": "Math-Shepherd 风格的 PRM 行 `{input, label}`（OpenRLHF train_prm）",
    "prm800k": "类 PRM800K 的步骤评分", "dpo": "偏好对 `{prompt, chosen, rejected}`（TRL DPOTrainer）",
}
TEMPLATES = {"en": "card_template.md", "zh": "card_template.zh.md"}  # config `card: {language: zh}`
MAX_SAMPLE_CHARS = 300


def render_card(manifest: dict[str, Any], *, load_path: str, configs: list[dict], plots: dict[str, str],
                samples: list[dict], fields: dict[str, str], other_configs: list[dict] = (),
                license: str | None = None, hub: str = "hf") -> str:
    """The card text.

    `configs`: [{config_name, subset, data_files: [{split, path: [...]}], rows: {split: n}}] in the
    order to list them; `plots`: {plot: path relative to the card}; `other_configs`: configs
    ({config_name, data_files}) in the same repo that belong to other runs: kept in the metadata and listed.
    `hub`: "hf", or "modelscope" for a card pushed to ModelScope: the same metadata plus the task block
    ModelScope's dataset cards carry (`text: {task: {languages}}`), and an `MsDataset.load` snippet.
    """
    stats = manifest.get("statistics") or {}
    license = license or manifest.get("license")
    title = manifest.get("pretty_name") or manifest["name"]
    front: dict[str, Any] = {}
    if license:
        front["license"] = license
    if stats.get("card_languages"):
        front["language"] = stats["card_languages"]
    front["task_categories"] = stats.get("task_categories", ["text-generation"])
    front["size_categories"] = [stats.get("size_category", "n<1K")]
    front["tags"] = ["synthetic", "synth", f"synth-recipe-{manifest['recipe']['name']}"]
    front["pretty_name"] = title
    front["configs"] = [{"config_name": c["config_name"], "data_files": c["data_files"]}
                        for c in [*configs, *other_configs]]
    if hub == "modelscope":  # ModelScope's dataset-card metadata: modality -> one task -> its attributes
        front["text"] = {front["task_categories"][0]: {"languages": front.get("language") or ["en"]}}
    dataset = manifest.get("dataset") or {}
    shares = dataset.get("split") or {}
    lang = (manifest.get("card") or {}).get("language") or "en"
    what = WHAT_ZH if lang == "zh" else WHAT
    share_list = ", ".join(f"{k} {v:g}" for k, v in shares.items())
    split_note = "" if not shares else (
        f"划分按种子行抽取，同一种子行的所有记录都在同一划分中（设定的比例：{share_list}）。" if lang == "zh" else
        f"Splits are drawn by seed row, so all records of one seed row sit in the same split (shares asked: {share_list}).")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent)), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False}
    text = env.get_template(TEMPLATES.get(lang, TEMPLATES["en"])).render(
        front_matter=yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip(),
        title=title, m=manifest, stats=stats, license=license, distribution=__distribution__,
        languages=", ".join(f"{k} ({v})" for k, v in (stats.get("languages") or {}).items()),
        seed_rows=manifest["rows"]["selected"] + manifest["rows"].get("follow_up", 0),
        seeds=(manifest.get("seeds") or {}).get("source", "?"),
        first_started=_date(manifest.get("first_started")), finished=_date(manifest.get("finished")),
        req=manifest.get("requests_total") or manifest.get("requests") or {}, failed=manifest["rows"].get("failed", 0),
        by_engine=manifest.get("requests_total_by_engine") or manifest.get("requests_by_engine") or {},
        toy_model=manifest["engine"]["kind"] == "embedded",
        configs=[{**c, "what": what.get(c["subset"], f"`{c['subset']}` export"), "var": _var(c["subset"])}
                 for c in configs],
        skipped=dataset.get("skipped") or [],
        split_note=split_note,
        others=[c["config_name"] for c in other_configs], load_path=load_path, hub=hub, plots=plots, samples=[_sample(r) for r in samples],
        fields=fields, structured=manifest.get("structured_outputs"),
        coverage=coverage_lines(manifest.get("coverage")), pct=_pct, cell=_cell,
        dedup_exact=bool((manifest.get("dedup_config") or {}).get("exact")))
    return re.sub(r"\n{3,}", "\n\n", text)  # the template's optional sections leave blank runs


def local_configs(manifest: dict[str, Any]) -> list[dict]:
    """The card configs of a run directory: its subsets with their files' paths relative to the run."""
    out = []
    for name, subset in (manifest.get("dataset") or {}).get("subsets", {}).items():
        out.append({"config_name": name, "subset": name,
                    "data_files": [{"split": split, "path": part["files"]} for split, part in subset["splits"].items()],
                    "rows": {split: part["rows"] for split, part in subset["splits"].items()}})
    return out


def read_samples(path: Path, n: int) -> list[dict]:
    """The first `n` rows of a parquet file."""
    import pyarrow.parquet as pq

    if n <= 0 or not path.exists():
        return []
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=n):
        return batch.to_pylist()[:n]
    return []


def read_fields(path: Path) -> dict[str, str]:
    """Column name -> Arrow type of a parquet file."""
    import pyarrow.parquet as pq

    if not path.exists():
        return {}
    return {f.name: str(f.type) for f in pq.read_schema(path)}


def run_card(run_dir: Path, manifest: dict[str, Any], *, load_path: str | None = None) -> str:
    """The card of a run directory, as `synth run` writes it."""
    dataset = manifest.get("dataset") or {}
    first = _first_file(dataset, "default")
    return render_card(manifest, load_path=load_path or str(run_dir), configs=local_configs(manifest),
                       plots={k: f"plots/{v}" for k, v in dataset.get("plots", {}).items()},
                       samples=read_samples(run_dir / first, dataset.get("sample_rows", 3)) if first else [],
                       fields=read_fields(run_dir / first) if first else {})


def _first_file(dataset: dict, subset: str) -> str | None:
    splits = (dataset.get("subsets") or {}).get(subset, {}).get("splits", {})
    for part in splits.values():
        if part["files"]:
            return part["files"][0]
    return None


SAMPLE_SKIP = ("recipe", "recipe_version", "seed_key")  # the same on every row of a run


def _sample(row: dict) -> str:
    """A row for reading: long texts cut, chats kept as turns, other nested values as short JSON.

    >>> print(_sample({"id": "a", "recipe": "r", "messages": [{"role": "user", "content": "你好"}],
    ...                "votes": [1, 2]}))
    {
     "id": "a",
     "messages": [{"role": "user", "content": "你好"}],
     "votes": "[1, 2]"
    }
    """
    def cut(text: str, limit: int = MAX_SAMPLE_CHARS) -> str:
        return text if len(text) <= limit else text[:limit] + "…"

    lines = []
    for key, value in row.items():
        if key in SAMPLE_SKIP:
            continue
        if key in ("messages", "conversations", "prompt", "chosen", "rejected") and isinstance(value, list):
            shown = json.dumps([{k: cut(v) if isinstance(v, str) else v for k, v in turn.items()}
                                if isinstance(turn, dict) else turn for turn in value], ensure_ascii=False)
        elif isinstance(value, (dict, list)):
            shown = json.dumps(cut(json.dumps(value, ensure_ascii=False, default=str), 120), ensure_ascii=False)
        else:
            shown = json.dumps(cut(value) if isinstance(value, str) else value, ensure_ascii=False, default=str)
        lines.append(f" {json.dumps(key)}: {shown}")
    return "{\n" + ",\n".join(lines) + "\n}"


def _cell(value: Any, limit: int = 80) -> str:
    """Text that fits one Markdown table cell.

    >>> print(_cell("a|b  c"))
    a\\|b c
    """
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[:limit] + "…"


def _var(name: str) -> str:
    """A Python variable name for a subset in the load snippet.

    >>> _var("default"), _var("zh-sft"), _var("2x")
    ('ds', 'zh_sft', 'ds_2x')
    """
    if name == "default":
        return "ds"
    var = re.sub(r"\W", "_", name)
    return var if var[0].isalpha() else f"ds_{var}"


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.1f} %" if total else "-"


def _date(ts: float | None) -> str:
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def coverage_lines(coverage: dict[str, Any] | None, *, max_items: int = 20) -> list[str]:
    """A recipe's coverage report as Markdown lines: scalars as a list, lists (what is not covered)
    shortened to `max_items`, count tables (`{name: {key: n}}`) as two-column tables.

    >>> coverage_lines({"chunks": 3, "uncovered": ["a", "b"], "by_leaf": {"x": 2}})
    ['- chunks: 3', '- uncovered (2): a, b', '', '| by_leaf | rows |', '|---|---|', '| x | 2 |', '']
    """
    if not coverage:
        return []
    lines, tables = [], []
    for key, value in coverage.items():
        if isinstance(value, dict) and all(isinstance(v, (int, float)) for v in value.values()):
            unit = "rows" if all(isinstance(v, int) for v in value.values()) else "value"  # e.g. a loss per chunk
            tables.append(("", f"| {key} | {unit} |", "|---|---|",
                           *(f"| {k} | {v} |" for k, v in list(value.items())[:200]), ""))
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value[:max_items]) + (" …" if len(value) > max_items else "")
            lines.append(f"- {key} ({len(value)}): {shown or 'none'}")
        elif not isinstance(value, dict):
            lines.append(f"- {key}: {value}")
    return lines + [line for table in tables for line in table]
