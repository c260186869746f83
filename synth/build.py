"""A run's parts built from its config: the engines by role, the recipe, the stages and the seed rows.

Everything here validates as it builds (a bad plugin name, option, file or export format raises a
one-line SynthError), so the runner calls it before the run directory is locked and before any
request is sent.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from synth import plugins
from synth.config import DEFAULT_ROLE, EngineConfig, RunConfig
from synth.engines.base import Engine
from synth.errors import ConfigError, InputError, format_validation
from synth.filter import make_filter
from synth.paths import check_file, spec_file
from synth.stages import DedupStage, FilterStage, Stage
from synth.recipe import Recipe
from synth.seeds import Seeds, from_path


def make_engines(config: RunConfig, log_dir: Path | None = None) -> dict[str, Engine]:
    """The run's engines by role: `default` (the config's `engine`) and each of `engines:`."""
    return {role: make_engine(config.role_config(role), log_dir, role=role)
            for role in (DEFAULT_ROLE, *config.engines)}


def make_engine(cfg: EngineConfig, log_dir: Path | None = None, *, role: str = DEFAULT_ROLE) -> Engine:
    """The engine a config asks for; a server it starts (vllm-server) logs to `log_dir`/vllm-server.log
    (vllm-server-<role>.log for an engine by role)."""
    common = dict(timeout_s=cfg.timeout_s, max_retries=cfg.max_retries, backoff_s=cfg.backoff_s,
                  extra_body=cfg.extra_body)
    if cfg.kind == "embedded":
        from synth.engines.embedded import EmbeddedEngine

        return EmbeddedEngine(max_in_flight=cfg.in_flight, threads=cfg.threads, n_ctx=cfg.n_ctx, **common)
    if cfg.kind == "vllm":
        from synth.engines.vllm_local import VLLMEngine

        return VLLMEngine(cfg.model or "", extra_sampling=cfg.extra_body, **cfg.vllm_args)
    if cfg.kind == "vllm-server" and cfg.launch:
        from synth.engines.vllm_server import VLLMServer, VLLMServerEngine

        server = VLLMServer(cfg.model or "", python=cfg.python, port=cfg.port, args=cfg.vllm_args,
                            tensor_parallel_size=cfg.tensor_parallel_size, data_parallel_size=cfg.data_parallel_size,
                            log_path=(log_dir / server_log_name(role)) if log_dir else None)
        return VLLMServerEngine(server, startup_timeout_s=cfg.startup_timeout_s, max_in_flight=cfg.in_flight,
                                api_key=os.environ.get(cfg.api_key_env), **common)
    from synth.engines.openai_http import OpenAIEngine

    urls = cfg.base_url if isinstance(cfg.base_url, list) else [cfg.base_url or ""]
    engines = [OpenAIEngine(url, cfg.model, api_key=os.environ.get(cfg.api_key_env), max_in_flight=cfg.in_flight,
                            **common) for url in urls]
    if len(engines) == 1:
        return engines[0]
    from synth.engines.multi import MultiEngine

    return MultiEngine(engines)


def server_log_name(role: str) -> str:
    return "vllm-server.log" if role == DEFAULT_ROLE else f"vllm-server-{role}.log"


def check_roles(config: RunConfig, recipe: Recipe) -> None:
    """Every engine role the recipe's options name is configured (a filter's `engine:` is checked with
    the config)."""
    for role in recipe.roles():
        if role != DEFAULT_ROLE and role not in config.engines:
            configured = ", ".join([DEFAULT_ROLE, *config.engines])
            raise ConfigError(f"recipe {recipe.name!r} asks for engine role {role!r}, which is not under "
                              f"engines: (configured: {configured}); add engines: {{{role}: {{base_url: ..., "
                              f"model: ...}}}} or name one of those")


def make_recipe(config: RunConfig, base_dir: Path) -> Recipe:
    """The config's recipe with its options validated and its path options resolved and checked."""
    cls = plugins.load(plugins.RECIPES, config.recipe)
    options = dict(config.options)
    for key in getattr(cls, "path_options", ()):
        value = options.get(key)
        if isinstance(value, str):
            options[key] = resolve_spec(value, base_dir)
        elif isinstance(value, list):
            options[key] = [resolve_spec(v, base_dir) if isinstance(v, str) else v for v in value]
        for spec in options[key] if isinstance(options.get(key), list) else [options.get(key)]:
            if isinstance(spec, str):  # every file is there and readable before the recipe starts
                check_file(spec_file(spec), f"recipe {config.recipe!r}: options.{key}", ConfigError)
    return cls(options)


def make_stages(config: RunConfig, base_dir: Path) -> list[Stage]:
    """Build every stage now, so a bad filter name, option key or type stops the run before any request."""
    stages: list[Stage] = []
    for spec in config.filters:
        flt = make_filter(spec.name, spec.options, base_dir=base_dir)
        if spec.engine is not None and not getattr(flt, "needs_llm", False):
            raise ConfigError(f"filter {spec.name!r} asks no model: remove its engine: {spec.engine}")
        stages.append(FilterStage(flt, role=spec.engine))
    if config.dedup is not None:
        from synth.dedup import DedupConfig

        dedup = validated(DedupConfig, config.dedup, "dedup")  # its defaults decide what an unset key means
        if dedup.exact or dedup.near:
            stages.append(DedupStage(dedup))
    if config.decontam:
        from synth.dedup import DecontamConfig

        raw = dict(config.decontam)
        raw["benchmarks"] = [resolve_spec(b, base_dir) for b in raw.get("benchmarks", [])]
        decontam = validated(DecontamConfig, raw, "decontam")
        for spec in decontam.benchmarks:
            check_file(spec_file(spec), "decontam.benchmarks")
        try:  # the benchmarks are read here, once: an empty file or a missing field stops the run now
            stages.append(DedupStage(decontam, decontam=True))
        except InputError as exc:
            raise InputError(f"decontam.benchmarks: {exc}") from None
    return stages


def check_export_formats(config: RunConfig, recipe: Recipe) -> None:
    """Every format in export.formats is a built-in one or the recipe's own."""
    from synth.exports import FORMATS

    unknown = [f for f in config.export.formats if f not in recipe.exports and f not in FORMATS]
    if unknown:
        raise ConfigError(f"export.formats: recipe {recipe.name!r} has no format {unknown[0]!r} "
                          f"(available: {', '.join([*FORMATS, *recipe.exports])})")


def load_seeds(config: RunConfig, base_dir: Path, recipe: Recipe, limit: int | None) -> Seeds:
    """The run's seed rows (read lazily), every row checked for the recipe's fields up front."""
    path = (base_dir / config.seeds) if not Path(config.seeds).is_absolute() else Path(config.seeds)
    return from_path(path, recipe, limit)


def validated(model, raw: dict, prefix: str):
    """`model` validated from `raw`; an error is one ConfigError line naming `prefix`.<key>."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError("config: " + format_validation(exc, prefix)) from None


def resolve_spec(spec: str, base_dir: Path) -> str:
    """`FILE[:FIELD]` with FILE relative to the config file."""
    path, sep, field = spec.partition(":")
    return str((base_dir / path).resolve()) + (sep + field if sep else "")
