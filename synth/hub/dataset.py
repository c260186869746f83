"""Write records as a Hugging Face dataset directory: parquet shards loadable with `load_dataset`."""

from __future__ import annotations

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
            name = f"{split}-{i:05d}-of-{n_shards:05d}.parquet"
            datasets.Dataset.from_list(chunk).to_parquet(str(Path(tmp) / name))
            names.append(name)
    return names
