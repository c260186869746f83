"""`Program` (what to run) and `Result` (how it ended), and the languages the executor knows.

A result's `status` is one of:

- ``ok``: exit code 0;
- ``error``: another exit code (an exception, a failed assert);
- ``timeout``: the wall-clock limit (the process group was killed) or the CPU limit (SIGXCPU);
- ``memory_limit``: MemoryError, or killed while allocating under RLIMIT_AS;
- ``output_limit``: more than `output_bytes` on stdout + stderr (the program was killed);
- ``file_limit``: a file grew past `file_mb` (EFBIG / SIGXFSZ) or the scratch file system filled up;
- ``killed``: another signal;
- ``sandbox_error``: the sandbox could not start the program.
"""

from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass, field

from synth.execute.limits import Limits

STATUSES = ("ok", "error", "timeout", "memory_limit", "output_limit", "file_limit", "killed", "sandbox_error")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")

# language -> (the file the program is written to, argv run in the scratch directory)
LANGUAGES: dict[str, tuple[str, list[str]]] = {
    "python": ("main.py", [sys.executable, "-I", "main.py"]),
}


@dataclass(frozen=True)
class Program:
    """Source to run, with its stdin and extra files (name -> text) placed beside it in the scratch directory."""

    code: str
    language: str = "python"
    stdin: str = ""
    files: tuple[tuple[str, str], ...] = ()
    limits: Limits | None = None  # None: the executor's

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language {self.language!r}: the executor runs {', '.join(LANGUAGES)}")
        if isinstance(self.files, dict):
            object.__setattr__(self, "files", tuple(sorted(self.files.items())))
        main = LANGUAGES[self.language][0]
        for name, _ in self.files:
            if not _NAME.match(name) or ".." in name.split("/") or name == main:
                raise ValueError(f"file name {name!r}: a relative path of letters, digits, _ . - (not {main})")


@dataclass
class Result:
    """How a program ended; stdout/stderr are decoded (UTF-8, bad bytes replaced) and bounded."""

    status: str
    exit_code: int | None = None
    signal: int | None = None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    seconds: float = 0.0
    detail: str | None = None
    cached: bool = field(default=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict:
        out = asdict(self)
        out.pop("cached")
        return out

    @classmethod
    def from_json(cls, data: dict, *, cached: bool = False) -> "Result":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "cached"}, cached=cached)
