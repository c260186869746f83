"""Benchmark decontamination: drop rows that share a word n-gram with a benchmark question.

The rule of GPT-3 (appendix C) and lm-evaluation-harness: after normalisation (see ``normalize``:
case, width, punctuation, whitespace), any shared n-gram of ``ngram`` words (13 by default; 8 for
short math problems as in s1 / open-r1) marks the row as contaminated. CJK characters count as
words. Benchmark texts shorter than ``ngram`` words (but at least 5) are matched as a whole: their full
token sequence must appear in the row. Rephrased test items pass any n-gram check (lm-sys, "Catch me if
you can"); a semantic check is a separate stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synth.dedup.config import DecontamConfig
from synth.dedup.normalize import tokens
from synth.dedup.shingles import encode_tokens, fmix64
from synth.dedup.text import check_fields, default_fields, row_id, row_text
from synth.errors import InputError
from synth.io import read_rows
from synth.paths import spec_file

_M = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class DecontamResult:
    kept: list[dict]
    dropped: list[dict]  # row + reason "benchmark_overlap", benchmark, benchmark_row, benchmark_text, ngram
    report: dict = field(default_factory=dict)


MIN_TOKENS = 5  # shorter benchmark texts ("what is 2 + 2") would match too much ordinary text


def gram_hashes(toks: list[str], k: int) -> np.ndarray:
    """uint64 hashes of all k-grams of ``toks``, tagged with k (empty when there are fewer tokens)."""
    if len(toks) < k:
        return np.zeros(0, np.uint64)
    th, _ = encode_tokens([toks])
    combo = th.copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):
            combo = combo[:-1] * _M + th[j:]
    return fmix64(combo) ^ np.uint64(k)


def load_benchmark(spec: str, id_field: str = "id") -> tuple[str, list, list[str]]:
    """``FILE[:FIELD]`` -> (name, row ids, texts). Without FIELD, the usual question columns."""
    path = spec_file(spec)
    fld = spec[len(path) + 1:]
    if not Path(path).exists():
        raise InputError(f"benchmark file not found: {path} (give FILE or FILE:FIELD)")
    rows = read_rows(path)
    if not rows:
        raise InputError(f"benchmark {path} has no rows")
    fields = [fld] if fld else default_fields(rows, id_field)
    check_fields(rows, fields)
    return Path(path).name, [row_id(r, i, id_field) for i, r in enumerate(rows)], [row_text(r, fields) for r in rows]


@dataclass
class Benchmarks:
    """The n-gram table of a config's benchmark files, read once (a run's streamed stages use it for
    every chunk): gram hash -> (benchmark, row id, text), its sorted keys, and the gram sizes to look for."""

    table: dict[int, tuple[str, object, str]]
    keys: np.ndarray
    lengths: set[int]
    rows: int

    @classmethod
    def load(cls, config: DecontamConfig) -> Benchmarks:
        n = config.ngram
        table: dict[int, tuple[str, object, str]] = {}
        bench_rows = 0
        lengths = {n}  # gram sizes to look for in rows: n, plus whole short benchmark texts
        for spec in config.benchmarks:
            name, ids, texts = load_benchmark(spec, config.id_field)
            bench_rows += len(texts)
            for bid, text in zip(ids, texts):
                toks = tokens(text)
                if len(toks) < MIN_TOKENS:
                    continue
                k = min(n, len(toks))
                lengths.add(k)
                for h in gram_hashes(toks, k).tolist():
                    table.setdefault(h, (name, bid, text))
        keys = np.fromiter(table.keys(), dtype=np.uint64, count=len(table))
        keys.sort()
        return cls(table, keys, lengths, bench_rows)


def decontaminate(rows: list[dict], config: DecontamConfig, benchmarks: Benchmarks | None = None) -> DecontamResult:
    """Split ``rows`` into clean and contaminated (sharing an ``ngram``-gram with a benchmark);
    ``benchmarks``: the config's files already read (else read now)."""
    n = config.ngram
    bench = benchmarks if benchmarks is not None else Benchmarks.load(config)
    bench_rows = bench.rows
    fields = list(config.fields or default_fields(rows, config.id_field))
    if rows:
        check_fields(rows, fields)
    kept, dropped, hits = split_contaminated(rows, fields, bench)
    report = {"rows_in": len(rows), "rows_kept": len(kept), "dropped": len(dropped), "ngram": n,
              "benchmarks": config.benchmarks, "benchmark_rows": bench_rows, "hits_by_benchmark": hits,
              "fields": fields}
    return DecontamResult(kept, dropped, report)


def split_contaminated(rows: list[dict], fields: list[str], bench: Benchmarks) -> tuple[list, list, dict]:
    """(clean rows, contaminated rows with the benchmark row they match, hits by benchmark): the check
    of one batch of rows, the same wherever it runs (synth.dedup.ray_decontam runs it on Ray)."""
    table, keys, lengths = bench.table, bench.keys, sorted(bench.lengths)
    kept, dropped, hits = [], [], {}
    for row in rows:
        toks = tokens(row_text(row, fields))
        hs = np.concatenate([gram_hashes(toks, k) for k in lengths])
        found = hs[np.isin(hs, keys)] if len(keys) and len(hs) else hs[:0]
        if len(found) == 0:
            kept.append(row)
            continue
        name, bid, btext = table[int(found[0])]
        hits[name] = hits.get(name, 0) + 1
        dropped.append({**row, "reason": "benchmark_overlap", "benchmark": name, "benchmark_row": bid,
                        "benchmark_text": btext[:500], "shared_ngrams": int(len(np.unique(found)))})
    return kept, dropped, hits


__all__ = ["Benchmarks", "DecontamResult", "decontaminate"]
