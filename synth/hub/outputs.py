"""Everything a finished run writes besides its records: the dataset, its subsets, plots and card.

Layout of a run directory (paths relative to it; the card's `configs` name them file by file):

    data/<split>-*.parquet             subset `default`: the kept records (split by seed row when asked)
    subsets/rejected/train-*.parquet   subset `rejected`: every dropped record with its stage and reason
    subsets/<format>/<split>-*.parquet one subset per export format (`messages`, `dpo`, `openrlhf_prm`, ...)
    exports/<format>.jsonl             the same export rows as JSON lines (+ dataset_info.json for LLaMA-Factory)
    plots/*.png                        lengths, funnel, coverage, S-curve
    README.md                          the card; manifest.json holds the numbers it shows under "statistics"
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from synth.hub import stats as statistics
from synth.hub.card import run_card
from synth.hub.dataset import assign_splits, rejected_row, write_dataset, write_subsets
from synth.io import atomic_path, write_jsonl, write_text
from synth.spool import Spool, like


def converters(config, recipe) -> dict[str, Any]:
    """format -> record converter for the run's configured export formats."""
    from synth.exports import export_format

    return {fmt: recipe.exports[fmt] if fmt in recipe.exports else partial(export_format(fmt),
                                                                          reasoning=config.export.reasoning)
            for fmt in config.export.formats}


def write_outputs(root: Path, config, recipe, kept: list[dict], rejected: list[dict], failed: list[dict],
                  manifest: dict[str, Any]) -> None:
    """Write the dataset, subsets, exports, plots and card of a run, and their numbers into `manifest`.

    `kept` and `rejected` are lists, or synth.spool.Spool files for runs too large for memory (every
    step below reads them as it goes)."""
    from synth.exports import write_dataset_info

    shares = dict(config.export.split)
    kept_splits = assign_splits(kept, shares)
    data_files = write_dataset(kept_splits, root / "data")
    write_jsonl(root / "rejected.jsonl", rejected)
    write_jsonl(root / "failed.jsonl", failed)
    if config.export.jsonl:
        write_jsonl(root / "train.jsonl", kept)

    subsets: dict[str, dict[str, list[dict]]] = {}
    for fmt, convert in converters(config, recipe).items():
        by_split = {split: like(records, f"export-{fmt}-{split}.jsonl",
                                (row for r in records if (row := convert(r)) is not None))
                    for split, records in kept_splits.items()}
        write_jsonl(root / "exports" / f"{fmt}.jsonl", (row for r in kept if (row := convert(r)) is not None))
        subsets[fmt] = by_split
    if {"llamafactory", "alpaca", "sharegpt"} & set(config.export.formats):
        write_dataset_info(root / "exports", config.name, config.export.formats)
    subsets["rejected"] = {"train": like(rejected, "rejected-rows.jsonl", (rejected_row(r) for r in rejected))}
    subset_files = write_subsets(subsets, root / "subsets")

    layout: dict[str, Any] = {"default": {"dir": "data", "splits": {
        split: {"files": [f"data/{f}" for f in files], "rows": len(kept_splits[split])}
        for split, files in data_files.items()}}}
    for name, files in subset_files.items():
        layout[name] = {"dir": f"subsets/{name}", "splits": {
            split: {"files": [f"subsets/{f}" for f in paths], "rows": len(subsets[name][split])}
            for split, paths in files.items()}}

    seed_rows = manifest["rows"]["selected"] + manifest["rows"].get("follow_up", 0)
    stats, lengths = statistics.collect(kept, seed_rows=seed_rows, dedup=config.dedup, recipe=recipe.name,
                                        scratch=kept.path.parent if isinstance(kept, Spool) else root)
    before, now = manifest.get("requests_before") or {}, manifest.get("requests") or {}
    manifest.update({
        "requests_total": {k: before.get(k, 0) + now.get(k, 0) for k in {*before, *now}},
        "license": config.license, "pretty_name": config.pretty_name, "seeds": {"source": config.seeds},
        "card": {"language": config.card.language},
        "dedup_config": config.dedup, "statistics": stats,
        "dataset": {"split": shares, "sample_rows": config.export.sample_rows, "subsets": layout,
                    "skipped": [name for name in subsets if name not in subset_files]},
    })
    from synth.hub.plots import draw_all

    with atomic_path(root / "plots", is_dir=True) as tmp:
        manifest["dataset"]["plots"] = draw_all(stats, manifest["stages"], lengths,
                                                manifest.get("coverage"), Path(tmp))
    write_text(root / "README.md", run_card(root, manifest))


def export_run(run_dir: Path, fmt: str, out: Path, *, split: str | None = None,
               reasoning: str | None = None) -> int:
    """Write one export format of a finished run's kept records to `out` (.jsonl or .parquet); returns rows."""
    import yaml

    from synth import plugins
    from synth.config import RunConfig
    from synth.errors import ConfigError, InputError
    from synth.exports import add_dataset_info, format_names
    from synth.hub.push import read_run
    from synth.io import read_rows, write_table

    manifest = read_run(run_dir)
    try:
        raw = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
        config = RunConfig.model_validate(raw)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(f"{run_dir / 'config.yaml'} is missing or unreadable ({type(exc).__name__}): "
                         "re-run `synth run CONFIG` to rewrite it") from None
    if reasoning:
        config.export.reasoning = reasoning
    cls = plugins.load(plugins.RECIPES, config.recipe)
    try:
        recipe = cls(config.options)
    except Exception:  # noqa: BLE001 - options that name files may not resolve from here; class exports still do
        recipe = cls.__new__(cls)
        recipe.exports = getattr(cls, "exports", {})
    available = [*format_names(), *recipe.exports]
    if fmt not in available:
        raise ConfigError(f"--format {fmt!r}: recipe {config.recipe!r} exports {', '.join(available)}")
    if out.suffix not in (".jsonl", ".parquet"):
        raise ConfigError(f"--out {out}: name a .jsonl or .parquet file")
    config.export.formats = [fmt]
    convert = converters(config, recipe)[fmt]
    splits = manifest["dataset"]["subsets"]["default"]["splits"]
    if split is not None and split not in splits:
        raise ConfigError(f"--split {split!r}: the run has {', '.join(splits)}")
    rows = []
    for name, part in splits.items():
        if split is None or name == split:
            for rel in part["files"]:
                rows += [row for r in read_rows(run_dir / rel) if (row := convert(r)) is not None]
    write_table(out, rows)
    if fmt in ("llamafactory", "alpaca", "sharegpt") and out.suffix == ".jsonl":
        add_dataset_info(out.parent, out.stem, fmt, out.name)
    return len(rows)
