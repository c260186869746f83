"""The books of a finished run: every seed row and every record is accounted for, once.

A finished run's manifest must balance (the test suite checks every run directory a test makes,
tests/conftest.py):

- seed rows read (+ follow-up rows) = done + failed + duplicate; selected (+ follow-up) = done + failed
- `generate` (rows in, records out): in = rows_done + dropped (duplicate and failed rows), and the
  records read back (kept) = the records the done rows were marked with (records_written)
- every later stage: in = kept + dropped, dropped = the sum of dropped_by_reason, and its in is the
  previous stage's kept
- outputs: records = generate's kept, kept = the last stage's kept, rejected = every later stage's drops;
  and on disk: data/ holds `kept` rows, rejected.jsonl `rejected` lines, failed.jsonl `failed` lines
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FINISHED = ("complete", "incomplete")


def unbalanced(manifest: dict[str, Any]) -> list[str]:
    """What does not add up in a finished run's manifest (empty: the books balance)."""
    if manifest.get("status") not in FINISHED:
        return []
    problems: list[str] = []

    def expect(ok: bool, text: str) -> None:
        if not ok:
            problems.append(text)

    rows = manifest["rows"]
    follow_up = rows.get("follow_up", 0)
    done, failed, duplicate = rows["done"], rows["failed"], rows["duplicate"]
    expect(rows["seed_rows"] + follow_up == done + failed + duplicate,
           f"seed rows {rows['seed_rows']} + follow-up {follow_up} != done {done} + failed {failed} + "
           f"duplicate {duplicate}")
    expect(rows["selected"] + follow_up == done + failed,
           f"selected rows {rows['selected']} + follow-up {follow_up} != done {done} + failed {failed}")

    stages = manifest["stages"]
    gen = stages[0]
    expect(gen["name"] == "generate", f"the first stage is {gen['name']!r}, not 'generate'")
    expect(gen["in"] == rows["seed_rows"] + follow_up,
           f"generate: in {gen['in']} != seed rows {rows['seed_rows']} + follow-up {follow_up}")
    expect(gen["in"] == gen["rows_done"] + gen["dropped"],
           f"generate: in {gen['in']} != rows done {gen['rows_done']} + dropped {gen['dropped']}")
    expect(gen["rows_done"] == done, f"generate: rows done {gen['rows_done']} != rows.done {done}")
    expect(gen["kept"] == gen["records_written"],
           f"generate: {gen['kept']} records read back, {gen['records_written']} written")
    for before, stage in zip(stages, stages[1:]):
        name = stage["name"]
        expect(stage["in"] == before["kept"], f"{name}: in {stage['in']} != {before['name']} kept {before['kept']}")
        expect(stage["in"] == stage["kept"] + stage["dropped"],
               f"{name}: in {stage['in']} != kept {stage['kept']} + dropped {stage['dropped']}")
    for stage in stages:
        by_reason = sum(stage["dropped_by_reason"].values())
        expect(stage["dropped"] == by_reason,
               f"{stage['name']}: dropped {stage['dropped']} != {by_reason} dropped by reason")

    out = manifest["outputs"]
    dropped_after = sum(s["dropped"] for s in stages[1:])
    expect(out["records"] == gen["kept"], f"outputs: records {out['records']} != generate kept {gen['kept']}")
    expect(out["kept"] == stages[-1]["kept"], f"outputs: kept {out['kept']} != {stages[-1]['name']} kept "
                                              f"{stages[-1]['kept']}")
    expect(out["rejected"] == dropped_after, f"outputs: rejected {out['rejected']} != {dropped_after} dropped "
                                             "by the stages")
    return problems


def check_run_dir(run_dir: str | Path) -> list[str]:
    """`unbalanced` of the run's manifest, and the files it writes against the manifest's numbers."""
    run_dir = Path(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    problems = unbalanced(manifest)
    if manifest.get("status") not in FINISHED or problems:
        return problems
    out, rows = manifest["outputs"], manifest["rows"]
    on_disk = {"data/": (_parquet_rows(run_dir / "data"), out["kept"]),
               "rejected.jsonl": (_lines(run_dir / "rejected.jsonl"), out["rejected"]),
               "failed.jsonl": (_lines(run_dir / "failed.jsonl"), rows["failed"])}
    return [f"{name} holds {n} rows, the manifest says {expected}"
            for name, (n, expected) in on_disk.items() if n != expected]


def _lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


def _parquet_rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in folder.glob("*.parquet"))
