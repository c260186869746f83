"""Dedup and decontamination: exact + MinHash near-duplicates (datasketch-compatible signatures,
numpy bulk hashing, persisted index on disk or Redis, optional Ray job) and benchmark n-gram overlap.

Library use::

    from synth.dedup import DedupConfig, dedup_rows
    result = dedup_rows(rows, DedupConfig(near=True, threshold=0.6, index="indexes/published"))
    result.kept, result.dropped, result.report

See docs/dedup.md for how to choose the threshold and read the S-curve.
"""

from synth.dedup.config import DecontamConfig, DedupConfig
from synth.dedup.core import DedupResult, dedup_rows
from synth.dedup.decontam import DecontamResult, decontaminate
from synth.dedup.normalize import normalize, tokens
from synth.dedup.params import choose_params, probability, s_curve
from synth.dedup.report import format_report
from synth.dedup.signatures import signatures, to_minhash

__all__ = [
    "DecontamConfig", "DecontamResult", "DedupConfig", "DedupResult", "choose_params", "decontaminate",
    "dedup_rows", "format_report", "normalize", "probability", "s_curve", "signatures", "to_minhash", "tokens",
]
