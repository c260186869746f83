"""`DedupStage`: exact + MinHash near-duplicate removal, or benchmark decontamination (synth.dedup),
as a stage over records in memory, with synth.dedup's bookkeeping moved off the dropped records.
"""

from __future__ import annotations

from synth.stages.base import Stage


class DedupStage(Stage):
    """Exact + MinHash near-duplicate removal, or (decontam=True) benchmark decontamination; see synth.dedup."""

    def __init__(self, config, *, decontam: bool = False) -> None:
        self.config = config
        self.decontam = decontam
        self.name = "decontam" if decontam else "dedup"
        self.benchmarks = None
        if decontam:  # read now: a bad benchmark file stops a run before its requests, and streamed chunks share it
            from synth.dedup.decontam import Benchmarks

            self.benchmarks = Benchmarks.load(config)

    def apply(self, records):
        from synth.dedup import decontaminate, dedup_rows

        if not self.decontam and exact_only(self.config):  # hashes suffice, no MinHash signatures to compute
            return exact_dedup(records, self.config, self.name)
        result = decontaminate(records, self.config, self.benchmarks) if self.decontam else \
            dedup_rows(records, self.config)
        self.report = result.report
        by_id = {r["id"]: r for r in records if isinstance(r.get("id"), str)}
        return result.kept, [split_dropped(row, by_id.get(row.get("id"))) for row in result.dropped]


# what synth.dedup adds to a dropped row (dedup: duplicate_*, similarity; decontam: benchmark_*, shared_ngrams)
_DROP_KEYS = ("reason", "duplicate_of", "duplicate_in", "similarity", "benchmark", "benchmark_row",
              "benchmark_text", "shared_ngrams", "matched_ngram", "match")


def exact_dedup(records: list[dict], config, name: str = "dedup") -> tuple[list[dict], list[tuple[dict, str, dict]]]:
    """Exact duplicates only (`dedup: {near: false}`, the default): synth.dedup's exact key, the first
    record of each text kept; what `dedup_rows` decides for such a config, without the
    MinHash signatures it computes for near-duplicate search."""
    from synth.dedup.exact import first_occurrence
    from synth.dedup.text import check_fields, default_fields

    if not records:
        return [], []
    fields = list(config.fields or default_fields(records, config.id_field))
    check_fields(records, fields)
    first = first_occurrence(text_keys(records, fields))
    kept, dropped = [], []
    for i, record in enumerate(records):
        j = int(first[i])
        if j == i:
            kept.append(record)
        else:
            dropped.append((record, "exact_duplicate", {"duplicate_of": records[j].get(config.id_field, j),
                                                         "duplicate_in": "input", "similarity": 1.0}))
    return kept, dropped


def text_keys(records: list[dict], fields: list[str]):
    """The exact-dedup key (synth.dedup.exact) of each record's text in `fields`.

    >>> a, b, c = text_keys([{"t": "Hello, World"}, {"t": "hello world!"}, {"t": "world hello"}], ["t"])
    >>> bool(a == b), bool(a == c)
    (True, False)
    """
    from synth.dedup.exact import exact_hashes
    from synth.dedup.text import row_text

    return exact_hashes([row_text(r, fields) for r in records])



def split_dropped(row: dict, original: dict | None = None) -> tuple[dict, str, dict]:
    """A dropped row from synth.dedup carries its bookkeeping keys inline; move them aside, so the record
    in rejected.jsonl is the record as it was. With the `original` record, every key dedup added or
    changed is bookkeeping; without it, the keys synth.dedup is known to add.

    >>> split_dropped({"id": "a", "text": "t", "reason": "exact_duplicate", "duplicate_in": "input"},
    ...               {"id": "a", "text": "t"})
    ({'id': 'a', 'text': 't'}, 'exact_duplicate', {'duplicate_in': 'input'})
    """
    if original is not None:
        extra = {k: v for k, v in row.items() if k not in original or v is not original[k]}
        record = dict(original)
    else:
        record = dict(row)
        extra = {k: record.pop(k) for k in _DROP_KEYS if k in record}
    return record, extra.pop("reason", "dropped"), extra



def exact_only(cfg) -> bool:
    """Whether a dedup config asks only for exact duplicates, the first record of each text kept."""
    return not cfg.near and getattr(cfg, "index", None) is None and cfg.keep == "first"

