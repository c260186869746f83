"""What the kept rows of a `doc-qa` run cover: chunks, documents and headings without a row, rows per
task type (the card's coverage section)."""

from __future__ import annotations

from synth.recipes.doc_qa.chunks import chunk_info


def chunk_coverage(seeds: list[dict], kept: list[dict], text_field: str, task_types: list[str]) -> dict:
    """Which chunks, headings and documents the kept rows cover, and rows per task type."""
    chunks = [chunk_info(r, text_field) for r in seeds]
    rows_per_chunk: dict[str, int] = {}
    by_type: dict[str, int] = {t: 0 for t in task_types}
    for r in kept:
        cid = (r.get("chunk") or {}).get("id")
        if cid is not None:
            rows_per_chunk[cid] = rows_per_chunk.get(cid, 0) + 1
        if r.get("task_type"):
            by_type[r["task_type"]] = by_type.get(r["task_type"], 0) + 1
    heading_rows: dict[str, int] = {}
    doc_rows: dict[str, int] = {}
    for c in chunks:
        n = rows_per_chunk.get(c["id"], 0)
        doc = str(c["source"] or c["doc_id"] or "(no source)")  # shown by its path, not its hash
        doc_rows[doc] = doc_rows.get(doc, 0) + n
        if c["headings"]:
            path = " > ".join([doc, *c["headings"]])
            heading_rows[path] = heading_rows.get(path, 0) + n
    covered = sum(1 for c in chunks if rows_per_chunk.get(c["id"]))
    return {**_probe_ranking(chunks, kept),
        "chunks": len(chunks), "chunks_covered": covered, "chunks_uncovered": len(chunks) - covered,
        "documents": len(doc_rows), "documents_uncovered": sorted(d for d, n in doc_rows.items() if not n),
        "headings_uncovered": sorted(h for h, n in heading_rows.items() if not n),
        "chunk_ids_uncovered": [c["id"] for c in chunks if not rows_per_chunk.get(c["id"])],
        "rows_by_task_type": by_type,
    }


def _probe_ranking(chunks: list[dict], kept: list[dict]) -> dict:
    """With doc-qa's `probe`: the student's loss per chunk, highest first (the chunks it knows least,
    which got the most questions), the loss per document, and how it was read (logprobs or accuracy).
    Read from the kept rows: a chunk none of whose rows was kept is not ranked."""
    probes: dict[str, dict] = {}
    for r in kept:
        p, cid = r.get("probe"), (r.get("chunk") or {}).get("id")
        if isinstance(p, dict) and p.get("loss") is not None and cid is not None:
            probes[cid] = p
    if not probes:
        return {}
    ranked = sorted(probes, key=lambda cid: -probes[cid]["loss"])
    docs: dict[str, list[float]] = {}
    for c in chunks:
        if c["id"] in probes:
            docs.setdefault(str(c["source"] or c["doc_id"] or "(no source)"), []).append(probes[c["id"]]["loss"])
    return {"student_probe_method": ",".join(sorted({p["method"] for p in probes.values()})),
            "student_loss_by_chunk": {cid: probes[cid]["loss"] for cid in ranked},
            "student_questions_by_chunk": {cid: probes[cid]["questions"] for cid in ranked},
            "student_loss_by_document": {d: round(sum(v) / len(v), 4) for d, v in
                                         sorted(docs.items(), key=lambda kv: -sum(kv[1]) / len(kv[1]))}}
