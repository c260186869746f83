"""The run directory: the unit of work, and the reason a re-run never pays twice.

    runs/<name>/.lock              held (flock) by the one process writing the run; names it (lock)
    runs/<name>/config.yaml        resolved config + fingerprint
    runs/<name>/manifest.json      versions, model, stage counts and timings (atomic rewrite)
    runs/<name>/cache.sqlite       request hash -> response (WAL), per-row progress, the record schema (run)
    runs/<name>/answers-*.journal  answers received and not yet committed (answers)
    runs/<name>/records/<fp>/      generated records, append-only JSONL shards, one per session (records)
    runs/<name>/rejected.jsonl     every dropped record with stage + reason
    runs/<name>/failed.jsonl       failed seed rows and what failed (synth.failures; retried next run)
    runs/<name>/data/              the final Hugging Face dataset (parquet)
    runs/<name>/README.md          dataset card

`RunStore` (run) holds it together and commits answers, records and row marks in the order that
keeps a kill -9 harmless.
"""

from synth.store.lock import RunDirBusy, RunLock
from synth.store.run import COMMIT_EVERY_S, COMMIT_ROWS, RunStore, dump_json

__all__ = ["COMMIT_EVERY_S", "COMMIT_ROWS", "RunDirBusy", "RunLock", "RunStore", "dump_json"]
