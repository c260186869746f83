"""Exceptions raised by synth.

The tree, so callers know what to catch::

    SynthError                   anything synth raises on purpose; the CLI prints it as one line, exit 2
    ├── ConfigError              a config file or option is wrong (names the field and the fix)
    │   └── ToleranceError       check()'s rel_tol / abs_tol is negative or does not fit the gold (a ValueError too)
    ├── InputError               an input file or row is unusable (missing, not UTF-8, field absent)
    ├── PluginError              an unknown recipe or filter, or one that fails to load
    ├── EngineError              the model server as a whole is unusable: stop the run
    │   └── EngineUnavailable    cannot connect / did not start
    └── RequestFailed            one request failed after its retries: record the row, go on
        └── RequestRejected      the server refused the request itself (4xx): never retried

Per-row failures (``RequestFailed``, ``RecipeError``) are recorded and retried on the next run;
``EngineError`` is fatal for the run.
"""

from __future__ import annotations


class SynthError(Exception):
    """Base class: a problem the user can fix; its message says how."""

    exit_code = 2


class ConfigError(SynthError):
    """A config file or option is invalid."""


class ToleranceError(ConfigError, ValueError):
    """A tolerance given to ``synth.verify.check`` is invalid or has the wrong number of bounds.

    Also a ``ValueError``, which ``check`` raised for these before the tree had a place for them.
    """


class InputError(SynthError):
    """An input file or row cannot be used."""


class PluginError(SynthError):
    """A recipe or filter is unknown or fails to load."""


class EngineError(SynthError):
    """The engine cannot serve the run at all (fatal)."""


class EngineUnavailable(EngineError):
    """The model server cannot be reached or did not start."""


class RequestFailed(SynthError):
    """One request failed after all retries (per row, not fatal)."""


class RequestRejected(RequestFailed):
    """The server rejected the request (HTTP 4xx); retrying would not help."""


class RecipeError(SynthError):
    """A recipe could not process one row (per row, not fatal)."""


def format_validation(exc, prefix: str = "") -> str:
    """Pydantic's errors (a ValidationError) as one line, the one form every config, option and reply
    check in synth reports them in: `location: message (got value)` for each error, joined by '; '.

    The location is `prefix` followed by the error's path; an unknown key says to remove it or check its
    spelling; the value given is shown (cut to 60 characters) except for a missing or unknown key; the
    "Value error, " pydantic puts before a validator's own message is dropped.

    >>> from pydantic import BaseModel, ConfigDict
    >>> class Options(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     k: int
    >>> try:
    ...     Options(k="x", kk=1)
    ... except ValueError as exc:
    ...     print(format_validation(exc, "options"))
    options.k: Input should be a valid integer, unable to parse string as an integer (got 'x'); options.kk: unknown key: remove it or check its spelling
    """
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        if err["type"] == "extra_forbidden":
            msg, got = "unknown key: remove it or check its spelling", ""
        else:
            msg = err["msg"].removeprefix("Value error, ")
            got = f" (got {_cut(repr(err['input']))})" if err["type"] != "missing" and "input" in err else ""
        parts.append(f"{loc}: {msg}{got}" if loc else f"{msg}{got}")
    return "; ".join(parts)


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
