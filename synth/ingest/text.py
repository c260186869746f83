"""Text helpers for ingest: decoding files, newline normalisation, script-based language, PDF line joining.

Chinese government and factory documents still arrive as GBK/GB18030 text files, so decoding tries
UTF-8 first and then asks charset-normalizer (which recognises GBK even in a few characters); a
guess in the GB family is decoded as GB18030, the superset that also covers characters GBK lacks.
"""

from __future__ import annotations

import re
import unicodedata

from synth.dedup.normalize import CJK_RANGES
from synth.text import HAN, script_language

_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936"}
_CJK_LOOKALIKES = {"big5", "big5hkscs", "cp950", "cp949", "euckr", "johab", "eucjp", "shiftjis", "cp932",
                   "iso2022jp", "iso2022kr"}
_HAN = re.compile(f"[{HAN}\U00020000-\U0002fa1f]")
_CJK_CHAR = re.compile(f"[{CJK_RANGES}]")


class UndecodableText(ValueError):
    """The bytes are not text in any encoding we can recognise."""


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a text file's bytes: UTF-8 (BOM dropped), else charset-normalizer's guess.

    >>> decode("质量".encode("gb18030"))
    ('质量', 'gb18030')
    >>> decode(b"\\xef\\xbb\\xbfplain")
    ('plain', 'utf-8')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UndecodableText("binary data (NUL bytes), not a text file")
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    guess = best.encoding.lower().replace("_", "") if best is not None else ""
    if guess in _GB_FAMILY:  # GB18030 decodes every GBK/GB2312 file, and characters GBK lacks
        return data.decode("gb18030", errors="replace"), "gb18030"
    try:
        gb = data.decode("gb18030")
    except UnicodeDecodeError:
        gb = None
    # a few characters of GBK are easily taken for Big5/CP949: keep the reading that is common
    # simplified Chinese
    if gb is not None and (best is None or guess in _CJK_LOOKALIKES) and \
            common_han_share(gb) >= 0.8 and (best is None or common_han_share(gb) > common_han_share(str(best))):
        return gb, "gb18030"
    if best is None:
        raise UndecodableText("unknown text encoding; re-save the file as UTF-8")
    return str(best), best.encoding


def common_han_share(text: str) -> float:
    """Share of Han characters among the 3,755 most common ones (GB2312 level 1): near 1 for
    simplified Chinese read in the right encoding, low for the same bytes read in another.

    >>> common_han_share("质量"), common_han_share("窐講")
    (1.0, 0.0)
    """
    han = _HAN.findall(text)
    if not han:
        return 0.0
    common = 0
    for ch in han:
        try:
            code = ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        common += 0xB0 <= code[0] <= 0xD7
    return common / len(han)


def normalize_newlines(text: str) -> str:
    r"""``\r\n`` and ``\r`` become ``\n``; other characters are kept as they are.

    >>> normalize_newlines("a\r\nb\rc")
    'a\nb\nc'
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


def detect_lang(text: str) -> str:
    """A chunk's language by script (`synth.text.script_language` on its first 4,000 characters):
    zh, ja, ko, ru, ar, en (any Latin script) or und.

    >>> detect_lang("设备点检规程 (SOP-01)"), detect_lang("Check the oil level."), detect_lang("12.5")
    ('zh', 'en', 'und')
    """
    return script_language(text[:4000]) or "und"


def is_cjk(ch: str) -> bool:
    """True for one Chinese/Japanese/Korean character (punctuation excluded)."""
    return bool(ch) and _CJK_CHAR.match(ch) is not None


def is_cjk_or_fullwidth(ch: str) -> bool:
    """CJK characters and full-width punctuation (。，、“” …): text that joins without a space."""
    if not ch:
        return False
    return is_cjk(ch) or unicodedata.east_asian_width(ch) in ("W", "F")


def display_width(line: str) -> int:
    """Width in half-width cells: a CJK or full-width character counts two (how wide a PDF line is).

    >>> display_width("点检 OK")
    7
    """
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)


def join_wrapped(left: str, right: str) -> str:
    """The separator that joins a hard-wrapped line to the next: none next to CJK text (Chinese
    sets no spaces, also not around Latin terms), a space between Latin words, and none after a
    hyphen that splits a word (the caller removes the hyphen).

    >>> join_wrapped("设备", "点检"), join_wrapped("the", "line"), join_wrapped("mainte-", "nance")
    ('', ' ', '')
    """
    if is_cjk_or_fullwidth(left[-1:]) or is_cjk_or_fullwidth(right[:1]) or is_hyphenated(left, right):
        return ""
    return " "


def is_hyphenated(left: str, right: str) -> bool:
    """A Latin word split across lines with a hyphen: ``mainte-`` + ``nance``."""
    return len(left) >= 2 and left[-1] == "-" and left[-2].isalpha() and right[:1].islower()
