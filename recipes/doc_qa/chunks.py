"""The chunks `doc-qa` (and `doc-quiz`) work on: a seed row's provenance (`chunk_info`) and language
(`read_chunk`), and the rows read from a table of chunks (chunks.jsonl from `synth ingest`) or cut from
documents (a file, folder or glob)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from synth.io import is_glob
from synth.text import prompt_language

log = logging.getLogger(__name__)

_TABLE_SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".gz"}


def chunk_info(row: dict, text_field: str = "text") -> dict:
    """The provenance part of a seed row; rows without an id get one from their text."""
    text = str(row.get(text_field) or "")
    cid = row.get("id")
    if cid in (None, ""):
        cid = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    source = row.get("source")
    headings = row.get("headings") or []
    headings = [headings] if isinstance(headings, str) else [str(h) for h in headings]
    return {"id": str(cid), "source": source, "doc_id": row.get("doc_id") or source, "headings": headings,
            "start": row.get("start"), "end": row.get("end")}


def read_chunk(row: dict, text_field: str, language: str) -> tuple[str, dict, str]:
    """A seed row's (text, provenance, prompt language): ``language`` unless "auto"; then the row's
    ``lang`` (zh*: zh, any other but und: en), else the text's script."""
    text = str(row[text_field])
    if language == "auto":
        lang = str(row.get("lang") or "").lower()
        language = "zh" if lang.startswith("zh") else "en" if lang and lang != "und" else prompt_language(text)
    return text, chunk_info(row, text_field), language


def read_chunks(path: Path, text_field: str, chunk_size: int | None, overlap: int | None) -> list[dict]:
    """Chunk rows from a table, or from documents: a file, folder or glob of .txt .md .html .pdf .docx
    .epub, cut with `chunk_size` / `overlap` (the ingest defaults when None)."""
    if _is_table(path):
        from synth.io import read_rows

        return read_rows(path)
    from synth.ingest import IngestOptions, IngestReport, iter_chunks

    report = IngestReport()
    options = IngestOptions.parse(chunk_size=chunk_size, overlap=overlap)
    rows = list(iter_chunks([str(path)], options, report, root=_documents_root(path)))
    for source, reason in report.skipped:
        log.warning("doc-qa: skipped %s: %s", source, reason)
    return rows


def _is_table(path: Path) -> bool:
    if path.is_file() or (path.suffix.lower() in _TABLE_SUFFIXES and not is_glob(path)):
        return path.suffix.lower() in _TABLE_SUFFIXES
    if path.is_dir():
        from synth.ingest import READERS

        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            return True
        return not any(p.suffix.lower() in READERS for p in path.rglob("*") if p.is_file())
    return False  # a glob pattern: documents


def _documents_root(path: Path) -> Path:
    """The folder chunk sources are named relative to: the folder itself, a file's folder, or a glob's
    leading folder (`docs/**/*.pdf` -> `docs`), so rows carry `设备点检规程.md`, not the absolute path."""
    if path.is_dir():
        return path
    if path.is_file():
        return path.parent
    parts = []
    for part in path.parts:
        if is_glob(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


class ChunkSeeds:
    """What a recipe over chunks (doc-qa, doc-quiz) does with its seeds; mixed in before ``Recipe``.

    Seeds are chunk rows from a table (chunks.jsonl from `synth ingest`) or documents (a file, folder or
    glob of .txt .md .html .pdf .docx .epub) cut with the options' ``chunk_size`` / ``overlap``; every
    row, also those cut off by ``--limit``, is kept as ``self.pool``, the related chunks RAFT
    distractors and MCQ options come from.
    """

    options: Any
    pool: Any

    def required_fields(self) -> list[str]:
        return [self.options.text_field]

    def read_seeds(self, path: Path) -> list[dict] | None:
        o = self.options
        rows, self.pool = read_chunks_and_pool(path, o.text_field, o.chunk_size, o.overlap)
        return rows


def read_chunks_and_pool(path: Path, text_field: str, chunk_size: int | None, overlap: int | None):
    """`read_chunks`, plus every row as a `DistractorPool` (related chunks for RAFT distractors or MCQ
    options; rows cut off by ``--limit`` included)."""
    from synth.recipes.doc_qa.raft import DistractorPool

    rows = read_chunks(path, text_field, chunk_size, overlap)
    pool = DistractorPool([{**chunk_info(r, text_field), "text": r.get(text_field)}
                           for r in rows if isinstance(r.get(text_field), str)])
    return rows, pool
