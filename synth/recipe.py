"""The recipe contract: a small async function over one seed row and an `LLM`.

A recipe never counts, caches, retries or resumes; the runner does. It declares its options (a
pydantic model, unknown keys rejected), the seed fields it needs (checked for every row before any
request is sent), and returns plain dict records. Prompts live in `templates/*.j2` next to the recipe
and render in a sandboxed Jinja environment.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import jinja2
import jinja2.sandbox
from pydantic import BaseModel, ConfigDict, ValidationError

from synth.errors import ConfigError


class RecipeOptions(BaseModel):
    """Base for recipe options: strict, so a misspelt key fails loudly."""

    model_config = ConfigDict(extra="forbid")


class Recipe:
    """Subclass, set `name`, `description`, `Options`, and implement `run`."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    Options: ClassVar[type[RecipeOptions]] = RecipeOptions
    # Options holding file paths ("FILE" or "FILE:FIELD", or lists of them): the runner resolves them
    # relative to the config file, like `seeds`.
    path_options: ClassVar[tuple[str, ...]] = ()
    # Extra export formats: name -> function(record) -> row or None (skip).
    exports: ClassVar[dict[str, Callable[[dict], dict | None]]] = {}

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        try:
            self.options = self.Options.model_validate(options or {})
        except ValidationError as exc:
            raise ConfigError(format_validation("options", exc, f"recipe {self.name!r}")) from None
        # templates/ beside the recipe's module, then beside each base class's: a subclass overrides
        # some templates and inherits the rest
        folders = [str(Path(inspect.getfile(cls)).parent / "templates") for cls in type(self).__mro__
                   if issubclass(cls, Recipe) and cls is not Recipe]
        self._jinja = jinja2.sandbox.SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(folders), undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False, autoescape=False)

    def required_fields(self) -> list[str]:
        """Seed-row fields this recipe reads (checked on every row before the run starts)."""
        return []

    def render(self, template: str, **context: Any) -> str:
        return self._jinja.get_template(template).render(**context).strip()

    def read_seeds(self, path: Path) -> list[dict[str, Any]] | None:
        """Seed rows from `path` when this recipe reads inputs of its own kind (a folder of documents,
        a taxonomy tree); `None` (the default) hands the path to the table readers in synth.io.
        `path` may be a glob pattern that matches no single file."""
        return None

    def coverage(self, seeds: list[dict[str, Any]], kept: list[dict[str, Any]]) -> dict[str, Any] | None:
        """What the kept records (after filters and dedup) cover of the seeds: goes to the manifest
        under `coverage` and into the dataset card. `None`: this recipe reports no coverage."""
        return None

    def follow_up(self, seeds: list[dict[str, Any]], kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """More seed rows to generate after the stages ran (e.g. top-ups for thin cells); the runner
        generates them, re-runs the stages and asks again until this returns no new rows. Rows are
        keyed by content, so a re-run finds them done and sends nothing twice."""
        return []

    async def run(self, row: dict[str, Any], llm) -> list[dict[str, Any]]:  # pragma: no cover - abstract
        """Records made from one seed row. A record may carry `"rejected": "<reason>"`: the runner then
        moves it to rejected.jsonl (stage `recipe`) with that reason instead of the dataset."""
        raise NotImplementedError


def format_validation(prefix: str, exc: ValidationError, what: str) -> str:
    """One line per pydantic error: `<what>: options.k_samples: Input should be ... (got 0)`."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        got = f" (got {err['input']!r})" if err["type"] not in ("missing",) and "input" in err else ""
        msg = "unknown key: remove it or check its spelling" if err["type"] == "extra_forbidden" else err["msg"]
        parts.append(f"{loc}: {msg}{got}")
    return f"{what}: " + "; ".join(parts)
