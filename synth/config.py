"""Run configuration: YAML validated by pydantic; unknown keys and bad values name their path.

    name: quickstart                 # run directory runs/<name> unless --out is given
    recipe: instruct                 # a registered recipe, or module.path:Class
    seeds: seeds/en/instructions.jsonl   # relative to this file
    options: {...}                   # the recipe's own options (checked by the recipe)
    engine: {kind: embedded | openai | vllm | vllm-server | a plugin's, base_url, model, ...}   # the default engine
    engines: {judge: {base_url, model, ...}}   # more engines by role, asked by a recipe or an LLM filter
    sampling: {temperature, top_p, max_tokens, seed}
    filters: [finish-reason, {name: length, min_chars: 20}, {name: judge, engine: judge}]
    stages: [{name: my-stage, key: value}]   # stages plugins register (synth.stages), after the built-ins
    dedup: {exact: true, near: true, threshold: 0.7}
    decontam: {benchmarks: [bench/gsm8k_test.jsonl:question]}
    student: {engine: student, k: 8, preset: rl}   # keep what the model being trained solves sometimes
    export: {jsonl: true, formats: [messages]}
    max_failed_share: 0.5            # `synth run` exits 1 when more seed rows than this share (or all) failed
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synth.errors import ConfigError, format_validation
from synth.store import dump_json


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EngineConfig(Strict):
    # None: openai if base_url, else embedded; vllm-server: synth starts `vllm serve` for the run; or an
    # engine kind a plugin registers (entry points synth.engines, see synth.engines.kinds)
    kind: str | None = None
    base_url: str | list[str] | None = None  # a list: several endpoints of one model, balanced by load
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    max_in_flight: int | None = Field(None, ge=1, le=4096)  # default: 2 embedded, 64 otherwise
    timeout_s: float = Field(600.0, gt=0)
    max_retries: int = Field(5, ge=0, le=20)
    backoff_s: float = Field(0.5, ge=0)
    threads: int | None = Field(None, ge=1)   # embedded server threads (default: all cores, max 8)
    n_ctx: int = Field(4096, ge=256)          # embedded server context length
    # kind vllm: AsyncEngineArgs(**vllm_args); kind vllm-server: `vllm serve` flags ({max_num_seqs: 256})
    vllm_args: dict[str, Any] = Field(default_factory=dict)
    launch: bool = True                       # vllm-server: start it (false: use base_url, like openai)
    python: str | None = None                 # vllm-server: the Python that has vLLM (default: this one)
    port: int | None = Field(None, ge=1, le=65535)  # vllm-server: default a free loopback port
    tensor_parallel_size: int = Field(1, ge=1)
    data_parallel_size: int = Field(1, ge=1)
    startup_timeout_s: float = Field(1800.0, gt=0)  # loading a large model takes minutes
    json_schema: bool = True  # constrain JSON answers with a schema where the server supports it
    # fields sent with every request, e.g. vLLM's {top_k: 20, min_p: 0.05, repetition_penalty: 1.05,
    # chat_template_kwargs: {enable_thinking: false}}; in-process vLLM: extra SamplingParams
    extra_body: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)  # a plugin engine kind's own settings

    @model_validator(mode="after")
    def _resolve_kind(self) -> EngineConfig:
        from synth import plugins
        from synth.engines.kinds import KINDS

        if self.kind is None:
            self.kind = "openai" if self.base_url else "embedded"
        if ":" not in self.kind:  # `module:factory` names a plugin that is not installed
            kinds = plugins.available(plugins.ENGINES)
            if self.kind not in kinds:
                raise ValueError(f"engine.kind {self.kind!r} is not an engine kind: choose one of {', '.join(kinds)} "
                                 "(or install a plugin that registers it under synth.engines)")
        if self.options and self.kind in KINDS:
            raise ValueError(f"engine.options is a plugin engine's own settings: kind {self.kind} takes its "
                             "settings as engine keys (base_url, model, max_in_flight, ...)")
        if isinstance(self.base_url, list):
            if len(set(self.base_url)) != len(self.base_url):
                raise ValueError("engine.base_url lists an endpoint twice")
            if len(self.base_url) == 1:
                self.base_url = self.base_url[0]
        if self.kind == "openai" and not self.base_url:
            raise ValueError("engine.kind openai needs base_url (e.g. http://localhost:8000/v1)")
        if self.kind in ("vllm", "vllm-server") and not self.model:
            raise ValueError(f"engine.kind {self.kind} needs model (a local path or model id)")
        if self.kind == "vllm-server" and self.launch and self.base_url:
            raise ValueError("engine.kind vllm-server with launch: true starts its own server: drop base_url "
                             "(or set launch: false to use the server at base_url)")
        if self.kind == "vllm-server" and not self.launch and not self.base_url:
            raise ValueError("engine.kind vllm-server with launch: false needs base_url (the running server)")
        return self

    @property
    def in_flight(self) -> int:
        return self.max_in_flight or (2 if self.kind == "embedded" else 64)


class SamplingConfig(Strict):
    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    max_tokens: int = Field(512, ge=1)
    seed: int = 0  # the run seed: per-request seeds derive from it
    stop: list[str] | None = None


DEFAULT_ROLE = "default"  # the role of `engine`; `engines:` names the others


class FilterSpec(Strict):
    name: str
    options: dict[str, Any] = Field(default_factory=dict)
    engine: str | None = None  # an LLM filter's engine role (a name under `engines:`); None: the default engine


class StageSpec(Strict):
    name: str  # a stage registered under synth.stages (a plugin's), or module.path:factory
    options: dict[str, Any] = Field(default_factory=dict)


class ExportConfig(Strict):
    jsonl: bool = False              # also write train.jsonl beside data/
    formats: list[str] = Field(default_factory=list)  # export formats -> exports/<format>.jsonl
    # a reasoning model's thinking: a separate `reasoning` field, <think>…</think> before the answer, or left out
    reasoning: Literal["field", "think", "drop"] = "field"
    # held-out splits by seed row, e.g. {test: 0.05}: one seed row's records all land in the same split
    split: dict[str, float] = Field(default_factory=dict)
    sample_rows: int = Field(3, ge=0, le=20)  # example rows shown in the dataset card

    @field_validator("split")
    @classmethod
    def _check_split(cls, value: dict[str, float]) -> dict[str, float]:
        for name, share in value.items():
            if name == "train" or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"split name {name!r}: use a lowercase name other than train (e.g. test, validation)")
            if not 0 < share < 1:
                raise ValueError(f"split {name}: {share} is not a share between 0 and 1 (e.g. 0.05)")
        if sum(value.values()) >= 1:
            raise ValueError(f"split shares add up to {sum(value.values()):g}: leave some rows for train")
        return value


class CardConfig(Strict):
    # the dataset card's prose: English, or Chinese (zh); its Hub metadata is the same either way
    language: Literal["en", "zh"] = "en"


class RunConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    recipe: str
    seeds: str
    options: dict[str, Any] = Field(default_factory=dict)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    # engines by role ({teacher: {...}, judge: {...}}), each started, closed and counted by the runner;
    # a recipe option or a filter's `engine:` names one, anything else asks `engine` (role `default`)
    engines: dict[str, EngineConfig] = Field(default_factory=dict)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    filters: list[FilterSpec] = Field(default_factory=list)
    # more stages, after filters, dedup and decontam, in this order: [my-stage, {name: other, key: value}]
    stages: list[StageSpec] = Field(default_factory=list)
    # synth.dedup.DedupConfig's fields; unset ones take its defaults, the only ones; null: no dedup
    dedup: dict[str, Any] | None = Field(default_factory=lambda: _dedup_defaults())
    decontam: dict[str, Any] | None = None
    # the student stage (synth.stages.student): {engine: student, k: 8, preset: rl | sft, min_pass, max_pass}
    student: dict[str, Any] | None = None
    export: ExportConfig = Field(default_factory=ExportConfig)
    license: str | None = None        # Hub license id for the dataset card (apache-2.0, cc-by-4.0, mit, other…)
    pretty_name: str | None = None    # the card's title (default: name)
    card: CardConfig = Field(default_factory=CardConfig)   # {language: zh}: the card written in Chinese
    # a run whose failed seed rows exceed this share (or are all of them) exits 1 after writing what it
    # made: a few failed rows are retried by re-running, most rows failing means a broken recipe or server
    max_failed_share: float = Field(0.5, ge=0, le=1)

    @field_validator("engines")
    @classmethod
    def _check_roles(cls, value: dict[str, EngineConfig]) -> dict[str, EngineConfig]:
        for role in value:
            if role == DEFAULT_ROLE:
                raise ValueError(f"{role!r} is the role of `engine:`: configure the default engine there")
            if not re.fullmatch(r"[a-z][a-z0-9_-]*", role):
                raise ValueError(f"engine role {role!r}: use a lowercase name (e.g. teacher, judge, student)")
        return value

    @field_validator("filters", mode="before")
    @classmethod
    def _filter_shorthand(cls, value: Any) -> Any:
        return _shorthand(value, ("engine",))  # a filter's `engine` (its role) is never one of its options

    @field_validator("stages", mode="before")
    @classmethod
    def _stage_shorthand(cls, value: Any) -> Any:
        return _shorthand(value, ())

    @model_validator(mode="after")
    def _check_filter_roles(self) -> RunConfig:
        for i, spec in enumerate(self.filters):
            if spec.engine not in (None, DEFAULT_ROLE, *self.engines):
                raise ValueError(f"filters[{i}] ({spec.name}): engine {spec.engine!r} is not a role under "
                                 f"engines: ({', '.join([DEFAULT_ROLE, *self.engines])})")
        return self

    def role_config(self, role: str | None) -> EngineConfig:
        """The engine config of `role` (None or `default`: `engine`)."""
        return self.engine if role in (None, DEFAULT_ROLE) else self.engines[role]

    def generation_fingerprint(self, seeds_digest: str, recipe_digest: str | None = None,
                               roles: tuple[str, ...] | list[str] = ()) -> str:
        """Hash of everything that changes generated records (the config's recipe, options, seeds, sampling
        and model, the engines of the recipe's `roles`, and `recipe_digest`: the recipe's version, source
        and templates, see `Recipe.source_digest`); filters (and their engines) and dedup are re-applied
        each run."""
        used = {role: _engine_identity(self.engines[role]) for role in sorted(set(roles)) if role in self.engines}
        identity = {"recipe": self.recipe, "options": self.options, "seeds": seeds_digest,
                    **({"recipe_source": recipe_digest} if recipe_digest else {}),
                    "sampling": self.sampling.model_dump(), **_engine_identity(self.engine),
                    **({"engines": used} if used else {})}  # old fingerprints hold
        return hashlib.sha256(dump_json(identity).encode()).hexdigest()[:12]


def _shorthand(value: Any, own: tuple[str, ...]) -> Any:
    """`- finish-reason`, `- {name: length, min_chars: 5}` and `- {length: {min_chars: 5}}` as
    {name, options} (keys in `own` are the spec's, not options)."""
    if not isinstance(value, list):
        return value
    out = []
    for item in value:
        if isinstance(item, str):
            out.append({"name": item})
        elif isinstance(item, dict) and len(item) == 1 and "name" not in item:  # {length: {min_chars: 5}}
            (name, opts), = item.items()
            opts = dict(opts or {}) if isinstance(opts, dict) else opts
            mine = {k: opts.pop(k) for k in own if k in opts} if isinstance(opts, dict) else {}
            out.append({"name": name, "options": opts or {}, **mine})
        elif isinstance(item, dict) and "options" not in item and "name" in item:
            out.append({"name": item["name"], **{k: item[k] for k in own if k in item},
                        "options": {k: v for k, v in item.items() if k not in ("name", *own)}})
        else:
            out.append(item)
    return out


def _engine_identity(engine: EngineConfig) -> dict[str, Any]:
    """What of an engine's config changes its answers."""
    return {"engine": engine.kind, "model": engine.model,
            **({} if engine.json_schema else {"json_schema": False}),  # old fingerprints hold
            **({"extra_body": engine.extra_body} if engine.extra_body else {}),
            **({"options": engine.options} if engine.options else {}),
            "base_url": (sorted(engine.base_url) if isinstance(engine.base_url, list) else engine.base_url)
            if engine.kind == "openai" or not engine.launch else None}


def _dedup_defaults() -> dict[str, bool]:
    """What a run without a `dedup` key does, as DedupConfig says (shown in the resolved config)."""
    from synth.dedup.config import DedupConfig

    defaults = DedupConfig()
    return {"exact": defaults.exact, "near": defaults.near}


def load_config(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> tuple[RunConfig, Path]:
    """Parse and validate a YAML config; returns it and the folder relative paths resolve against."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"config not found: {p} (pass the path of a YAML file, e.g. examples/quickstart.yaml)")
    if p.is_dir():
        raise ConfigError(f"config {p} is a directory: pass the YAML file in it, e.g. {p / 'run.yaml'}")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{p} is not UTF-8 text: re-save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config {p} ({exc.strerror or type(exc).__name__}): check its permissions") \
            from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark else str(p)
        raise ConfigError(f"{where}: malformed YAML ({getattr(exc, 'problem', None) or exc}): fix the syntax") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: expected a YAML mapping with keys name, recipe, seeds, ...")
    raw.setdefault("name", p.stem)
    for key, value in (overrides or {}).items():  # dotted keys from the command line
        if value is None:
            continue
        target = raw
        *parents, leaf = key.split(".")
        for part in parents:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[leaf] = value
    try:
        return RunConfig.model_validate(raw), p.parent
    except ValidationError as exc:
        raise ConfigError(f"{p}: " + format_validation(exc)) from None
