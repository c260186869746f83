"""Text normalisation and tokenisation shared by exact dedup, MinHash and decontamination.

``normalize`` folds what a copy-editor or a model changes without changing the content: Unicode
compatibility forms (full-width ``ＡＢＣ１２３``, ligatures) via NFKC, case via ``casefold``, punctuation
and symbols, runs of whitespace, and traditional (and Taiwan/Hong Kong variant) Chinese characters
to simplified, one character for one (``synth.dedup.t2s``, from OpenCC's tables: ``頭髮`` -> ``头发``). ``tokens`` then splits spaced text into words and gives every
Chinese/Japanese/Korean character its own token, so one pass handles mixed text: word n-grams for the
spaced parts, character n-grams for the CJK parts.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from synth.text import CJK as CJK_RANGES  # Han, kana, Hangul: synth.text's one definition
_CJK = re.compile(f"[{CJK_RANGES}]")
# one pass: a single CJK character, or a run of word characters that are not CJK (\W is Unicode-aware,
# so digits and accented letters are word characters; "_" counts as punctuation)
_TOKEN = re.compile(f"[{CJK_RANGES}]|[^\\W_{CJK_RANGES}]+")
# ASCII fast path: letters and digits stay, every other ASCII character becomes a separator
# (the same tokens as the regex, about 1.8x faster: str.translate + split run in C without a regex)
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})
_CJK_OR_SPACE = re.compile(f"[{CJK_RANGES} ]*")
_WORD = re.compile(r"[^\W_]")


@functools.cache
def _traditional() -> dict[int, str]:
    """Traditional/variant character -> simplified character (str.translate table)."""
    from synth.dedup.t2s import SIMPLIFIED, TRADITIONAL

    return str.maketrans(TRADITIONAL, SIMPLIFIED)


@functools.cache
def _separators() -> dict[int, str]:
    """The one translate table of the non-ASCII path: traditional -> simplified characters, and
    ASCII non-alphanumerics, and BMP punctuation, symbols, spaces and controls that are separators
    before *and* after NFKC (e.g. "，" "。" "（" and newlines). Mapping them to a space first changes
    no token, and leaves most Chinese text already NFKC-normal and purely CJK, so the costly
    normalisation and the regex are skipped. Combining marks are excluded: NFKC would fuse them with
    the letter before. (tests/dedup/test_signatures.py checks the equivalence on mixed-script text.)"""
    table = {cp: " " for cp in range(0x80) if not chr(cp).isalnum()}
    for cp in range(0x80, 0x10000):
        ch = chr(cp)
        # unassigned, private-use and surrogate code points keep the slow (still correct) path
        if unicodedata.category(ch) in ("Cn", "Co", "Cs") or unicodedata.category(ch)[0] not in "PZSC" \
                or unicodedata.combining(ch):
            continue
        if _WORD.match(ch) is None and _WORD.search(unicodedata.normalize("NFKC", ch)) is None:
            table[cp] = " "
    table.update(_traditional())  # CJK characters: no separator among them
    return table


def tokens(text: str) -> list[str]:
    """Fold width (NFKC), case, punctuation, whitespace and traditional characters, then split into
    words; each CJK character is one token.

    >>> tokens("Ｈｅｌｌｏ, 世界 is big!")
    ['hello', '世', '界', 'is', 'big']
    >>> tokens("頭髮") == tokens("头发")
    True
    """
    if text.isascii():  # fast path: most English rows
        return text.lower().translate(_ASCII_SEPARATORS).split()
    text = text.translate(_separators())
    if not unicodedata.is_normalized("NFKC", text):
        # NFKC can yield a traditional character (CJK compatibility ideographs): fold after it too
        text = unicodedata.normalize("NFKC", text).translate(_traditional())
    text = text.casefold()
    if _CJK_OR_SPACE.fullmatch(text):  # pure Chinese/Japanese/Korean: one token per character
        return list(text.replace(" ", ""))
    return _TOKEN.findall(text)


def normalize(text: str) -> str:
    """The tokens joined by single spaces: ``"Ｈｅｌｌｏ,  World!"`` -> ``"hello world"``."""
    return " ".join(tokens(text))


def is_cjk(token: str) -> bool:
    """True for a single CJK character token."""
    return len(token) == 1 and _CJK.match(token) is not None
