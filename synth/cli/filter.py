"""`synth filter INPUT --out OUT --filter NAME[:key=value,...]`: run filters over any table of rows."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from synth import plugins
from synth.cli._app import app
from synth.cli.dedup import _check_not_input, _check_out, _check_ray_folders, _Progress, _sibling
from synth.errors import ConfigError, InputError

_SPEC = re.compile(r"^(?P<name>[^:=,\s]+(?::[A-Za-z_]\w*)?)(?::(?P<options>.*))?$", re.S)


def parse_filter_spec(text: str) -> tuple[str, dict[str, Any]]:
    """`NAME[:key=value,...]` (values are YAML scalars or [lists]) or `NAME:{yaml mapping}`.

        >>> parse_filter_spec("length:min_units=5,max_units=null")
        ('length', {'min_units': 5, 'max_units': None})
        >>> parse_filter_spec("blocklist:terms=[acme, 竞品],fields=[answer]")
        ('blocklist', {'terms': ['acme', '竞品'], 'fields': ['answer']})
        >>> parse_filter_spec("my_pkg.filters:Shout:level=2")
        ('my_pkg.filters:Shout', {'level': 2})
    """
    import yaml

    m = _SPEC.match(text.strip())
    if not m:
        raise ConfigError(f"--filter {text!r}: expected NAME or NAME:key=value,... (e.g. length:min_units=5)")
    name, raw = m.group("name"), (m.group("options") or "").strip()
    head, _, tail = name.partition(":")
    if tail and head in plugins.available(plugins.FILTERS):  # `length:min_units` is a registered name + options
        name, raw = head, f"{tail}:{raw}" if raw else tail
    if not raw:
        return name, {}
    if raw.startswith("{"):
        try:
            options = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "malformed"
            raise ConfigError(f"--filter {text!r}: options are not a YAML mapping ({problem})") from None
        if not isinstance(options, dict):
            raise ConfigError(f"--filter {text!r}: options are not a YAML mapping")
        return name, options
    options = {}
    for part in _split_top_level(raw):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--filter {text!r}: {part!r} is not key=value (e.g. {name}:min_units=5)")
        try:
            options[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            options[key.strip()] = value
    return name, options


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes."""
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p for p in (p.strip() for p in parts) if p]


def format_funnel(n_in: int, reports: list[dict], n_out: int) -> str:
    """The funnel: rows in, each stage's drops by reason (and its speed), rows out."""
    lines = [f"{n_in:>10,}  rows in"]
    for r in reports:
        speed = f"{r['in'] / r['seconds']:,.0f} rows/s" if r["seconds"] > 0 else ""
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(r["dropped_by_reason"].items(), key=lambda kv: -kv[1]))
        lines.append(f"{-r['dropped']:>10,}  {r['name']:<24} {speed:>16}  {reasons}")
        judge = (r.get("scores") or {}).get("judge")
        if judge and judge.get("histogram"):
            hist = " ".join(f"{k}:{v}" for k, v in judge["histogram"].items())
            lines.append(f"{'':>12}judge mean {judge['mean']}, histogram {hist}")
    share = f" ({(n_in - n_out) / n_in:.1%} dropped)" if n_in else ""
    lines.append(f"{n_out:>10,}  rows out{share}")
    return "\n".join(lines)


@app.command("filter")
def filter_cmd(
    input: Annotated[Path, typer.Argument(help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Kept rows: .jsonl/.parquet file, else an HF dataset directory.")],
    filters: Annotated[list[str], typer.Option("--filter", "-F", help="NAME or NAME:key=value,... (repeatable, "
                                               "applied in order; `synth filters NAME` shows the options).")],
    rejected: Annotated[Optional[Path], typer.Option("--rejected", help="Rejected rows with filter and reason "
                                                     "(default OUT.rejected.jsonl).")] = None,
    field: Annotated[Optional[str], typer.Option("--field", "-f", help="Column holding the answer to check "
                                                 "(dotted path), for rows of another shape.")] = None,
    question_field: Annotated[Optional[str], typer.Option("--question-field", help="Column holding the question.")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", envvar="SYNTH_BASE_URL",
                                                    help="OpenAI-compatible endpoint for LLM filters (judge); "
                                                    "default: the embedded model.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Model name served at --base-url.")] = None,
    api_key_env: Annotated[str, typer.Option("--api-key-env", help="Environment variable holding the API key.")] = "OPENAI_API_KEY",
    max_in_flight: Annotated[Optional[int], typer.Option("--max-in-flight", min=1, help="Concurrent requests to the server.")] = None,
    cache: Annotated[Optional[Path], typer.Option("--cache", help="Folder of the request cache for LLM filters "
                                                  "(default OUT.cache; a run directory reuses that run's answers).")] = None,
    batch_rows: Annotated[int, typer.Option(min=1, help="Rows read at a time; a killed run started again with the "
                                            "same options goes on from the last batch (state in OUT.state/).")] = 10_000,
    ray: Annotated[Optional[str], typer.Option("--ray", help="Run the rule filters on Ray: 'local' (a cluster in "
                                              "this process) or a cluster address; INPUT a .jsonl/.parquet file, a "
                                              "directory or a glob of shards; OUT and --rejected directories of "
                                              "numbered shards (docs/cluster.md; needs: pip install "
                                              "'synth-datagen\\[ray]').")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or funnel.")] = False,
):
    """Filter the rows of INPUT and write the kept ones to OUT; print the funnel.

    Rows may be chats (`messages` with role/content, ShareGPT `conversations` with from/value) or
    question/answer columns (instruction [+ input] / output or response, prompt / response or
    completion, question / answer, problem / solution); --field names the answer column otherwise.
    Every rejected row goes to OUT.rejected.jsonl with its stage and reason; OUT.report.json holds the
    funnel and score distributions. Scores filters compute stay on the rows (`scores.<name>`).
    Rows are read, filtered and written in batches, so memory holds one batch, not the input.
    """
    from synth.dedup.stream import count_rows, finish_jsonl, iter_batches_with_state
    from synth.filter import check_rows, make_filter
    from synth.stages import FilterStage
    from synth.stages.base import StageReport

    _check_out(input, out)
    if rejected is not None:
        _check_not_input(input, rejected, "--rejected")
    specs = [parse_filter_spec(f) for f in filters]
    built = [make_filter(name, options) for name, options in specs]  # every option checked before any row is read
    for flt in built:
        flt.answer_field, flt.question_field = field, question_field
    if ray:
        return _filter_on_ray(ray, input, out, rejected, specs, built, field=field, question_field=question_field,
                              batch_rows=batch_rows, quiet=quiet)
    stages = [FilterStage(f) for f in built]
    rejected_path = rejected or _sibling(out, ".rejected.jsonl")
    key = {"filters": [[n, o] for n, o in specs], "field": field, "question_field": question_field}
    # rows go through in batches appended to partial files; OUT.state/ checkpoints each batch
    state, handles, todo = iter_batches_with_state(input, _sibling(out, ".state"), key,
                                                   {"kept": out, "rejected": rejected_path},
                                                   batch_rows)
    meta = state.meta
    reports = [StageReport(s.name) for s in stages]
    for rep, saved in zip(reports, meta.get("reports", [])):
        rep.n_in, rep.n_kept, rep.seconds = saved["in"], saved["kept"], saved["seconds"]
        rep.dropped.update(saved["dropped_by_reason"])
        rep.failed_requests = saved.get("failed_requests", 0)
    from synth.score_summary import ScoreSummary

    for stage, saved in zip(stages, meta.get("scores") or [{} for _ in stages]):
        # bounded summaries of every batch so far (the distributions cover the whole input; O(1) in rows)
        stage._acc = {name: ScoreSummary.from_state(s) for name, s in saved.items()}
    counts = {"in": meta.get("rows", 0), "out": meta.get("rows_out", 0), "rejected": meta.get("rows_rejected", 0)}
    total = count_rows(input) if input.is_file() else None

    def check(chunk: list[dict]) -> None:
        check_rows(chunk, counts["in"] + 1, str(input), field)

    def done(chunk, kept, dropped, parts) -> None:
        for total_rep, part in zip(reports, parts):
            total_rep.n_in += part.n_in
            total_rep.n_kept += part.n_kept
            total_rep.dropped.update(part.dropped)
            total_rep.seconds += part.seconds
            total_rep.failed_requests += part.failed_requests
            total_rep.scores = part.scores
        handles["kept"].write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in kept))
        handles["rejected"].write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in dropped))
        counts["in"] += len(chunk)
        counts["out"] += len(kept)
        counts["rejected"] += len(dropped)

    needs_llm = any(getattr(f, "needs_llm", False) for f in built)
    import shutil

    try:
        with _Progress(quiet) as progress:
            asyncio.run(_run(stages, todo, check, done, handles, state, counts, reports, progress, total, needs_llm,
                             base_url=base_url, model=model, api_key_env=api_key_env, max_in_flight=max_in_flight,
                             cache=cache or _sibling(out, ".cache")))
        if counts["in"] == 0:
            raise InputError(f"{input} has no rows")
    except (InputError, ConfigError):  # a broken input leaves nothing behind; a kill leaves the checkpoint
        for h in handles.values():
            h.close()
        shutil.rmtree(state.folder, ignore_errors=True)
        raise
    for h in handles.values():
        h.close()
    finish_jsonl(state, "kept", out)
    finish_jsonl(state, "rejected", rejected_path)
    shutil.rmtree(state.folder, ignore_errors=True)
    report_dicts = [r.as_dict() for r in reports]
    report_path = _sibling(out, ".report.json")
    report = {"input": str(input), "output": str(out), "rejected": str(rejected_path), "rows_in": counts["in"],
              "rows_out": counts["out"], "filters": [{"name": n, "options": o} for n, o in specs],
              "stages": report_dicts, "streamed": {"batch_rows": batch_rows}}
    report_path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    if not quiet:
        typer.echo(format_funnel(counts["in"], report_dicts, counts["out"]))
        typer.echo(f"wrote {out} ({counts['out']:,} rows), {rejected_path} ({counts['rejected']:,}), {report_path}")


def _filter_on_ray(address, input, out, rejected, specs, built, *, field, question_field, batch_rows, quiet):
    """`synth filter --ray`: numbered shards in OUT and REJECTED, the same report as the local command."""
    from synth.dedup.ray_filter import filter_on_ray

    rejected = rejected or _sibling(out, ".rejected")
    for role, path in (("--out", out), ("--rejected", rejected)):
        if path.suffix in (".jsonl", ".parquet"):
            raise InputError(f"{role} {path}: --ray writes numbered shards; give a directory (e.g. {path.with_suffix('')})")
    # path options absolute, so the tasks find the files whatever their working directory
    specs = [(name, {k: str(Path(v).resolve()) if k in flt.path_options and isinstance(v, str) else v
                     for k, v in options.items()}) for (name, options), flt in zip(specs, built)]
    state = _sibling(out, ".state")
    _check_ray_folders(input, [out, rejected, state])  # before anything is written or deleted
    made = [p for p in (out, rejected) if not p.exists()]
    try:
        with _Progress(quiet) as progress:
            res = filter_on_ray(address, input, out, rejected, specs, built, field=field,
                                question_field=question_field, batch_rows=batch_rows, state=state, progress=progress)
    except (InputError, ConfigError):  # a broken input leaves nothing behind; a kill leaves the state to resume
        from synth.dedup.ray_io import remove_outputs

        remove_outputs(state, [out, rejected], made)
        raise
    report_path = _sibling(out, ".report.json")
    report = {"input": str(input), "output": str(out), "rejected": str(rejected), "rows_in": res["rows_in"],
              "rows_out": res["rows_out"], "filters": [{"name": n, "options": o} for n, o in specs],
              "stages": res["stages"], "ray": {"address": address, "units": res["units"], "format": res["format"]}}
    report_path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    if not quiet:
        typer.echo(format_funnel(res["rows_in"], res["stages"], res["rows_out"]))
        typer.echo(f"wrote {out}/part-*.{'jsonl' if res['format'] == 'mixed' else res['format']} ({res['rows_out']:,} rows), {rejected}/part-*.jsonl "
                   f"({res['rows_rejected']:,}), {report_path}")


async def _run(stages, todo, check, done, handles, state, counts, reports, progress, total, needs_llm, *,
               base_url, model, api_key_env, max_in_flight, cache):
    """Each batch of `todo` through the stages, then `done` writes it and a checkpoint follows."""
    from synth.dedup.stream import checkpoint
    from synth.stages import run_stages_async

    async def over(llm=None, concurrency=8):
        for chunk in todo:
            check(chunk)
            kept, dropped, parts = await run_stages_async(stages, chunk, llm=llm, concurrency=concurrency)
            done(chunk, kept, dropped, parts)
            checkpoint(state, handles, counts["in"], rows_out=counts["out"], rows_rejected=counts["rejected"],
                       reports=[r.as_dict() for r in reports],
                       scores=[{n: v.state() for n, v in s._acc.items()} for s in stages])
            progress("filter", counts["in"], max(total or 0, counts["in"]))

    if not needs_llm:
        return await over()
    from pydantic import ValidationError

    from synth.config import EngineConfig
    from synth.engines.base import Sampling
    from synth.llm import LLM
    from synth.errors import format_validation
    from synth.build import make_engine
    from synth.store import RunStore

    try:
        cfg = EngineConfig(base_url=base_url, model=model, api_key_env=api_key_env, max_in_flight=max_in_flight)
    except ValidationError as exc:
        raise ConfigError("synth filter: " + format_validation(exc, "engine")) from None
    engine = make_engine(cfg)
    await engine.start()  # an unreachable server stops here, before anything is written
    store = RunStore(cache, "filter")
    try:
        llm = LLM(engine, store, Sampling(temperature=0.0, max_tokens=512), run_seed=0, json_schema=cfg.json_schema,
                  extra_body=cfg.extra_body)
        return await over(llm, max(4, 2 * cfg.in_flight))
    finally:
        store.close()
        await engine.close()
