"""Drop rows containing blocked keywords or patterns, listed inline or in a file.

The C4 and Gopher pipelines drop pages with words from a blocklist ("List of Dirty, Naughty, Obscene
or Otherwise Bad Words"; datatrove `c4_filters.py` has the rule, not the list); product teams use the
same mechanism for competitor names, internal code names or topics their model must not learn.
A file holds one entry per line: a keyword, or `re:` and a regular expression; `#` starts a comment.
Keywords match case-insensitively as whole words in spaced scripts and as substrings in CJK text
(Chinese has no spaces to mark a word). No list ships with synth: bring your own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import model_validator

from synth.errors import ConfigError
from synth.filter import Decision, Filter, FilterOptions, compile_patterns, option
from synth.text import CJK


def read_blocklist(path: str) -> list[str]:
    """Entries of a blocklist file (blank lines and # comments skipped)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"filter 'blocklist': bad options: path: {p} not found (one keyword or re:PATTERN a line)") \
            from None
    except UnicodeDecodeError:
        raise ConfigError(f"filter 'blocklist': bad options: path: {p} is not UTF-8 text: re-save it as UTF-8") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def keyword_pattern(term: str) -> str:
    r"""A keyword as a regular expression: word boundaries where the keyword starts or ends with a word character
    of a spaced script, none next to CJK characters.

        >>> keyword_pattern("acme"), keyword_pattern("敏感词")
        ('\\bacme\\b', '敏感词')
    """
    body = re.escape(term)
    spaced = re.compile(rf"[^\W{CJK}]")
    return (r"\b" if spaced.match(term[0]) else "") + body + (r"\b" if spaced.match(term[-1]) else "")


class BlocklistOptions(FilterOptions):
    path: str | None = option(None, "blocklist file: one keyword or re:PATTERN a line (relative to the config)")
    terms: list[str] = option([], "keywords or re:PATTERN entries given inline")
    fields: list[Literal["answer", "question"]] = option(["answer", "question"], "which texts to check")
    case_sensitive: bool = option(False, "match keywords and patterns case-sensitively")

    @model_validator(mode="after")
    def _something(self) -> BlocklistOptions:
        if not self.path and not self.terms:
            raise ValueError("give path (a blocklist file) or terms (a list of keywords)")
        return self


class BlocklistFilter(Filter):
    """Reject rows whose answer (or question) contains a blocked keyword or pattern."""

    name = "blocklist"
    description = "Drop rows with blocked keywords or regular expressions (from a file or inline)."
    Options = BlocklistOptions
    path_options = ("path",)
    reasons = ("blocklist_match",)

    def __init__(self, options=None, /, **kwargs) -> None:
        super().__init__(options, **kwargs)
        entries = [*(read_blocklist(self.options.path) if self.options.path else []), *self.options.terms]
        patterns = [e[3:] if e.startswith("re:") else keyword_pattern(e) for e in entries]
        flags = 0 if self.options.case_sensitive else re.IGNORECASE
        compile_patterns(self.name, "path" if self.options.path else "terms",
                         [e[3:] for e in entries if e.startswith("re:")], flags)
        self._pattern = re.compile("|".join(f"(?:{p})" for p in patterns), flags) if patterns else None

    def filter(self, record):
        if self._pattern is None:
            return True
        for where in self.options.fields:
            found = self._pattern.search(self.answer(record) if where == "answer" else self.question(record))
            if found:
                return Decision(False, "blocklist_match", detail=f"{where}: {found.group(0)}")
        return True
