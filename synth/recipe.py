"""The recipe contract: a small async function over one seed row and an `LLM`.

A recipe never counts, caches, retries or resumes; the runner does. It declares its options (a
pydantic model, unknown keys rejected), the seed fields it needs (checked for every row before any
request is sent), and returns plain dict records. Prompts live in `templates/*.j2` next to the recipe
and render in a sandboxed Jinja environment.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import jinja2
import jinja2.nodes
import jinja2.sandbox
from pydantic import BaseModel, ConfigDict, ValidationError

from synth.errors import ConfigError, format_validation


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
    # The record fields and their kinds (see synth.schema), when the recipe declares them; otherwise
    # the first records of a run fix the schema. Either way every record is checked as it is made.
    record_schema: ClassVar[dict[str, Any] | None] = None

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        try:
            self.options = self.Options.model_validate(options or {})
        except ValidationError as exc:
            raise ConfigError(f"recipe {self.name!r}: " + format_validation(exc, "options")) from None
        # templates/ beside the recipe's module, then beside each base class's: a subclass overrides
        # some templates and inherits the rest
        folders = [str(Path(inspect.getfile(cls)).parent / "templates") for cls in type(self).__mro__
                   if issubclass(cls, Recipe) and cls is not Recipe]
        self._jinja = jinja2.sandbox.SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(folders), undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False, autoescape=False,
            auto_reload=False)  # templates are part of the fingerprint: no stat() of the file per render
        self._check_templates()
        self._simple: dict[str, tuple[list, frozenset[str]] | None] = {}  # see render

    def _check_templates(self) -> None:
        """Parse every template now, so a syntax error stops the run before any request, named as such
        (and is never mistaken for a missing template)."""
        for name in self._jinja.list_templates(extensions=["j2"]):
            try:
                self._jinja.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(f"recipe {self.name!r}: template syntax error in {exc.filename or name}, "
                                  f"line {exc.lineno}: {exc.message}: fix the template") from None

    def source_digest(self) -> str:
        """A hash of the recipe's version, source and templates (its package and its base classes'),
        and of the project modules it imports (synth.sources): part of the run's fingerprint, so
        editing a prompt, the recipe or a helper it calls (answer checking, say) makes new records."""
        h = hashlib.sha256(f"{self.name}:{self.version}".encode())
        own = _recipe_files(type(self))
        for path in sorted(own):
            h.update(f"\0{path.name}\0".encode())
            h.update(path.read_bytes())
        for module, path in sorted(_imported_files(type(self)).items()):
            if path not in own:
                h.update(f"\0{module}\0".encode())  # by module name: the same wherever synth is installed
                h.update(path.read_bytes())
        return h.hexdigest()[:16]

    def required_fields(self) -> list[str]:
        """Seed-row fields this recipe reads (checked on every row before the run starts)."""
        return []

    def render(self, template: str, **context: Any) -> str:
        # A template of only text, {{ name }} and {% if name %}...{% else %}...{% endif %} (most prompts)
        # is filled in here, a few times faster than Jinja's render, which builds a context per call;
        # anything else, or a name the context lacks (Jinja names the error), goes through Jinja.
        simple = self._simple.get(template, False)
        if simple is False:
            simple = self._simple[template] = self._simplify(template)
        if simple is not None and context.keys() >= simple[1]:
            out: list[str] = []
            _fill(simple[0], context, out)
            return "".join(out).strip()
        return self._jinja.get_template(template).render(**context).strip()

    def _simplify(self, template: str) -> tuple[list, frozenset[str]] | None:
        source = self._jinja.loader.get_source(self._jinja, template)[0]
        names: set[str] = set()
        parts = _simple_parts(self._jinja.parse(source).body, names)
        return None if parts is None else (parts, frozenset(names))

    async def close(self) -> None:
        """Release what the recipe opened for the run; the runner calls it once, after generation and
        any follow-up rounds, on success and on error alike. Engines are the runner's (see `roles`)."""

    def roles(self) -> list[str]:
        """The engine roles this recipe's options name (taxonomy's `answer_engine: teacher`), which it
        asks with `llm.role(name)`: each must be configured under the config's `engines:` (the run stops
        before any request otherwise), and their engines are part of the run's fingerprint. The runner
        starts, closes and counts every engine; a recipe never opens one itself."""
        return []

    def read_seeds(self, path: Path) -> list[dict[str, Any]] | None:
        """Seed rows from `path` when this recipe reads inputs of its own kind (a folder of documents,
        a taxonomy tree); `None` (the default) hands the path to the table readers in synth.io.
        `path` may be a glob pattern that matches no single file."""
        return None

    def coverage(self, seeds: list[dict[str, Any]], kept: list[dict[str, Any]]) -> dict[str, Any] | None:
        """What the kept records (after filters and dedup) cover of the seeds: goes to the manifest
        under `coverage` and into the dataset card. `None`: this recipe reports no coverage."""
        return None

    def stages(self) -> list:
        """Stages of the recipe's own (synth.stages.Stage), run over all the run's records after its
        rejections and before the config's filters: for decisions across rows, which made inside `run`
        would depend on which row finished first (and be forgotten by a resumed run)."""
        return []

    def follow_up(self, seeds: list[dict[str, Any]], kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """More seed rows to generate after the stages ran (e.g. top-ups for thin cells); the runner
        generates them, re-runs the stages and asks again until this returns no new rows. Rows are
        keyed by content, so a re-run finds them done and sends nothing twice."""
        return []

    async def run(self, row: dict[str, Any], llm) -> list[dict[str, Any]]:  # pragma: no cover - abstract
        """Records made from one seed row. A record may carry `"rejected": "<reason>"`: the runner then
        moves it to rejected.jsonl (stage `recipe`) with that reason instead of the dataset."""
        raise NotImplementedError


def _simple_parts(body: list, names: set[str]) -> list | None:
    """Jinja template nodes as parts: a str (text), (name,) (`{{ name }}`) or (name, then, else)
    (`{% if name %}`); None when the template uses anything more (filters, attributes, loops...)."""
    parts: list = []
    for node in body:
        if isinstance(node, jinja2.nodes.Output):
            for child in node.nodes:
                if isinstance(child, jinja2.nodes.TemplateData):
                    parts.append(child.data)
                elif type(child) is jinja2.nodes.Name and child.ctx == "load":
                    names.add(child.name)
                    parts.append((child.name,))
                else:
                    return None
        elif isinstance(node, jinja2.nodes.If) and type(node.test) is jinja2.nodes.Name and not node.elif_:
            then, other = _simple_parts(node.body, names), _simple_parts(node.else_, names)
            if then is None or other is None:
                return None
            names.add(node.test.name)
            parts.append((node.test.name, then, other))
        else:
            return None
    return parts


def _fill(parts: list, context: dict[str, Any], out: list[str]) -> None:
    """What Jinja's compiled template does for these parts: str() of each value, Python truthiness."""
    for part in parts:
        if type(part) is str:
            out.append(part)
        elif len(part) == 1:
            out.append(str(context[part[0]]))
        else:
            _fill(part[1] if context[part[0]] else part[2], context, out)


def _recipe_files(cls: type) -> set[Path]:
    """Source and template files of `cls` and its Recipe bases: the whole package folder for a recipe
    in a package, else the module file itself; plus templates/ beside it."""
    files: set[Path] = set()
    for base in cls.__mro__:
        if not (isinstance(base, type) and issubclass(base, Recipe)) or base is Recipe:
            continue
        source = Path(inspect.getfile(base))
        folder = source.parent
        in_package = "." in base.__module__ and (folder / "__init__.py").exists()
        files.update(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts) if in_package \
            else files.add(source)
        files.update(p for p in (folder / "templates").rglob("*") if p.is_file())
    return files


def _imported_files(cls: type) -> dict[str, Path]:
    """Project modules (synth's, and the recipe's own top-level package's) that `cls` and its Recipe
    bases import, transitively."""
    from synth.sources import imported_modules

    found: dict[str, Path] = {}
    for base in cls.__mro__:
        if isinstance(base, type) and issubclass(base, Recipe) and base is not Recipe:
            found.update(imported_modules(base.__module__, {"synth", base.__module__.partition(".")[0]}))
    return found

