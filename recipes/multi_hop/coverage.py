"""What the kept rows of a recipe whose seed rows are groups of chunks (`multi-hop`, `dialogue`) cover:
groups, chunks, documents and heading paths, and what none of the kept rows used."""

from __future__ import annotations


def _heading(c: dict) -> str:
    return " > ".join([str(c.get("source") or c.get("doc_id") or "")] + list(c.get("headings") or []))


def _doc(c: dict) -> str:
    return str(c.get("doc_id") or c.get("source"))


def group_coverage(seeds: list[dict], kept: list[dict]) -> dict:
    """``groups``, ``groups_kept``, ``chunks``, ``chunks_covered``, ``chunk_ids_uncovered``,
    ``documents``, ``documents_uncovered``, ``headings_uncovered``.

    >>> g = {"group_id": "g", "chunks": [{"id": "a", "source": "x.md", "headings": ["H"]},
    ...                                  {"id": "b", "source": "y.md", "headings": []}]}
    >>> kept = [{"group": {"id": "g"}, "chunks": [{"id": "a", "source": "x.md", "headings": ["H"]}]}]
    >>> c = group_coverage([g], kept)
    >>> c["chunks_covered"], c["chunk_ids_uncovered"], c["documents_uncovered"], c["headings_uncovered"]
    (1, ['b'], ['y.md'], ['y.md'])
    """
    seen = {c["id"]: c for g in seeds for c in g.get("chunks") or []}
    used = [c for r in kept for c in r.get("chunks") or []]
    used_ids = {c["id"] for c in used}
    docs, used_docs = {_doc(c) for c in seen.values()}, {_doc(c) for c in used}
    heads, used_heads = {_heading(c) for c in seen.values()}, {_heading(c) for c in used}
    return {"groups": len(seeds), "groups_kept": len({(r.get("group") or {}).get("id") for r in kept}),
            "chunks": len(seen), "chunks_covered": len(used_ids & set(seen)),
            "chunk_ids_uncovered": sorted(set(seen) - used_ids), "documents": len(docs),
            "documents_uncovered": sorted(docs - used_docs), "headings_uncovered": sorted(heads - used_heads)}
