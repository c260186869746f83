"""Exceptions raised by synth.

The tree, so callers know what to catch::

    SynthError                   anything synth raises on purpose; the CLI prints it as one line, exit 2
    ├── ConfigError              a config file or option is wrong (names the field and the fix)
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
