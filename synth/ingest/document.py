"""What a reader makes (`Document`), what it raises (`Unreadable`), and reading a file's bytes or text."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from synth.ingest.text import UndecodableText, decode, normalize_newlines


class Unreadable(ValueError):
    """A file that cannot be ingested; the message is the reason shown to the user."""


@dataclass
class Document:
    """One ingested file. ``markdown``: ``#`` lines in ``text`` are headings."""

    source: str
    format: str
    text: str
    encoding: str | None = None
    page_starts: list[int] | None = None
    markdown: bool = False
    ocr_pages: list[int] | None = None  # 0-based pages whose text came from OCR
    notes: list[str] = field(default_factory=list)  # what a reader could not do (shown, not skipped)

    @functools.cached_property
    def id(self) -> str:
        """16 hex digits of SHA-1 over source and text (computed once: the text may be megabytes)."""
        return hashlib.sha1(f"{self.source}\0{self.text}".encode("utf-8")).hexdigest()[:16]

    def row(self) -> dict:
        """The documents.jsonl row (same keys for every format)."""
        row = {"id": self.id, "source": self.source, "format": self.format, "encoding": self.encoding,
               "page_starts": self.page_starts, "text": self.text}
        if self.ocr_pages:
            row["ocr_pages"] = self.ocr_pages
        return row


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or `Unreadable` saying why not."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot open ({exc.strerror or exc})") from None


def decoded(path: Path) -> tuple[str, str]:
    """The file's text (newlines normalised) and its encoding, or `Unreadable`."""
    try:
        text, encoding = decode(read_bytes(path))
    except UndecodableText as exc:
        raise Unreadable(str(exc)) from None
    return normalize_newlines(text), encoding
