"""Write records as a Hugging Face dataset directory: parquet shards loadable with `load_dataset`.

Shard names end in a hash of their bytes, and the card lists them by name. `datasets` caches a local
directory under a key made from the card's `data_files` patterns, not from the files, so with a glob
a re-run that changed the data would load the stale cached copy (and two runs with the same folder
name would share it); a name that changes with the content changes that key.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from synth.io import atomic_path

ROWS_PER_SHARD = 100_000


def write_dataset(records: list[dict], data_dir: str | os.PathLike, split: str = "train") -> list[str]:
    """Atomically replace `data_dir` with `<split>-0000i-of-0000n.parquet` shards; returns file names."""
    import datasets

    datasets.disable_progress_bars()  # synth shows its own progress
    data_dir = Path(data_dir)
    n_shards = max(1, -(-len(records) // ROWS_PER_SHARD))
    names = []
    with atomic_path(data_dir, is_dir=True) as tmp:
        for i in range(n_shards):
            chunk = records[i * ROWS_PER_SHARD:(i + 1) * ROWS_PER_SHARD]
            part = Path(tmp) / f".{split}-{i:05d}.parquet"
            datasets.Dataset.from_list(chunk).to_parquet(str(part))
            name = f"{split}-{i:05d}-of-{n_shards:05d}-{_digest(part)}.parquet"
            part.rename(Path(tmp) / name)
            names.append(name)
    return names


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]
