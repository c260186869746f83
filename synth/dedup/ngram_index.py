"""An incremental n-gram index: is this one new text contaminated by anything added before?

``decontaminate`` checks a whole table against benchmark files in bulk; this index answers text by
text, e.g. a recipe checking each generated problem against its seed and benchmark files *before*
paying to solve it. Tokens are those of ``normalize.tokens`` (width, case and punctuation folded), as
in open-r1's ``decontaminate.py`` / s1 (word n-grams, default 8) for spaced text; for Chinese, Japanese
and Korean each character is a token (``cjk_ngram``, default 12, since one character carries less than
one English word). A text shorter than ``n`` tokens is one
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

from synth.dedup.decontam import load_benchmark
from synth.dedup.normalize import is_cjk, tokens
from synth.errors import ConfigError, InputError


class NgramIndex:
    """Shingles of reference texts; ``find(text)`` names the first reference sharing an n-gram with it."""

    def __init__(self, ngram: int = 8, cjk_ngram: int = 12) -> None:
        self.ngram, self.cjk_ngram = ngram, cjk_ngram
        self._grams: dict[str, str] = {}

    def _n(self, toks: list[str]) -> int:
        cjk = sum(1 for t in toks if is_cjk(t))
        return self.cjk_ngram if toks and cjk * 2 >= len(toks) else self.ngram

    def shingles(self, text: str) -> list[str]:
        toks = tokens(text or "")
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
    """Add ``FILE[:FIELD]`` benchmark files to ``index``, read as ``synth decontam`` reads them;
    relative paths are the caller's to resolve."""
    for spec in specs:
        try:
            name, ids, texts = load_benchmark(spec)
        except InputError as exc:  # here the files come from a recipe's options
            raise ConfigError(f"options.benchmarks: {exc}") from None
        for row_id, text in zip(ids, texts):
            if text:
                index.add(text, f"{name}:{row_id}")
