"""Documents in, chunks with exact provenance out (``synth ingest``).

Library use::

    from synth.ingest import IngestOptions, IngestReport, iter_chunks
    report = IngestReport()
    for chunk in iter_chunks(["manuals/", "notes/*.md"], IngestOptions(chunk_size=800), report):
        chunk["text"], chunk["headings"], chunk["source"], chunk["start"], chunk["end"]
    report.skipped   # [(source, reason), ...]: files that could not be read

``ingest(paths, "kb/chunks.jsonl")`` writes the chunks and ``kb/documents.jsonl`` (the texts the
spans refer to: ``document["text"][chunk["start"]:chunk["end"]] == chunk["text"]``), and
``split_text(text, chunk_size, overlap)`` splits one text. See docs/ingest.md.
"""

from synth.ingest.core import (IngestOptions, IngestReport, chunk_id, documents_path, expand_paths, ingest,
                               iter_chunks, iter_document_chunks, iter_documents)
from synth.ingest.readers import READERS, Document, Unreadable, read_document
from synth.ingest.split import split_text
from synth.ingest.text import detect_lang

__all__ = [
    "READERS", "Document", "IngestOptions", "IngestReport", "Unreadable", "chunk_id", "detect_lang",
    "documents_path", "expand_paths", "ingest", "iter_chunks", "iter_document_chunks", "iter_documents",
    "read_document", "split_text",
]
