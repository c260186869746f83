"""N-gram overlap check of new problems against their seed and local benchmark files.

Word n-grams (lower-cased, whitespace-normalised, as open-r1's ``decontaminate.py`` / s1, default 8) for
spaced text; for Chinese, Japanese and Korean each character is a token (``cjk_ngram``, default 12,
since one character carries less than one English word). A text shorter than ``n`` tokens is one
n-gram of all its tokens, so a copied short problem still matches. Any shared n-gram is a hit
(GPT-3 appendix C / lm-eval-harness rule).

Left out: the semantic stage (embedding retrieval + LLM "same problem?" judge, OpenMathInstruct-2,
lm-sys llm-decontaminator), which catches rephrasings that share no long n-gram; run-wide
decontamination against a whole seed file belongs to the pipeline's ``decontam`` stage (synth.dedup).

    >>> index = NgramIndex(4)
    >>> index.add("Tom has 3 apples and buys 5 more apples today.", "seed")
    >>> index.find("Sara has 3 apples and buys 5 more pears.")
    ('seed', 'has 3 apples and')
    >>> index.find("A train leaves at 5 pm.") is None
    True
"""

from __future__ import annotations

import re
from pathlib import Path

from synth.errors import ConfigError
from synth.io import read_rows

_TOKEN = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W_]+(?:[.,/][^\W_]+)*", re.UNICODE)
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_FIELDS = ("problem", "question", "instruction", "text")


def tokens(text: str) -> list[str]:
    return [t.casefold() for t in _TOKEN.findall(text or "")]


class NgramIndex:
    """Shingles of reference texts; ``find(text)`` names the first reference sharing an n-gram with it."""

    def __init__(self, ngram: int = 8, cjk_ngram: int = 12) -> None:
        self.ngram, self.cjk_ngram = ngram, cjk_ngram
        self._grams: dict[str, str] = {}

    def _n(self, toks: list[str]) -> int:
        cjk = sum(1 for t in toks if _CJK.fullmatch(t))
        return self.cjk_ngram if toks and cjk * 2 >= len(toks) else self.ngram

    def shingles(self, text: str) -> list[str]:
        toks = tokens(text)
        n = self._n(toks)
        if len(toks) <= n:
            return [" ".join(toks)] if toks else []
        return [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]

    def add(self, text: str, source: str) -> None:
        for gram in self.shingles(text):
            self._grams.setdefault(gram, source)

    def __len__(self) -> int:
        return len(self._grams)

    def find(self, text: str) -> tuple[str, str] | None:
        """``(source, shared n-gram)`` of the first hit, or ``None``."""
        for gram in self.shingles(text):
            if gram in self._grams:
                return self._grams[gram], gram
        return None


def load_benchmarks(specs: list[str], index: NgramIndex) -> None:
    """Add ``FILE[:FIELD]`` files (jsonl/json/csv/parquet; relative to the current directory) to ``index``."""
    for spec in specs:
        path, _, field = spec.partition(":")
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"options.benchmarks: {path} not found (relative paths start at the current "
                              f"directory {Path.cwd()}; give an absolute path)")
        rows = read_rows(p)
        name = field or next((f for f in _FIELDS if rows and f in rows[0]), None)
        if name is None:
            raise ConfigError(f"options.benchmarks: {path} has none of the fields {', '.join(_FIELDS)}: "
                              f"write it as {path}:FIELD")
        for i, row in enumerate(rows):
            if row.get(name):
                index.add(str(row[name]), f"{p.name}:{i}")
