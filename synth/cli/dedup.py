"""`synth dedup` and `synth decontam`: thin wrappers over synth.dedup."""

from __future__ import annotations

import json
from fnmatch import fnmatch
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError

from synth.cli._app import app
from synth.dedup.config import DedupConfig
from synth.errors import ConfigError, InputError, format_validation
from synth.paths import check_out


def _sibling(out: Path, suffix: str) -> Path:
    """``deduped.jsonl`` -> ``deduped<suffix>``; a dataset directory ``deduped/`` -> ``deduped<suffix>``."""
    base = out.with_suffix("") if out.suffix in (".jsonl", ".parquet") else out
    return base.with_name(base.name + suffix)


def _default(field: str, when_true: str | None = None, when_false: str | None = None) -> str:
    """DedupConfig's default of `field` for --help (unset options take it: one default, stated there)."""
    value = DedupConfig.model_fields[field].default
    return (when_true if value else when_false) if when_true else str(value)


def _config(cls, **kw):
    """`cls` from the options given (None: not given, so the config's own default applies)."""
    try:
        return cls(**{k: v for k, v in kw.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(format_validation(exc)) from None


def _check_out(inp: Path, out: Path) -> None:
    """Before any row is read: OUT is not the input, and is of the kind written there (see write_table)."""
    _check_not_input(inp, out, "--out", (_sibling(out, ".dropped.jsonl"), _sibling(out, ".contaminated.jsonl")))
    check_out(out, is_dir=out.suffix not in (".jsonl", ".parquet"))


def _check_not_input(inp: Path, path: Path, role: str, also: tuple[Path, ...] = ()) -> None:
    """`path` (written as `role`, with `also` beside it) is not the input, nor read as one of its shards."""
    if path.resolve() == inp.resolve():
        raise InputError(f"{role} {path} is the input{' file' if inp.is_file() else ''}; write it outside the input")
    if (inp.is_dir() and path.resolve().parent == inp.resolve()
            or any(fnmatch(str(p.absolute()), str(inp.absolute())) for p in (path, *also))):
        raise InputError(f"{role} {path} would be read as one of the input's shards; write it outside {inp}")


def _check_ray_folders(inp: Path, folders: list[Path]) -> None:
    """Before anything is written or deleted: no folder of numbered shards (OUT, its .dropped /
    .contaminated, --rejected) is or holds the folder of an input file."""
    from synth.dedup.ray_io import check_output_folders, shard_files

    check_output_folders(shard_files(inp)[0], folders)  # a missing or unreadable input is named here too


def _rows(path: Path) -> list[dict]:
    from synth.dedup.reading import batches, input_files
    from synth.io import read_rows

    files = input_files(path)  # a directory or glob of shards reads as one table
    rows = read_rows(path) if files == [Path(path)] else [r for b in batches(path, 10_000) for r in b]
    if not rows:
        raise InputError(f"{path} has no rows")
    return rows


def _finish(report: dict, input: Path, out: Path, quiet: bool, kept: str, dropped: str) -> None:
    """Write OUT.report.json and, unless quiet, print the report and what was written."""
    from synth.dedup.report import format_report

    report_path = _sibling(out, ".report.json")
    report_path.write_text(json.dumps({"input": str(input), "output": str(out), **report}, indent=1,
                                      ensure_ascii=False, default=str))
    if not quiet:
        typer.echo(format_report(report))
        typer.echo(f"wrote {kept} ({report['rows_kept']:,} rows), {dropped}, {report_path}")


class _Progress:
    """A rich bar per stage: rows done, rows/s, ETA (stderr; silent with --quiet)."""

    def __init__(self, quiet: bool):
        self.bar = None
        if not quiet:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.bar = Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                                TimeRemainingColumn(), console=Console(stderr=True), transient=False)
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.bar:
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total, rate="")
        task = self.tasks[stage]
        self.bar.update(task, completed=done)
        speed = self.bar.tasks[task].speed
        unit = "bands" if stage == "decide" else "rows"
        self.bar.update(task, rate=f"{speed:,.0f} {unit}/s" if speed else "")


@app.command("dedup")
def dedup_cmd(
    input: Annotated[Path, typer.Argument(help="JSONL, JSON, CSV, Parquet, a saved HF dataset directory, or local shards: a directory of *.jsonl/*.parquet files or a quoted glob, read in sorted name order as one input.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Kept rows: .jsonl/.parquet file, else an HF dataset directory.")],
    field: Annotated[Optional[list[str]], typer.Option("--field", "-f", help="Text field to compare (repeatable; dotted paths; default: messages/instruction/... or all text columns).")] = None,
    near: Annotated[Optional[bool], typer.Option("--near/--exact-only", show_default=_default("near", "--near", "--exact-only"),
                                                 help="Also drop MinHash near-duplicates (the --threshold options apply only then), or exact (normalised) duplicates only.")] = None,
    threshold: Annotated[Optional[float], typer.Option(show_default=_default("threshold"), help="With --near: Jaccard of word 3-gram sets at which two rows are duplicates.")] = None,
    num_perm: Annotated[Optional[int], typer.Option(show_default=_default("num_perm"), help="With --near: MinHash permutations.")] = None,
    ngram: Annotated[Optional[int], typer.Option(show_default=_default("ngram"), help="With --near: word n-gram size for spaced text.")] = None,
    cjk_ngram: Annotated[Optional[int], typer.Option(show_default=_default("cjk_ngram"), help="With --near: character n-gram size for Chinese/Japanese/Korean text.")] = None,
    bands: Annotated[Optional[int], typer.Option(help="LSH bands b (with --rows; default: chosen from --threshold).")] = None,
    rows: Annotated[Optional[int], typer.Option(help="LSH rows per band r (with --bands).")] = None,
    index: Annotated[Optional[str], typer.Option(help="Index of earlier data: a directory (created if missing) or redis://host:port/name; kept rows are added.")] = None,
    keep: Annotated[str, typer.Option(help="Survivor of a cluster: first or longest.")] = "first",
    id_field: Annotated[str, typer.Option(help="Column naming a row in the dropped file (else its 0-based position).")] = "id",
    workers: Annotated[Optional[int], typer.Option(help="Processes for signatures (default: all cores).")] = None,
    ray: Annotated[Optional[str], typer.Option("--ray", help="Run on Ray: 'local' (a cluster in this process) or a cluster address; INPUT may then be a directory or glob of .jsonl/.parquet shards, and an OUT directory gets numbered shards (docs/cluster.md; needs: pip install 'synth-datagen\\[ray]').")] = None,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", hidden=True, help="Old name of --ray.")] = None,
    batch_rows: Annotated[int, typer.Option(min=100, help="Rows read at a time; a killed run started again with the same options goes on from the last batch (state in OUT.state/).")] = 20_000,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
):
    """Remove duplicate rows from INPUT (exact, and with --near MinHash LSH near-duplicates); write the kept rows to OUT.

    Beside OUT it writes OUT.report.json (counts, clusters, the bands x rows used and the S-curve) and
    OUT.dropped.jsonl (each dropped row with duplicate_of, reason and similarity).

    Without --index it streams (with --ray too: each batch is sketched on Ray): INPUT is read
    in batches, appending only each row's exact hash and one-byte MinHash signature (8 + num_perm bytes
    a row) to OUT.state/; the decision reads them back a band at a time (a few bytes a row in memory);
    INPUT is read again to write the kept rows. OUT.state/ holds a checkpoint per batch and per band,
    so a killed run resumes when started again.
    """
    from synth.dedup import dedup_rows, format_report
    from synth.io import write_jsonl, write_table

    ray_address = ray or ray_address
    if keep not in ("first", "longest"):
        raise ConfigError(f"--keep {keep!r}: use first or longest")
    _check_out(input, out)
    cfg = _config(DedupConfig, threshold=threshold, num_perm=num_perm, ngram=ngram, cjk_ngram=cjk_ngram,
                  bands=bands, rows=rows, index=index, keep=keep, id_field=id_field, fields=field or None,
                  near=near, workers=workers)
    from synth.dedup.ray_io import is_sharded

    if ray_address and (is_sharded(input) or out.suffix not in (".jsonl", ".parquet")):  # read and written on Ray
        from synth.dedup.ray_dedup import dedup_on_ray

        dropped_path = _sibling(out, ".dropped")
        with _Progress(quiet) as progress:
            report = _on_ray(dedup_on_ray, ray_address, input, out, [dropped_path], cfg, batch_rows=min(batch_rows, 10_000),
                             progress=progress)
        _finish(report, input, out, quiet, f"{out}/part-*", f"{dropped_path}/part-*.jsonl")
        return
    if index is None:  # streamed: hashes and signatures spilled to OUT.state/, not rows in memory
        from synth.dedup.stream import dedup_file

        backend = None
        if ray_address:
            from synth.dedup.ray_job import RayBackend

            backend = RayBackend(ray_address)
        dropped_path = _sibling(out, ".dropped.jsonl")
        with _Progress(quiet) as progress:
            report = dedup_file(input, out, dropped_path, cfg, state_dir=_sibling(out, ".state"),
                                batch_rows=batch_rows, progress=progress, backend=backend)
        _finish(report, input, out, quiet, str(out), str(dropped_path))
        return
    data = _rows(input)
    backend = None
    if ray_address:
        from synth.dedup.ray_job import RayBackend

        backend = RayBackend(ray_address)
    with _Progress(quiet) as progress:
        result = dedup_rows(data, cfg, progress=progress, backend=backend)
    write_table(out, result.kept)
    write_jsonl(_sibling(out, ".dropped.jsonl"), result.dropped)
    report_path = _sibling(out, ".report.json")
    report_path.write_text(json.dumps({"input": str(input), "output": str(out), **result.report}, indent=1,
                                      ensure_ascii=False, default=str))
    if not quiet:
        typer.echo(format_report(result.report))
        typer.echo(f"wrote {out} ({len(result.kept):,} rows), {_sibling(out, '.dropped.jsonl')}, {report_path}")


@app.command("decontam")
def decontam_cmd(
    input: Annotated[Path, typer.Argument(help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Clean rows: .jsonl/.parquet file, else an HF dataset directory.")],
    benchmark: Annotated[list[str], typer.Option("--benchmark", "-b", help="Benchmark file, FILE or FILE:FIELD (repeatable).")],
    ngram: Annotated[int, typer.Option(help="Shared word n-gram size that marks contamination (13; 8 for short math problems).")] = 13,
    field: Annotated[Optional[list[str]], typer.Option("--field", "-f", help="Row field to check (repeatable; default: the usual text columns).")] = None,
    id_field: Annotated[str, typer.Option(help="Column naming a row in reports.")] = "id",
    ray: Annotated[Optional[str], typer.Option("--ray", help="Run on Ray: 'local' or a cluster address; INPUT a .jsonl/.parquet file, a directory or a glob of shards; OUT a directory of numbered shards (docs/cluster.md; needs: pip install 'synth-datagen\\[ray]').")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
):
    """Drop rows of INPUT that share a word n-gram with a benchmark; write clean rows to OUT.

    Beside OUT it writes OUT.contaminated.jsonl (each dropped row with the benchmark row it matches)
    and OUT.report.json.
    """
    from synth.dedup import DecontamConfig, decontaminate
    from synth.io import write_jsonl, write_table

    from synth.dedup.decontam import Benchmarks

    _check_out(input, out)
    cfg = _config(DecontamConfig, benchmarks=benchmark, ngram=ngram, fields=field or None, id_field=id_field)
    benchmarks = Benchmarks.load(cfg)  # before the input: a bad benchmark file is named before any long read
    if ray:
        from synth.dedup.ray_decontam import decontam_on_ray

        dropped_path = _sibling(out, ".contaminated")
        rep, shown = _on_ray(decontam_on_ray, ray, input, out, [dropped_path], cfg, benchmarks)
    else:
        result = decontaminate(_rows(input), cfg, benchmarks)
        write_table(out, result.kept)
        dropped_path = _sibling(out, ".contaminated.jsonl")
        write_jsonl(dropped_path, result.dropped)
        rep, shown = result.report, result.dropped
    _sibling(out, ".report.json").write_text(json.dumps(rep, indent=1, ensure_ascii=False, default=str))
    if not quiet:
        typer.echo(f"rows in {rep['rows_in']:,}  kept {rep['rows_kept']:,}  contaminated {rep['dropped']:,} "
                   f"({ngram}-gram overlap with {rep['benchmark_rows']:,} benchmark rows)")
        for d in shown[:10]:
            typer.echo(f"  {d.get(id_field, '?')} ~ {d['benchmark']}#{d['benchmark_row']}: {d['benchmark_text'][:80]!r}")
        typer.echo(f"wrote {out}, {dropped_path}")


def _on_ray(run, address: str, inp: Path, out: Path, others: list[Path], *args, **kwargs):
    """`run(address, inp, out, *others, *args, state=..., **kwargs)` writing numbered shards in OUT and `others`;
    a broken input leaves none of them behind (a kill leaves OUT.state/ to resume from)."""
    from synth.dedup.ray_io import remove_outputs

    if out.suffix in (".jsonl", ".parquet"):
        raise InputError(f"--out {out}: --ray writes numbered shards; give a directory (e.g. {out.with_suffix('')})")
    state, folders = _sibling(out, ".state"), [out, *others]
    _check_ray_folders(inp, [*folders, state])
    made = [p for p in folders if not p.exists()]
    try:
        return run(address, inp, out, *others, *args, state=state, **kwargs)
    except (InputError, ConfigError):
        remove_outputs(state, folders, made)
        raise
