"""A run directory as the viewer sees it: the manifest, three row sets (kept, rejected, failed),
provenance from cache.sqlite, and coverage. Read-only: nothing in the directory is written, so a
run can be viewed while it is still going (then the manifest's counts are the live ones, and
before data/ exists the kept set is the generated records).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from synth.errors import InputError
from synth.view import fields
from synth.view.jsonl import JsonlTable
from synth.view.parquet import ParquetTable
from synth.view.tables import Table

SETS = ("kept", "rejected", "failed")
# (title, rows field path, columns field path): a heat map is drawn for each pair the dataset has
HEATMAPS = (
    ("Taxonomy leaf × task", ("taxonomy", "path"), ("taxonomy", "task")),
    ("Taxonomy leaf × difficulty", ("taxonomy", "path"), ("taxonomy", "difficulty")),
    ("Taxonomy leaf × language", ("taxonomy", "path"), ("taxonomy", "language")),
    ("Document × task type", ("chunk", "source"), ("task_type",)),
    ("Document × language", ("chunk", "source"), ("lang",)),
    ("Evolution operation × depth", ("evolution", "operation"), ("evolution", "depth")),
)
MAX_HEAT_ROWS = 300
GROUP_SCAN_BYTES = 256 << 20


class RunView:
    """Open a run directory for viewing; raises InputError when it is not one."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(f"run directory not found: {self.root} (give the --out directory of `synth run`, "
                             f"e.g. runs/quickstart)")
        if not (self.root / "manifest.json").is_file() and not (self.root / "data").is_dir():
            raise InputError(f"{self.root} is not a run directory: it has no manifest.json or data/ "
                             f"(give the directory `synth run` wrote, e.g. runs/<name>)")
        self._tables: dict[str, tuple[tuple, Table]] = {}
        self._lock = threading.Lock()

    # -- files -------------------------------------------------------------------------------------
    def manifest(self) -> dict:
        try:
            data = json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _files(self, kind: str) -> tuple[str, list[Path]]:
        """(source label, files) of a set: kept is data/*.parquet, else the generated records of the
        manifest's fingerprint while the run has not written its dataset yet."""
        if kind == "kept":
            shards = sorted((self.root / "data").glob("*.parquet"))
            if shards:
                return "parquet", shards
            fingerprint = self.manifest().get("fingerprint")
            folder = self.root / "records" / str(fingerprint) if fingerprint else None
            if folder is not None and folder.is_dir():
                return "records", sorted(folder.glob("part-*.jsonl"))
            return "parquet", []
        path = self.root / f"{kind}.jsonl"
        return "jsonl", [path] if path.is_file() else []

    def table(self, kind: str) -> Table:
        """The row set `kind`, re-indexed when its files change (a run that is still writing)."""
        if kind not in SETS:
            raise ValueError(f"unknown row set {kind!r} (use {', '.join(SETS)})")
        source, files = self._files(kind)
        signature = (source, tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files))
        with self._lock:
            cached = self._tables.get(kind)
            if cached is None or cached[0] != signature:
                if source == "parquet":
                    table: Table = ParquetTable(files, kind)
                else:
                    table = JsonlTable(files, "generated" if source == "records" else kind)
                self._tables[kind] = (signature, table)
            return self._tables[kind][1]

    # -- views -------------------------------------------------------------------------------------
    def overview(self) -> dict[str, Any]:
        m = self.manifest()
        sets = {}
        for kind in SETS:
            t = self.table(kind)
            sets[kind] = {"rows": len(t), "source": "records" if t.kind == "generated" else kind}
        exports = sorted(p.name for p in (self.root / "exports").glob("*")) if (self.root / "exports").is_dir() else []
        updated = (self.root / "manifest.json").stat().st_mtime if (self.root / "manifest.json").exists() else None
        keys = ("name", "status", "fingerprint", "synth_version", "recipe", "engine", "sampling", "rows",
                "requests", "stages", "structured_outputs", "outputs", "started", "first_started", "finished",
                "sessions", "versions")
        return {**{k: m.get(k) for k in keys}, "name": m.get("name") or self.root.name, "run_dir": str(self.root),
                "updated": updated, "sets": sets, "exports": exports, "has_coverage": bool(m.get("coverage")),
                "engines": engines_by_role(m)}

    def groups(self) -> list[dict[str, Any]]:
        """Rejected rows by stage and reason, in pipeline order (from the manifest's stage counts)."""
        stages = [s for s in self.manifest().get("stages") or [] if s.get("dropped_by_reason")]
        if stages:
            return [{"stage": s["name"], "reasons": sorted(s["dropped_by_reason"].items(), key=lambda kv: -kv[1])}
                    for s in stages]
        table = self.table("rejected")  # no stage counts in the manifest: count the file
        if not isinstance(table, JsonlTable) or sum(f.stat().st_size for f in table.files) > GROUP_SCAN_BYTES:
            return []
        pairs: dict[str, Counter] = {}
        for _, line in table.lines(0):
            entry = json.loads(line)
            pairs.setdefault(str(entry.get("stage")), Counter())[str(entry.get("reason"))] += 1
        return [{"stage": stage, "reasons": c.most_common()} for stage, c in pairs.items()]

    def facets(self, kind: str) -> dict[str, list[tuple[str, int]]]:
        return self.table(kind).facet_counts()

    def detail(self, kind: str, i: int) -> dict[str, Any]:
        table = self.table(kind)
        entry = table.get(i)
        record = fields.record_of(table.kind, entry)
        seed = None
        if table.kind != "failed" and record.get("seed_key"):
            seed = self.seed_row(str(record["seed_key"]))
        return {"set": kind, "kind": table.kind, "i": i, "total": len(table), "entry": entry,
                "summary": fields.summary(table.kind, entry, i), "seed": seed}

    def seed_row(self, seed_key: str) -> dict | None:
        """The seed row's progress entry in cache.sqlite (status, error, and the row where the runner
        kept it), or None where the cache cannot be read."""
        path = self.root / "cache.sqlite"
        if not path.is_file():
            return None
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
            try:
                hit = db.execute("SELECT fingerprint, status, n_records, error, row FROM rows WHERE row_key = ? "
                                 "ORDER BY updated DESC LIMIT 1", (seed_key,)).fetchone()
            finally:
                db.close()
        except sqlite3.Error:
            return None
        if hit is None:
            return None
        fingerprint, status, n_records, error, row = hit
        return {"seed_key": seed_key, "fingerprint": fingerprint, "status": status, "records": n_records,
                "error": error, "row": json.loads(row) if row else None}

    def coverage(self) -> dict[str, Any]:
        """The recipe's coverage report, and heat maps counted from the dataset's own fields."""
        report = self.manifest().get("coverage") or None
        table = self.table("kept")
        maps = []
        if isinstance(table, ParquetTable) and len(table):
            for title, rows_path, cols_path in HEATMAPS:
                if table.has(rows_path) and table.has(cols_path):
                    maps.append(_heatmap(title, table.crosstab(rows_path, cols_path), report))
        return {"report": report, "heatmaps": maps}


def _heatmap(title: str, counts, report: dict | None) -> dict[str, Any]:
    rows = sorted({r for r, _ in counts}, key=lambda v: (v is None, str(v)))
    cols = sorted({c for _, c in counts}, key=lambda v: (v is None, str(v)))
    if report and title.startswith("Taxonomy"):  # leaves and values that kept no row still get a line
        rows = sorted(set(rows) | set((report.get("rows_by_leaf") or {}).keys()), key=lambda v: (v is None, str(v)))
        dim = title.split("× ")[1]
        cols = sorted(set(cols) | set((report.get(f"rows_by_{dim}") or {}).keys()), key=lambda v: (v is None, str(v)))
    truncated = len(rows) > MAX_HEAT_ROWS
    rows = rows[:MAX_HEAT_ROWS]
    grid = [[counts.get((r, c), 0) for c in cols] for r in rows]
    return {"title": title, "rows": ["(none)" if r is None else str(r) for r in rows],
            "cols": ["(none)" if c is None else str(c) for c in cols], "counts": grid,
            "max": max((n for line in grid for n in line), default=0), "truncated": truncated}


def engines_by_role(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per engine role (the default first): its model and who asks it, and its requests, cache
    hits and tokens over every session of the run."""
    described = {"default": manifest.get("engine") or {}, **(manifest.get("engines") or {})}
    counts = manifest.get("requests_total_by_engine") or manifest.get("requests_by_engine") or {}
    return [{"role": role, "model": (described.get(role) or {}).get("model"),
             "kind": (described.get(role) or {}).get("kind"), "base_url": (described.get(role) or {}).get("base_url"),
             "used_by": (described.get(role) or {}).get("used_by"), **(counts.get(role) or {})}
            for role in dict.fromkeys([*described, *counts])]
