"""Sizing by the serving model's tokenizer (``--unit tokens``), through transformers' AutoTokenizer.

Token counts of the pieces are added up; a tokenizer may merge across a piece boundary, so a chunk
can differ from the sum by a token or two per piece. tiktoken is not used: it counts for GPT models,
not for the model that will read the chunks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from synth.errors import InputError


@functools.lru_cache(maxsize=4)
def token_lengths(name: str) -> Callable[[Sequence[str]], list[int]]:
    """A function mapping texts to their token counts under tokenizer ``name`` (a local directory,
    or a name already in the Hugging Face cache)."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise InputError("--unit tokens needs transformers: pip install transformers (or use --unit chars)") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
    except Exception as exc:  # OSError, ValueError, HF hub errors: all mean "cannot load it"
        raise InputError(f"cannot load tokenizer {name!r} ({type(exc).__name__}); give the serving model's "
                         "local directory (with tokenizer.json) or use --unit chars") from None

    def measure(texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        ids = tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
        return [len(x) for x in ids]

    return measure
