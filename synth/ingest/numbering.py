"""Word's automatic numbering: the labels (``1``, ``4.1``, ``第一章``, ``（一）``, ``a)``) Word draws
in front of numbered paragraphs and headings but does not store in their text.

A paragraph is numbered through ``w:numPr`` (``w:numId`` + ``w:ilvl``) in its own properties or in
its style (and the styles that style is based on). ``numbering.xml`` maps the numId to an abstract
numbering whose level ``ilvl`` says where to start, the number format and the label pattern
(``%1.%2``). Counters run per abstract numbering, a deeper level restarting when a higher one
advances, as Word does; a num's ``w:startOverride`` restarts its list. Bullets get no label.
"""

from __future__ import annotations

_CN_DIGITS = "〇一二三四五六七八九"


def _chinese(n: int) -> str:
    """一 … 九十九 … (Word's chineseCounting, for the numbers documents use).

    >>> [_chinese(n) for n in (1, 10, 12, 20, 105)]
    ['一', '十', '十二', '二十', '一百零五']
    """
    if n <= 0:
        return str(n)
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        tail = "" if not rest else ("零" + _chinese(rest) if rest < 10 else
                                    ("一" + _chinese(rest) if rest < 20 else _chinese(rest)))
        return _CN_DIGITS[n // 100] + "百" + tail
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                           (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out += letters
            n -= value
    return out


def _letter(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else str(n)


def format_number(n: int, fmt: str) -> str | None:
    """One counter in a Word number format; None for a bullet.

    >>> [format_number(3, f) for f in ("decimal", "upperRoman", "lowerLetter", "chineseCounting",
    ...                                "decimalEnclosedCircle", "decimalZero", "bullet")]
    ['3', 'III', 'c', '三', '③', '03', None]
    """
    if fmt == "bullet":
        return None
    if fmt in ("none", ""):
        return ""
    if fmt in ("upperRoman", "lowerRoman"):
        return _roman(n).upper() if fmt == "upperRoman" else _roman(n)
    if fmt in ("upperLetter", "lowerLetter"):
        return _letter(n).upper() if fmt == "upperLetter" else _letter(n)
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified", "ideographTraditional",
               "taiwaneseCounting", "taiwaneseCountingThousand", "japaneseCounting"):
        return _chinese(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt == "decimalFullWidth":
        return "".join(chr(0xFF10 + int(d)) for d in str(n))
    return str(n)


class Numbering:
    """Labels for the numbered paragraphs of one document, in body order."""

    def __init__(self, document) -> None:
        from docx.oxml.ns import qn

        self._qn = qn
        self.abstract: dict[str, dict[int, dict]] = {}
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.started: set[str] = set()
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        for abstract in root.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in abstract.findall(qn("w:lvl")):
                ilvl = int(lvl.get(qn("w:ilvl"), "0"))
                levels[ilvl] = {"start": int(self._val(lvl, "w:start") or 1), "fmt": self._val(lvl, "w:numFmt") or "decimal",
                                "text": self._val(lvl, "w:lvlText") or "", "suff": self._val(lvl, "w:suff") or "tab",
                                "legal": lvl.find(qn("w:isLgl")) is not None}
            self.abstract[abstract.get(qn("w:abstractNumId"))] = levels
        for num in root.findall(qn("w:num")):
            overrides = {}
            for over in num.findall(qn("w:lvlOverride")):
                start = self._val(over, "w:startOverride")
                if start is not None:
                    overrides[int(over.get(qn("w:ilvl"), "0"))] = int(start)
            self.nums[num.get(qn("w:numId"))] = (self._val(num, "w:abstractNumId"), overrides)

    def _val(self, element, tag: str) -> str | None:
        child = element.find(self._qn(tag))
        return child.get(self._qn("w:val")) if child is not None else None

    def _num_pr(self, paragraph) -> tuple[str, int] | None:
        qn = self._qn
        ppr = paragraph._p.pPr
        elements = [ppr] if ppr is not None else []
        style = paragraph.style
        while style is not None:
            elements.append(style.element.find(qn("w:pPr")))
            style = style.base_style
        num_id = ilvl = None
        for element in elements:
            pr = element.find(qn("w:numPr")) if element is not None else None
            if pr is None:
                continue
            if num_id is None and pr.find(qn("w:numId")) is not None:
                num_id = self._val(pr, "w:numId")
            if ilvl is None and pr.find(qn("w:ilvl")) is not None:
                ilvl = int(self._val(pr, "w:ilvl") or 0)
        if num_id is None or num_id == "0" or num_id not in self.nums:
            return None
        return num_id, ilvl or 0

    def label(self, paragraph) -> str:
        """The label Word shows before this paragraph (with its trailing space), or ""; advances the
        counters, so call it once per paragraph, in order."""
        found = self._num_pr(paragraph)
        if found is None:
            return ""
        num_id, ilvl = found
        abstract_id, overrides = self.nums[num_id]
        levels = self.abstract.get(abstract_id)
        if not levels or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(abstract_id, {})
        if num_id not in self.started:
            self.started.add(num_id)
            for level, start in overrides.items():
                counters[level] = start - 1
                for deeper in [k for k in counters if k > level]:
                    del counters[deeper]
        for level in range(ilvl):  # a level skipped over counts as its start, as Word shows it
            if level not in counters and level in levels:
                counters[level] = levels[level]["start"]
        counters[ilvl] = counters.get(ilvl, levels[ilvl]["start"] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        spec = levels[ilvl]
        if spec["fmt"] == "bullet":
            return ""
        text = spec["text"]
        for level in range(9):
            token = f"%{level + 1}"
            if token in text:
                lv = levels.get(level, {"start": 1, "fmt": "decimal"})
                value = counters.get(level, lv["start"])
                fmt = "decimal" if spec["legal"] else lv["fmt"]
                text = text.replace(token, format_number(value, fmt) or "")
        text = text.strip()
        if not text:
            return ""
        return text + ("" if spec["suff"] == "nothing" else " ")
