"""Sharded input and output for `synth dedup / filter / decontam --ray ADDRESS`.

The input (a .jsonl/.parquet file, a directory of them, or a glob) is cut into *units*: byte ranges of
~32 MB ending at a line break for JSON lines, runs of row groups for Parquet. A Ray Data job maps the
list of units (`run_units`: `from_items` -> `map_batches`, one unit a task), so Ray schedules, retries
and spreads them; each task reads its unit, works on it in batches and writes its own numbered shard
(`part-00012.jsonl`), so shard i always holds unit i's rows in input order: concatenated, the shards
are the rows the single-machine command writes, in the same order.

Why not `ray.data.read_json`: it infers one Arrow schema for every row (a row without a key comes
back with it as null, values of mixed types fail) and numbers no rows, while the kept rows must be
the input's rows unchanged and dedup's "first" needs each row's position.

A unit done is marked in OUT's state folder with its result, so a run started again after a kill
skips the units already written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

from synth.errors import ConfigError, InputError

UNIT_BYTES = 32 << 20
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def require_ray() -> None:
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigError("--ray needs Ray: pip install 'synth-datagen[ray]'") from None


def connect(address: str):
    """`ray`, connected to `address` ('local': a new cluster in this process; else a running one)."""
    require_ray()
    import ray

    if not ray.is_initialized():
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # loopback clusters: no token file needed
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except ConnectionError as exc:
            raise InputError(f"--ray {address}: no Ray cluster there ({str(exc).splitlines()[0]}); start one with "
                             "`ray start --head` or use --ray local") from None
    import logging

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # our own bar and report say what happened
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    return ray


def is_sharded(spec: str | Path) -> bool:
    """A directory of shards or a glob (the Ray paths read those); a single file or a saved dataset
    directory keeps the single-file paths. An existing name is a name, even with `*?[` in it."""
    from synth.dedup.reading import _is_dataset_dir, _is_glob

    p = Path(spec)
    if p.exists():
        return p.is_dir() and not _is_dataset_dir(p)
    return _is_glob(spec)


def shard_files(spec: str | Path) -> tuple[list[Path], str]:
    """The input files of `spec` in name order, listed as the local commands list them
    (synth.dedup.reading.input_files), and their format: 'jsonl', 'parquet' or 'mixed'."""
    from synth.dedup.reading import input_files

    files = input_files(spec)
    if len(files) == 1 and (files[0].suffix not in SUFFIXES or not files[0].is_file()):
        raise InputError(f"{files[0]}: --ray reads .jsonl and .parquet (a file, a directory or a glob of shards); "
                         "convert it first, or run without --ray (a saved dataset directory: --ray with OUT "
                         "a .jsonl/.parquet file, for dedup)")
    formats = {SUFFIXES[f.suffix] for f in files}
    return files, formats.pop() if len(formats) == 1 else "mixed"


def schema_text(schema) -> str:
    import base64

    return base64.b64encode(schema.serialize().to_pybytes()).decode()


def unit_schema(unit: dict[str, Any]):
    """The Arrow schema of a Parquet unit's file (carried in the unit), else None."""
    return schema_from_text(unit["schema"]) if unit.get("schema") else None


def schema_from_text(text: str):
    """The Arrow schema `schema_text` wrote."""
    import base64

    import pyarrow as pa

    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def work_units(files: list[Path], fmt: str, unit_bytes: int | None = None) -> list[dict[str, Any]]:
    """Cut the files into units of about `unit_bytes` (UNIT_BYTES): {"i", "path", "fmt", "out", "start",
    "stop"} (bytes of JSON lines, or row groups of Parquet, then with the file's "schema"). "out" is the
    format of the unit's kept shard: the input's one format, or JSON lines for a mix of both."""
    unit_bytes = unit_bytes or UNIT_BYTES
    units: list[dict[str, Any]] = []
    out = "jsonl" if fmt == "mixed" else fmt
    for f in files:
        ffmt = SUFFIXES[f.suffix]
        if ffmt == "parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(f)
            meta = pf.metadata
            schema = schema_text(pf.schema_arrow) if out == "parquet" else None
            start, size = 0, 0
            for g in range(meta.num_row_groups):
                size += meta.row_group(g).total_byte_size
                if size >= unit_bytes or g == meta.num_row_groups - 1:
                    units.append({"path": str(f), "fmt": ffmt, "start": start, "stop": g + 1, "schema": schema})
                    start, size = g + 1, 0
            continue
        total = f.stat().st_size
        with open(f, "rb") as fh:
            start = 0
            while start < total:
                fh.seek(min(start + unit_bytes, total))
                fh.readline()  # the cut goes after the line it falls in
                stop = min(fh.tell(), total) if start + unit_bytes < total else total
                units.append({"path": str(f), "fmt": ffmt, "start": start, "stop": stop})
                start = stop
    if not units:
        raise InputError(f"{files[0] if len(files) == 1 else files[0].parent} has no rows")
    for i, u in enumerate(units):
        u.update(i=i, out=out)
    return units


def first_rows(units: list[dict[str, Any]]) -> list[dict]:
    """The first row of the input (from the first unit that has one), as a list; [] when none has."""
    for unit in units:
        for batch in read_unit(unit, 1):
            if batch:
                return batch[:1]
    return []


def default_fields(inp, units: list[dict[str, Any]], config) -> tuple[list[str], list[dict]]:
    """The fields to read (--field, else the default fields of the first row, as locally) and that row."""
    from synth.dedup.text import default_fields as defaults

    first = first_rows(units)
    if not first:
        raise InputError(f"{inp} has no rows")
    fields = list(config.fields or defaults(first, config.id_field))
    if not fields:
        raise InputError(f"{inp}: no text column in its first row (columns: {', '.join(sorted(first[0])) or 'none'}); "
                         "name the fields with --field")
    return fields, first


def read_unit(unit: dict[str, Any], batch_rows: int = 10_000) -> Iterator[list[dict]]:
    """The unit's rows, `batch_rows` at a time."""
    path = unit["path"]
    if unit["fmt"] == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        if unit["stop"] <= unit["start"]:
            return
        yield from (b.to_pylist() for b in pf.iter_batches(batch_size=batch_rows,
                                                           row_groups=range(unit["start"], unit["stop"])))
        return
    with open(path, "rb") as fh:
        fh.seek(unit["start"])
        left, batch, offset = unit["stop"] - unit["start"], [], unit["start"]
        while left > 0:
            line = fh.readline()
            if not line:
                break
            left -= len(line)
            if line.strip():
                batch.append(_parse(path, offset, line))
            offset += len(line)
            if len(batch) >= batch_rows:
                yield batch
                batch = []
        if batch:
            yield batch


def _parse(path: str, offset: int, line: bytes) -> dict:
    import orjson

    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError:  # what orjson refuses and json takes (NaN, integers over 64 bits)
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InputError(f"{path}: the line at byte {offset} is not valid JSON; fix or remove it") from None
    if not isinstance(row, dict):
        raise InputError(f"{path}: the line at byte {offset} is not a JSON object; each line must be one")
    return row


def shard_path(folder: Path, i: int, fmt: str) -> Path:
    return Path(folder) / f"part-{i:05d}.{fmt}"


def write_shard(path: Path, rows: list[dict], schema=None, added: tuple[str, ...] = ()):
    """Rows to one shard, atomically (JSON lines as `synth filter` writes them); returns a Parquet
    shard's schema. A Parquet shard takes `schema`, the input file's, for the input's columns (so every
    shard has the same types, and `pyarrow.dataset(OUT)` reads them as one table); a column the rows
    gained, or one named in `added` (a stage rewrites it: the filters' `scores`), is inferred from the
    rows, and `ray_schema.conform_shards` gives it one type across shards once all are written.
    Without a schema, an empty Parquet shard is left out, having no columns to write."""
    from synth.io import write_table

    if path.suffix != ".parquet" or schema is None:
        if rows or path.suffix == ".jsonl":
            write_table(path, rows)
        return None
    import pyarrow as pa

    from synth.dedup.writers import _mixed_column

    schema = pa.schema([f for f in schema if f.name not in added], metadata=schema.metadata)
    names = set(schema.names)
    try:
        table = pa.Table.from_pylist(rows, schema=schema)
        for extra in dict.fromkeys(k for r in rows for k in r if k not in names):
            table = table.append_column(extra, pa.array([r.get(extra) for r in rows]))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError) as exc:
        raise _mixed_column(exc, rows) from None
    write_parquet(path, table)
    return table.schema


def write_parquet(path: Path, table) -> None:
    """`table` to `path`, atomically; no rows: no row group (`datasets` fails on an empty row group)."""
    import pyarrow.parquet as pq

    from synth.io import atomic_path

    with atomic_path(path) as tmp:
        if table.num_rows:
            pq.write_table(table, tmp)
        else:
            pq.ParquetWriter(tmp, table.schema).close()


def write_unit_shards(unit: dict, kept_dir: str, kept: list[dict], dropped_dir: str, dropped: list[dict],
                      added: tuple[str, ...] = ()) -> str | None:
    """A unit's kept rows to KEPT/part-NNNNN.<out format> and its dropped rows to DROPPED/part-NNNNN.jsonl;
    returns the kept shard's Arrow schema (as text) when it is Parquet (`added`: see `write_shard`).

    A task still running after the driver gave up on a broken input (closing a Ray Data job cancels
    its tasks but does not wait for them) must not leave a shard behind: the driver removes the run's
    state folder (`unit["guard"]`) before the shards, so a task writes nothing once it is gone, and
    removes what it wrote when it went meanwhile."""
    guard = Path(unit["guard"]) if unit.get("guard") else None
    if guard is not None and not guard.exists():
        return None
    paths = [shard_path(Path(kept_dir), unit["i"], unit.get("out", unit["fmt"])),
             shard_path(Path(dropped_dir), unit["i"], "jsonl")]
    try:
        schema = write_shard(paths[0], kept, unit_schema(unit), added)
        write_shard(paths[1], dropped)
    finally:
        if guard is not None and not guard.exists():
            for p in paths:
                p.unlink(missing_ok=True)
    return None if schema is None else schema_text(schema)


def _call(batch, fn, kwargs):
    """One unit through `fn`; its error comes back as data, so the driver prints one line, not a trace."""
    out = []
    for text in batch["unit"]:
        unit = json.loads(text)
        try:
            result = {"ok": fn(unit, **kwargs)}
        except (InputError, ConfigError) as exc:
            result = {"error": type(exc).__name__, "message": str(exc)}
        out.append(json.dumps(result, default=str))
    return {"result": out}


def run_units(ray, units: list[dict], fn: Callable, kwargs: dict, state: Path | None = None,
              progress=None) -> list[Any]:
    """`fn(unit, **kwargs)` for every unit as one Ray Data job; results in unit order. With `state`,
    each result is kept there as unit-NNNNN.json, and units already there are not run again."""
    results: dict[int, Any] = {}
    if state is not None:
        state.mkdir(parents=True, exist_ok=True)
        for u in units:
            done = state / f"unit-{u['i']:05d}.json"
            if done.exists():
                results[u["i"]] = json.loads(done.read_text())
    todo = [u for u in units if u["i"] not in results]
    if todo:
        guard = {"guard": str(state.resolve())} if state is not None else {}  # see write_unit_shards
        ds = ray.data.from_items([{"unit": json.dumps({**u, **guard})} for u in todo], override_num_blocks=len(todo))
        ds = ds.map_batches(_call, batch_size=1, fn_kwargs={"fn": fn, "kwargs": kwargs})
        rows = iter(ds.iter_rows())
        try:
            for row in rows:
                result = json.loads(row["result"])
                if "error" in result:
                    raise (InputError if result["error"] == "InputError" else ConfigError)(result["message"])
                i = result["ok"]["unit"]
                results[i] = result["ok"]
                if state is not None:
                    tmp = state / f"unit-{i:05d}.json.tmp"
                    tmp.write_text(json.dumps(result["ok"], default=str))
                    os.replace(tmp, state / f"unit-{i:05d}.json")
                if progress:
                    progress(len(results))
        finally:
            if hasattr(rows, "close"):  # on an error, the job stops before the caller removes what it wrote
                rows.close()
    return [results[u["i"]] for u in units]


def state_key(files: list[Path], **options) -> str:
    return json.dumps({"files": [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files],
                       "unit_bytes": UNIT_BYTES, **options},
                      sort_keys=True, default=str)


SHARD_NAME = re.compile(r"\.?part-\d{5}\.(jsonl|parquet)(\.\d+\.tmp)?$")  # and their temporary files


def _shards_in(folder: Path) -> list[Path]:
    """The numbered shards this module writes in `folder` (part-NNNNN.jsonl / .parquet), nothing else."""
    return [p for p in folder.iterdir() if SHARD_NAME.match(p.name) and p.is_file()] if folder.is_dir() else []


def check_output_folders(files: list[Path], folders: list[Path]) -> None:
    """No output folder is, or holds, the folder of an input file (its numbered shards are removed
    and written there): one InputError, before anything is written or deleted."""
    homes = {f.resolve().parent for f in files}
    for folder in folders:
        target = Path(folder).resolve()
        for home in sorted(homes):
            if home == target or target in home.parents:
                raise InputError(f"{folder} holds the input's files ({home}); its numbered shards would be "
                                 "removed and written there: write the output to a folder outside the input")


def prepare_outputs(state: Path, key: str, outputs: list[Path], files: list[Path] | None = None) -> None:
    """A state folder for this input and these options: kept when they match (a resumed run), else
    started afresh, with the numbered shards of an earlier run removed from the `outputs` folders
    (never from a folder that holds an input file, `files`)."""
    if files is not None:
        check_output_folders(files, outputs)
    key_file = state / "key.json"
    if key_file.exists() and key_file.read_text() == key:
        return
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    for folder in outputs:
        for old in _shards_in(folder):
            old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key)


def remove_outputs(state: Path, folders: list[Path], made: list[Path]) -> None:
    """After a broken input: the state and every numbered shard go, and the folders this run made;
    nothing when the run stopped before it prepared its outputs (no state folder): an earlier run's
    shards stay."""
    if not state.exists():
        return
    shutil.rmtree(state, ignore_errors=True)
    for folder in folders:
        for part in _shards_in(folder):
            part.unlink()
        if folder in made and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def check_rows_seen(inp, results: list[dict], fields: list[str], first: list[dict]) -> int:
    """The rows the units read (each result's `rows` and `present` per field): an input without rows, or
    a field no row has, is one error line, as in the local commands."""
    rows = sum(r["rows"] for r in results)
    if rows == 0:
        raise InputError(f"{inp} has no rows")
    for f in fields:
        if not sum(r["present"][f] for r in results):
            raise InputError(f"field {f!r} is in no row; columns are: {', '.join(sorted(first[0])) if first else '(none)'}")
    return rows
