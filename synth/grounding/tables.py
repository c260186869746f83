"""A table value read with its row: a figure or cell the answer gives to one row must stand in that row.

A Markdown (or tab-separated) table states each figure of a cell about the entity its row names (its first
text cell) and under its column header. An answer built from the table's own figures can give a figure to
the wrong row ("PD 建议配置 16 核以上的 CPU" where 16 核 stands in the TiDB and TiKV rows and PD has 8 核):
every number and unit occurs in the chunk, and a restatement of a row shares few words with it, so neither
the number checks nor word overlap notice. The rule: when a claim of the answer names one or more row labels
of a table and states a figure that the table holds (same value and unit), or a text cell of it (万兆网卡),
that the chunk's running text does not, some row it names must hold that figure or cell.

>>> ctx = "| 组件 | CPU | 内存 |\\n| --- | --- | --- |\\n| TiDB | 16 核+ | 48 GB+ |\\n| PD | 8 核+ | 16 GB+ |"
>>> misplaced_figures("生产环境中 PD 建议配置 16 核以上的 CPU。", ctx)
['生产环境中 PD 建议配置 16 核以上的 CPU']
>>> misplaced_figures("PD 建议配置 8 核以上的 CPU 和 16 GB 以上内存。", ctx)
[]
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from synth.grounding.claims import _NUMERAL, _UNBINDING, _claim_parts, _claims, _terms
from synth.grounding.context import Context, as_context
from synth.grounding.numbers import Mention, _same, find_numbers

_SEP = re.compile(r"\t|\s\|\s|\|")
_RULE = re.compile(r"[-:\s|]+")
_TEXT = re.compile(r"[A-Za-z\u4e00-\u9fff]")


@dataclass
class Row:
    label: str           # the row's first text cell, case-folded
    numbers: list[Mention]
    terms: frozenset[str] = frozenset()  # the row's words under its column headers
    values: tuple[str, ...] = ()          # its text cells other than the label, cut at a bracket (万兆网卡)


def table_rows(text: str) -> tuple[list[list[Row]], list[Mention], str]:
    """The chunk's tables as lists of body rows (label, numbers, words, text cells), and the numbers and the
    case-folded text of its running text."""
    tables: list[list[Row]] = []
    running: list[str] = []
    current: list[Row] | None = None
    header: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        cells = [c.strip().strip("*`") for c in _SEP.split(stripped.strip("|"))] if stripped else []
        if len(cells) < 2 or ("|" not in stripped and "\t" not in stripped):
            current = None
            running.append(line)
            continue
        if _RULE.fullmatch(stripped):
            continue
        if current is None:  # the title above the table names what every row is about
            title = next((ln for ln in reversed(running[-2:]) if ln.strip()), "")
            current, header = [], [title] + cells
            tables.append(current)
            continue  # the header row names columns, not an entity
        label = next((c for c in cells if _TEXT.search(c)), "")
        numbers = [m for m in find_numbers(" | ".join(cells), reference=True) if not m.label]
        words = " ".join(header + cells)
        values = tuple(v for v in (re.split(r"[（(<]", unicodedata.normalize("NFKC", c).casefold())[0].strip()
                                   for c in cells if c != label) if len(v) >= 2 and _TEXT.search(v))
        current.append(Row(unicodedata.normalize("NFKC", label).casefold(), numbers, frozenset(_terms(words)), values))
    prose = "\n".join(running)
    return [t for t in tables if t], find_numbers(prose, reference=True), unicodedata.normalize("NFKC", prose).casefold()


def misplaced_figures(answer: str, context: str | Context) -> list[str]:
    """Claims of ``answer`` that name rows of a table and state a figure of the table that none of those rows
    holds (and the running text does not state)."""
    ctx = as_context(context)
    tables, running, running_text = ctx.derived("table_rows", lambda c: table_rows(c.text))
    if not tables:
        return []
    out = []
    for claim in _claims(answer):
        folded = unicodedata.normalize("NFKC", claim).casefold()
        mentions = [m for m in find_numbers(claim) if not m.label]
        for rows in tables:
            named = [r for r in rows if len(r.label) >= 2 and _names(folded, r.label)]
            if not named or len(named) == len(rows):
                continue
            # a cell's text given to a named row that does not have it (万兆网卡 for the 千兆网卡 row)
            said = {v for r in rows for v in r.values if _says(folded, v)}
            if any(not any(v in rv for r in named for rv in r.values) and v not in running_text for v in said):
                out.append(claim)
                break
            for m in mentions:
                in_table = any(_same(m, n) for r in rows for n in r.numbers)
                if not in_table or any(_same(m, n) for n in running):
                    continue
                if not any(_same(m, n) for r in named for n in r.numbers):
                    out.append(claim)
                    break
            if out and out[-1] == claim:
                break
    for claim, own in _claim_parts(answer):
        if claim not in out and _own_clause_unbound(own, tables, running, ctx):
            out.append(claim)
    return out


def _own_clause_unbound(own: str, tables: list[list[Row]], running: list[Mention], ctx: Context,
                        share: float = 0.5) -> bool:
    """A clause stating a table figure ("状态信息上报端口是 20160") whose distinctive words are not, for the most
    part, in any row holding that figure: the figure was read from another row of the same entity."""
    mentions = [m for m in find_numbers(own) if not m.label and not any(_same(m, n) for n in running)]
    if not mentions:
        return False
    terms = _terms(own)
    words = {t for t in ctx.claims.distinctive(terms) if not _NUMERAL.search(t)} - _UNBINDING
    if not words:
        return False
    for m in mentions:
        rows = [r for t in tables for r in t if any(_same(m, n) for n in r.numbers)]
        if rows and not any(len(words & r.terms) >= share * len(words) for r in rows):
            return True
    return False


def _says(claim: str, value: str) -> bool:
    """The claim states a cell's text: a Chinese one as it stands, a Latin one of three or more letters as
    whole words ("no" is not in "node")."""
    if value.isascii():
        return len(value) >= 3 and re.search(r"(?<![a-z0-9])" + re.escape(value) + r"(?![a-z0-9])", claim) is not None
    return value in claim


def _names(claim: str, label: str) -> bool:
    """The claim names the row label as a word: "pd" in "pd 建议", not the "pd" of "update"."""
    at = claim.find(label)
    while at >= 0:
        before, after = claim[at - 1:at], claim[at + len(label):at + len(label) + 1]
        if not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum()):
            return True
        at = claim.find(label, at + 1)
    return False


@dataclass
class Cell:
    row: int                # the row's place among all body rows of the chunk
    column: int
    items: tuple[str, ...]  # the cell's text split at its list commas, case-folded
    numbers: list[Mention]
    header: str             # its column's header, case-folded


def table_cells(text: str) -> list[list[Cell]]:
    """Every body row of every table of the chunk as its cells, each with its column's header."""
    rows: list[list[Cell]] = []
    header: list[str] | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        cells = [c.strip().strip("*`") for c in _SEP.split(stripped.strip("|"))] if stripped else []
        if len(cells) < 2 or ("|" not in stripped and "\t" not in stripped):
            header = None
            continue
        if _RULE.fullmatch(stripped):
            continue
        if header is None:
            header = [unicodedata.normalize("NFKC", c).casefold() for c in cells]
            continue
        row = []
        for k, cell in enumerate(cells):
            folded = unicodedata.normalize("NFKC", cell).casefold()
            items = tuple(i.strip() for i in re.split(r"[,，、;；]", re.split(r"[（(<]", folded)[0]) if i.strip())
            row.append(Cell(len(rows), k, items, [m for m in find_numbers(cell, reference=True) if not m.label],
                            header[k] if k < len(header) else ""))
        rows.append(row)
    return rows


def crossed_cells(answer: str, context: str | Context) -> list[str]:
    """Claims of ``answer`` that pair what one table row holds with what another row holds: a figure of another
    row given to the row the claim names by one of its own cells (the type m4.xlarge, not only the first cell),
    a figure given to a column whose header word stands beside it when the row has it under another column
    (8 vCPUs where the row has 2 under vCPUs and 8 under Memory), or a cell of one row joined in one clause to
    a cell of another row under another column (time, of the Date row, "maps to String").

    >>> ctx = "| Type | vCPUs | Memory (GB) |\\n|---|---|---|\\n| m4.large | 2 | 8 |\\n| m4.xlarge | 4 | 16 |"
    >>> crossed_cells("The m4.large has 8 vCPUs and 2 GB of memory.", ctx)
    ['The m4.large has 8 vCPUs and 2 GB of memory']
    >>> crossed_cells("The m4.large has 2 vCPUs and 8 GB of memory.", ctx)
    []
    """
    ctx = as_context(context)
    rows = ctx.derived("table_cells", lambda c: table_cells(c.text))
    if len(rows) < 2:
        return []
    _, running, _ = ctx.derived("table_rows", lambda c: table_rows(c.text))
    owners: dict[str, set[int]] = {}
    for row in rows:
        for cell in row:
            for item in cell.items:
                if _TEXT.search(item) and len(item) >= 2:
                    owners.setdefault(item, set()).add(cell.row)
    unique = {item: next(iter(r)) for item, r in owners.items() if len(r) == 1}
    out = []
    for claim, own in _claim_parts(answer):
        own_f, claim_f = (unicodedata.normalize("NFKC", t).casefold() for t in (own, claim))
        # a clause naming no row reads its figures with the row the clause before it names
        if _crossed(own_f, own_f, rows, unique, running) or _crossed(claim_f, own_f, rows, unique, running, pairs=False):
            if claim not in out:
                out.append(claim)
    return out


def _crossed(naming: str, stating: str, rows: list[list[Cell]], unique: dict[str, int], running: list[Mention],
             pairs: bool = True) -> bool:
    """``naming`` names rows by their own cells; ``stating`` gives them a figure another row holds, or under
    another column, or (``pairs``) joins cells of two rows under two columns."""
    said = [(item, r) for item, r in unique.items() if _says(naming, item)]
    said = [(item, r) for item, r in said if not any(item != other and item in other for other, _ in said)]
    named = {r for _, r in said}
    if not named or len(named) == len(rows):
        return False
    for m in (m for m in find_numbers(stating) if not m.label):
        if any(_same(m, n) for n in running):
            continue
        holders = [c for row in rows for c in row if any(_same(m, n) for n in c.numbers)]
        if not holders:
            continue
        mine = [c for c in holders if c.row in named]
        if not mine:
            return True  # a figure of another row only
        beside = _beside(stating, m)
        columns = {c.column for c in rows[mine[0].row] if beside and _header_says(c.header, beside)}
        if len(columns) == 1 and not any(c.column in columns for c in mine):
            return True  # the header word beside the figure names another column of the row
    if pairs and len(named) >= 2:
        where = {(r, next(c.column for c in rows[r] if item in c.items)) for item, r in said}
        for r1, c1 in where:
            for r2, c2 in where:
                if r1 != r2 and c1 != c2 and (r1, c2) not in where and (r2, c1) not in where:
                    return True
    return False


def _beside(folded: str, m: Mention) -> str:
    """The word written right after a figure (its unit or what it counts: 8 vCPUs, 2 GB, 8 个字节)."""
    after = re.match(r"\s*(?:个|位)?\s*([a-z][a-z/]*|[\u4e00-\u9fff]{1,2})", folded[m.end:])
    return after.group(1) if after else ""


def _header_says(header: str, word: str) -> bool:
    words = re.findall(r"[a-z][a-z/]*|[\u4e00-\u9fff]+", header)
    return any(w == word or (len(word) >= 2 and not word.isascii() and word in w) for w in words)
