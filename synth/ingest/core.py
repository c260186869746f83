"""Documents in, chunks with exact provenance out: path expansion, reading, splitting, boilerplate.

Everything streams one document at a time: a corpus of any size is read in bounded memory (the
repeated-chunk filter keeps 8 bytes per chunk).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from synth.errors import ConfigError, InputError, format_validation
from synth.ingest.boilerplate import RepeatedChunks
from synth.ingest.readers import Document, Unreadable, read_document
from synth.ingest.split import char_lengths, split_text
from synth.ingest.text import detect_lang
from synth.io import atomic_path, is_glob
from synth.paths import new_folders_removed_on_error



class IngestOptions(BaseModel):
    """How documents are cut. Sizes count characters (``unit="chars"``) or tokens of ``tokenizer``."""

    model_config = ConfigDict(extra="forbid")

    chunk_size: int = Field(1500, ge=1, description="Target chunk size (characters or tokens).")
    overlap: int = Field(0, ge=0, description="A chunk that continues a section repeats up to this much.")
    unit: Literal["chars", "tokens"] = "chars"
    tokenizer: str | None = Field(None, description="Tokenizer (local directory or name) for unit=tokens.")
    drop_repeated: bool = Field(True, description="Drop chunks whose normalised text came before.")
    html_main: bool = Field(True, description="Read a web page's main content (menus, comments, footers "
                            "left out); False reads the whole page.")

    @model_validator(mode="after")
    def _check(self) -> IngestOptions:
        if self.overlap >= self.chunk_size:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than chunk_size ({self.chunk_size})")
        if self.unit == "tokens" and not self.tokenizer:
            raise ValueError("unit 'tokens' needs a tokenizer: the serving model's name or local directory")
        return self

    @classmethod
    def parse(cls, **values) -> IngestOptions:
        """Build from user input; a bad value raises ConfigError naming the field."""
        try:
            return cls(**{k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            raise ConfigError("ingest " + format_validation(exc)) from None


@dataclass
class IngestReport:
    """What an ingest read, skipped and wrote. ``on_skip(source, reason)`` is called as files are skipped."""

    files_read: int = 0
    documents: int = 0
    chunks: int = 0
    repeated_dropped: int = 0
    pages: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # read, but with something left out
    ocr_pages: int = 0
    on_skip: Callable[[str, str], None] | None = field(default=None, repr=False)
    on_note: Callable[[str, str], None] | None = field(default=None, repr=False)

    def skip(self, source: str, reason: str) -> None:
        self.skipped.append((source, reason))
        if self.on_skip is not None:
            self.on_skip(source, reason)

    def note(self, source: str, note: str) -> None:
        self.notes.append((source, note))
        if self.on_note is not None:
            self.on_note(source, note)

    @property
    def mb_per_s(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One line for the end of a run."""
        ocr = f", {self.ocr_pages} by OCR" if self.ocr_pages else ""
        pages = f" ({self.pages} PDF pages{ocr})" if self.pages else ""
        return (f"{self.files_read} files read{pages}, {len(self.skipped)} skipped; {self.documents} documents, "
                f"{self.chunks} chunks, {self.repeated_dropped} repeated/boilerplate chunks dropped; "
                f"{self.bytes_read / 1e6:.2f} MB in {self.seconds:.2f} s ({self.mb_per_s:.2f} MB/s)")


def expand_paths(paths: Iterable[str | os.PathLike], report: IngestReport | None = None,
                 exclude: Iterable[Path] = (), root: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """(file, source) for every file named by ``paths``: files, folders (recursive, hidden entries
    skipped) and glob patterns, in a stable order, each file once. Paths that match nothing are
    reported as skipped. ``source`` is the path as given, or relative to ``root`` when the file lies
    under it (so provenance does not depend on where a document folder sits on disk)."""
    base = Path(root).resolve() if root is not None else None
    report = report if report is not None else IngestReport()
    skip = {p.resolve() for p in exclude}
    seen: set[Path] = set()
    out: list[tuple[Path, str]] = []

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen and key not in skip:
            seen.add(key)
            source = path.as_posix()
            if base is not None and key.is_relative_to(base):
                source = key.relative_to(base).as_posix()
            out.append((path, source))

    def walk(folder: Path) -> int:
        found = 0
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith("."):
                    add(Path(root) / name)
                    found += 1
        return found

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if not walk(path):  # an empty (or unreadable) folder is named, like a missing file
                report.skip(str(raw), "no files in this folder" if os.access(path, os.R_OK | os.X_OK)
                            else "cannot read this folder (permission denied)")
        elif path.is_file():
            add(path)
        elif is_glob(raw):
            matches = sorted(glob.glob(str(raw), recursive=True))
            if not matches:
                report.skip(str(raw), "no file matches this pattern")
            for match in matches:
                (walk if Path(match).is_dir() else add)(Path(match))
        else:
            report.skip(str(raw), "not found (check the path)")
    return out


def chunk_id(source: str, start: int, end: int, text: str) -> str:
    """16 hex digits of SHA-1 over source, span and text: stable across runs, unique per span."""
    return hashlib.sha1(f"{source}\0{start}\0{end}\0{text}".encode("utf-8")).hexdigest()[:16]


def _measure(options: IngestOptions):
    if options.unit == "chars":
        return char_lengths
    from synth.ingest.tokens import token_lengths

    return token_lengths(options.tokenizer)


def iter_documents(paths: Iterable[str | os.PathLike], report: IngestReport | None = None, *,
                   exclude: Iterable[Path] = (), root: str | os.PathLike | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   options: IngestOptions | None = None) -> Iterator[Document]:
    """Each readable file as a `Document`; unreadable ones go to ``report.skipped`` with the reason."""
    html_main = options.html_main if options is not None else True
    report = report if report is not None else IngestReport()
    files = expand_paths(paths, report, exclude, root)
    for done, (path, source) in enumerate(files, 1):
        try:
            size = path.stat().st_size
            document = read_document(path, source, html_main=html_main)
        except Unreadable as exc:
            report.skip(source, str(exc))
            continue
        except Exception as exc:  # a parser tripping over a malformed file must not stop the others
            if os.environ.get("SYNTH_RAISE_ERRORS"):
                raise
            report.skip(source, f"cannot parse ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        finally:
            if progress is not None:
                progress(done, len(files))
        report.files_read += 1
        report.bytes_read += size
        report.pages += len(document.page_starts or ())
        report.ocr_pages += len(document.ocr_pages or ())
        for note in document.notes:
            report.note(source, note)
        yield document


def iter_document_chunks(paths: Iterable[str | os.PathLike], options: IngestOptions | None = None,
                         report: IngestReport | None = None, *, exclude: Iterable[Path] = (),
                         root: str | os.PathLike | None = None,
                         progress: Callable[[int, int], None] | None = None
                         ) -> Iterator[tuple[Document, list[dict]]]:
    """(document, its chunks) one document at a time; raises InputError at the end when no file at
    all could be read."""
    options = options or IngestOptions()
    report = report if report is not None else IngestReport()
    measure = _measure(options)
    repeated = RepeatedChunks() if options.drop_repeated else None
    started = time.perf_counter()
    for document in iter_documents(paths, report, exclude=exclude, root=root, progress=progress, options=options):
        chunks = []
        ocr_spans = _ocr_spans(document)
        for span in split_text(document.text, options.chunk_size, options.overlap, markdown=document.markdown,
                               measure=measure):
            if repeated is not None and repeated.is_repeat(span["text"]):
                report.repeated_dropped += 1
                continue
            chunks.append({"id": chunk_id(document.source, span["start"], span["end"], span["text"]),
                           "source": document.source, "doc_id": document.id, "headings": span["headings"],
                           "start": span["start"], "end": span["end"], "text": span["text"],
                           "lang": detect_lang(span["text"])})
            if ocr_spans and any(a < span["end"] and span["start"] < b for a, b in ocr_spans):
                chunks[-1]["ocr"] = True
        report.documents += 1
        report.chunks += len(chunks)
        report.seconds = time.perf_counter() - started
        yield document, chunks
    report.seconds = time.perf_counter() - started
    if not report.files_read:
        why = "; ".join(f"{source}: {reason}" for source, reason in report.skipped[:3])
        more = f" (and {len(report.skipped) - 3} more skipped)" if len(report.skipped) > 3 else ""
        raise InputError(f"nothing could be ingested: {why}{more}" if why else
                         "nothing could be ingested: no paths given; name .txt .md .html .pdf .docx .pptx .xlsx or .epub files")


def _ocr_spans(document: Document) -> list[tuple[int, int]]:
    """Text ranges of the pages read by OCR."""
    if not document.ocr_pages or not document.page_starts:
        return []
    starts = document.page_starts + [len(document.text)]
    return [(starts[p], starts[p + 1]) for p in document.ocr_pages if p + 1 < len(starts)]


def iter_chunks(paths: Iterable[str | os.PathLike], options: IngestOptions | None = None,
                report: IngestReport | None = None, *, root: str | os.PathLike | None = None) -> Iterator[dict]:
    """Chunk rows ``{id, source, doc_id, headings, start, end, text, lang}`` of every readable file
    under ``paths`` (files, folders, globs); sources relative to ``root`` when given. Skipped files
    and counts land in ``report``."""
    for _, chunks in iter_document_chunks(paths, options, report, root=root):
        yield from chunks


def documents_path(out: str | os.PathLike) -> Path:
    """Where the documents go beside a chunks file: ``chunks.jsonl`` -> ``documents.jsonl``,
    ``kb/manuals.jsonl`` -> ``kb/manuals.documents.jsonl``.

    >>> documents_path("kb/chunks.jsonl").as_posix(), documents_path("kb/manuals.jsonl").as_posix()
    ('kb/documents.jsonl', 'kb/manuals.documents.jsonl')
    """
    out = Path(out)
    name = "documents.jsonl" if out.name == "chunks.jsonl" else f"{out.stem}.documents.jsonl"
    return out.with_name(name)


def ingest(paths: Iterable[str | os.PathLike], out: str | os.PathLike, options: IngestOptions | None = None,
           report: IngestReport | None = None, *,
           progress: Callable[[int, int], None] | None = None) -> IngestReport:
    """Write ``out`` (chunks, JSONL) and the documents file beside it (see `documents_path`),
    atomically and streaming; returns the report. Nothing is written when nothing could be read."""
    out = Path(out)
    docs = documents_path(out)
    report = report if report is not None else IngestReport()
    with new_folders_removed_on_error(out), atomic_path(out) as chunk_tmp, atomic_path(docs) as doc_tmp, \
            open(chunk_tmp, "w", encoding="utf-8") as chunk_fh, open(doc_tmp, "w", encoding="utf-8") as doc_fh:
        for document, chunks in iter_document_chunks(paths, options, report, exclude=(out, docs), progress=progress):
            doc_fh.write(json.dumps(document.row(), ensure_ascii=False) + "\n")
            for chunk in chunks:
                chunk_fh.write(json.dumps(chunk, ensure_ascii=False) + "\n")
    return report
