"""One Arrow schema for every Parquet shard `synth filter / dedup / decontam --ray` writes.

A task writes its kept rows with its input file's schema, so where input files type a column apart
(int64 in one, double in another) the shards do too; and the `scores` column the filters add is
inferred from that shard's rows alone: where a score is null on every row of a shard, or whole numbers
in one shard and fractions in another, the shards disagree. Either way `pyarrow.dataset(OUT)` or
`datasets` refuse the folder (or, taking the first shard's schema, drop the column). Once every unit is done the
driver unifies the shards' schemas with the input's, as the local command does over its whole output
(`writers.spool_to_parquet`: null takes the other type, integers and floats become floats, a struct
has every key any shard has), and Ray tasks rewrite only the shards that differ. Rewriting is
idempotent, so a run killed meanwhile finishes the job when started again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synth.dedup import ray_io
from synth.errors import InputError


def one_schema(units: list[dict], results: list[dict], kept_dir: Path):
    """The schema every kept shard gets: the input's columns first, in their order, then those added."""
    from synth.dedup.writers import _unify

    inputs = [ray_io.schema_from_text(t) for t in dict.fromkeys(u["schema"] for u in units if u.get("schema"))]
    shards = [s for s in (_shard_schema(u, r, kept_dir) for u, r in zip(units, results)) if s is not None]
    schema = _unify(inputs + shards, fix="make them one type, or give --ray JSON-lines input")
    if isinstance(schema, InputError):
        raise schema
    return schema


def _shard_schema(unit: dict, result: dict, kept_dir: Path):
    if result.get("schema"):
        return ray_io.schema_from_text(result["schema"])
    path = ray_io.shard_path(kept_dir, unit["i"], "parquet")  # a result kept by an older run: read the file
    if not path.exists():
        return None
    import pyarrow.parquet as pq

    return pq.read_schema(path)


def conform_unit(unit: dict, kept_dir: str, schema: str) -> dict[str, Any]:
    """Rewrite unit i's kept shard with `schema` (runs in a Ray task); a shard that has it is left."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = ray_io.schema_from_text(schema)
    path = ray_io.shard_path(Path(kept_dir), unit["i"], "parquet")
    table = pq.read_table(path)
    if not table.schema.equals(target):
        # through Python rows: a missing column or struct key becomes null, an integer a float
        ray_io.write_parquet(path, pa.Table.from_pylist(table.to_pylist(), schema=target))
    return {"unit": unit["i"]}


def conform_shards(ray, units: list[dict], results: list[dict], kept_dir: Path) -> None:
    """Give every Parquet kept shard in `kept_dir` one schema (nothing to do for JSON lines)."""
    if units[0].get("out") != "parquet":
        return
    schema = one_schema(units, results, kept_dir)
    todo = [u for u, r in zip(units, results)
            if (has := _shard_schema(u, r, kept_dir)) is not None and not has.equals(schema)]
    if todo:
        ray_io.run_units(ray, todo, conform_unit, {"kept_dir": str(Path(kept_dir).resolve()),
                                                   "schema": ray_io.schema_text(schema)})
