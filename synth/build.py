"""A run's parts built from its config: the engines by role, the recipe, the stages and the seed rows.

Everything here validates as it builds (a bad plugin name, option, file or export format raises a
one-line SynthError), so the runner calls it before the run directory is locked and before any
request is sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from synth import plugins
from synth.config import DEFAULT_ROLE, EngineConfig, RunConfig
from synth.engines.base import Engine
from synth.errors import ConfigError, InputError, PluginError, format_validation
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
    """The engine of `cfg.kind`, built by its factory (synth.engines.kinds, or a plugin's under the entry
    points synth.engines); a server it starts logs into `log_dir`."""
    factory = plugins.load(plugins.ENGINES, cfg.kind)
    engine = factory(cfg, log_dir=log_dir, role=role)
    if not isinstance(engine, Engine):
        raise PluginError(f"engine kind {cfg.kind!r} made {type(engine).__name__}, not a synth.engines.base.Engine")
    return engine


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
    named = [("dedup", config.dedup, "dedup")] if config.dedup is not None else []
    named += [("decontam", config.decontam, "decontam")] if config.decontam else []
    named += [("student", config.student, "student")] if config.student is not None else []
    for i, spec in enumerate(config.stages):
        if spec.name in STAGES:
            raise ConfigError(f"stages[{i}]: {spec.name} has its own key: write {spec.name}: {{...}} instead")
        named.append((spec.name, spec.options, f"stages[{i}]"))
    for name, options, where in named:
        stage = make_stage(name, options, base_dir, where)
        if stage is not None:
            stages.append(stage)
        role = getattr(stage, "role", None) if name == "student" else None
        if role is not None and role != DEFAULT_ROLE and role not in config.engines:
            raise ConfigError(f"student.engine: {role!r} is not a role under engines: "
                              f"({', '.join([DEFAULT_ROLE, *config.engines])}); add engines: {{{role}: "
                              "{base_url: ..., model: ...}} for the model being trained")
    return stages


def make_stage(name: str, options: dict[str, Any], base_dir: Path, where: str) -> Stage | None:
    """The stage registered as `name` (synth.build.STAGES, or a plugin's under the entry points
    synth.stages), built from its options; None when those options turn it off."""
    factory = plugins.load(plugins.STAGES, name)
    try:
        stage = factory(dict(options), base_dir=base_dir)
    except ConfigError as exc:
        if name in STAGES:  # the built-ins name their key already
            raise
        raise ConfigError(f"{where} ({name}): {exc}") from None
    if stage is not None and not isinstance(stage, Stage):
        raise PluginError(f"stage {name!r} made {type(stage).__name__}, not a synth.stages.Stage")
    return stage


def dedup_stage(options: dict[str, Any], *, base_dir: Path) -> Stage | None:
    """`dedup:` (synth.dedup.DedupConfig, its defaults deciding what an unset key means); None when
    both exact and near are off."""
    from synth.dedup import DedupConfig

    dedup = validated(DedupConfig, options, "dedup")
    return DedupStage(dedup) if dedup.exact or dedup.near else None


def decontam_stage(options: dict[str, Any], *, base_dir: Path) -> Stage:
    """`decontam:` (synth.dedup.DecontamConfig), its benchmark files relative to the config file and
    read now, once: an empty file or a missing field stops the run before any request."""
    from synth.dedup import DecontamConfig

    options["benchmarks"] = [resolve_spec(b, base_dir) for b in options.get("benchmarks", [])]
    decontam = validated(DecontamConfig, options, "decontam")
    for spec in decontam.benchmarks:
        check_file(spec_file(spec), "decontam.benchmarks")
    try:
        return DedupStage(decontam, decontam=True)
    except InputError as exc:
        raise InputError(f"decontam.benchmarks: {exc}") from None


def student_stage(options: dict[str, Any], *, base_dir: Path) -> Stage:
    """`student:` (synth.stages.student.StudentOptions): the pass-rate band of the student role."""
    from synth.stages.student import student_stage as make

    return make(options, base_dir=base_dir)


# the built-in stages a config builds from its own keys, listed by synth.plugins like the entry points
# synth.stages; a plugin's stage goes under `stages:`
STAGES = {"dedup": dedup_stage, "decontam": decontam_stage, "student": student_stage}


def check_export_formats(config: RunConfig, recipe: Recipe) -> None:
    """Every format in export.formats is installed (built in or a plugin's) or the recipe's own."""
    from synth.exports import format_names

    names = format_names()
    unknown = [f for f in config.export.formats if f not in recipe.exports and f not in names]
    if unknown:
        raise ConfigError(f"export.formats: recipe {recipe.name!r} has no format {unknown[0]!r} "
                          f"(available: {', '.join([*names, *recipe.exports])})")


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
