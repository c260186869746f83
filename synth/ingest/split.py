"""Structure-aware splitting: sections, then paragraphs, then sentences, packed up to a size.

The text is cut into *atoms*: heading spans, and the sentences of each paragraph (a sentence that
alone exceeds the size is cut at line breaks, commas or spaces, a hard cut as the last resort,
never inside 《…》). Atoms are then packed greedily into chunks:

- a heading sticks to what follows it (a heading run such as a chapter followed by its first
  article goes with the first sentence), so no chunk is a heading alone;
- a new section starts a new chunk unless the whole section fits into the current one and shares
  its parent heading (sibling 第X条 under one 第X章 merge; two top-level chapters never share a
  chunk, top-level articles may);
- inside a section, sentences are added while they fit; a paragraph that does not fit whole starts
  a new chunk once the current one is half full;
- with overlap M, a chunk that continues a section starts with the last sentences (at most M units)
  of the previous chunk.

A chunk's ``headings`` is the heading path shared by everything in it. Every chunk is an exact
span: ``text[start:end]``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from synth.ingest.sentences import cut_point, protected_ranges, sentence_ends
from synth.ingest.structure import (ARTICLE_RANK, Heading, _title_like, chinese_heading, is_fence,
                                    markdown_heading)

SECTION, PARAGRAPH, SENTENCE, CUT = 3, 2, 1, 0  # strength of the boundary before an atom
_WS = " \t\n\u3000\r\f\v"


@dataclass(slots=True)
class Atom:
    start: int
    end: int
    brk: int
    rank: int  # 0 for text, else the heading's rank
    path: tuple[str, ...]
    units: int = 0


Measure = Callable[[Sequence[str]], list[int]]


def char_lengths(texts: Sequence[str]) -> list[int]:
    return [len(t) for t in texts]


def split_text(text: str, chunk_size: int = 1500, overlap: int = 0, *, markdown: bool = True,
               measure: Measure | None = None) -> list[dict]:
    """Chunks of ``text`` as ``{start, end, text, headings}`` with ``text == text[start:end]``.

    ``chunk_size`` and ``overlap`` count characters, or whatever ``measure`` counts (it maps a list
    of strings to their lengths, e.g. token counts). ``markdown``: ``#`` lines are headings.

    >>> doc = "第一章 总则\\n第一条 为规范设备点检，制定本规程。\\n第二条 本规程适用于冲压车间。"
    >>> [(c["headings"], c["text"][:9]) for c in split_text(doc, 20)]
    [(['第一章 总则', '第一条'], '第一章 总则\\n第一'), (['第一章 总则', '第二条'], '第二条 本规程适用')]
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    if not 0 <= overlap < chunk_size:
        raise ValueError("overlap must be at least 0 and smaller than chunk_size")
    measure = measure or char_lengths
    atoms = _atoms(text, chunk_size, markdown, measure)
    spans = _pack(atoms, chunk_size, overlap, chars=measure is char_lengths)
    return [{"start": atoms[i].start, "end": atoms[j].end, "text": text[atoms[i].start:atoms[j].end],
             "headings": list(_common_path(atoms, i, j))} for i, j in spans]


def _lines(text: str):
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def _title_line(text: str, markdown: bool) -> Heading | None:
    """A document title in text without Markdown: the first line, when it is title-like and the
    document has structural headings further down (so its chapters get a common parent)."""
    if markdown:
        return None
    first = None
    for offset, line in _lines(text):
        if not line.strip(_WS):
            continue
        if first is None:
            if not _title_like(line) or chinese_heading(line, offset)[1] or re.search("[:：]", line):
                return None  # "文件编号：QP-08" is document metadata, not its title
            indent = len(line) - len(line.lstrip(_WS))
            first = Heading(offset + indent, offset + len(line.rstrip(_WS)), 1, line.strip(_WS))
            continue
        if chinese_heading(line, offset)[0] is not None:
            return first
    return None


def _atoms(text: str, size: int, markdown: bool, measure: Measure) -> list[Atom]:
    ranges = protected_ranges(text)
    starts = [a for a, _ in ranges]
    atoms: list[Atom] = []
    stack: list[tuple[int, str]] = []
    block: list[int] = []  # [start, end] of the paragraph being collected
    pending = [PARAGRAPH]
    title = _title_line(text, markdown)

    def heading(h: Heading) -> None:
        while stack and stack[-1][0] >= h.rank:
            stack.pop()
        stack.append((h.rank, h.title))
        atoms.append(Atom(h.start, h.end, SECTION, h.rank, tuple(t for _, t in stack)))
        pending[0] = PARAGRAPH

    def flush() -> None:
        if block:
            _sentences(text, block[0], block[1], pending[0], tuple(t for _, t in stack), ranges, starts, atoms)
            block.clear()
        pending[0] = PARAGRAPH

    in_fence = False
    for offset, line in _lines(text):
        end = offset + len(line)
        if markdown and is_fence(line):
            in_fence = not in_fence
        elif not in_fence:
            if not line.strip(_WS):
                flush()
                continue
            if title is not None and offset <= title.start < end:
                flush()
                heading(title)
                continue
            h = markdown_heading(line, offset) if markdown else None
            starts_block = h is not None
            if h is None:
                h, starts_block = chinese_heading(line, offset, numbered=not markdown)
            if starts_block:
                flush()
            if h is not None:
                heading(h)
                rest = len(text[h.end:end]) - len(text[h.end:end].lstrip(_WS))
                if h.end + rest >= end:
                    continue
                offset = h.end + rest  # an article's text after its 第X条 label
        if block:
            block[1] = end
        else:
            block[:] = [offset, end]
    flush()
    _measure_and_cut(text, atoms, size, measure, ranges, starts)
    return atoms


def _sentences(text, start, end, brk, path, ranges, starts, atoms) -> None:
    prev = start
    for stop in [*sentence_ends(text, start, end, ranges, starts), end]:
        a, b = _trim(text, prev, stop)
        if a < b:
            atoms.append(Atom(a, b, brk, 0, path))
            brk = SENTENCE
        prev = stop


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] in _WS:
        a += 1
    while b > a and text[b - 1] in _WS:
        b -= 1
    return a, b


def _measure_and_cut(text, atoms, size, measure, ranges, starts) -> None:
    """Set each atom's size; cut text atoms longer than ``size`` into pieces that fit."""
    units = measure([text[a.start:a.end] for a in atoms])
    out = []
    for atom, n in zip(atoms, units):
        atom.units = n
        if n <= size or atom.rank:
            out.append(atom)
            continue
        pos, brk = atom.start, atom.brk
        while pos < atom.end:
            rest = measure([text[pos:atom.end]])[0]
            if rest <= size:
                out.append(Atom(pos, atom.end, brk, 0, atom.path, rest))
                break
            cut = cut_point(text, pos, _limit(text, pos, atom.end, size, measure), ranges, starts)
            a, b = _trim(text, pos, cut)
            if a < b:
                out.append(Atom(a, b, brk, 0, atom.path, measure([text[a:b]])[0]))
                brk = CUT
            pos = _trim(text, cut, atom.end)[0]
    atoms[:] = out


def _limit(text: str, start: int, end: int, size: int, measure: Measure) -> int:
    """The furthest position p with measure(text[start:p]) <= size (at least start + 1)."""
    if measure is char_lengths:
        return min(end, start + size)
    lo, hi = start + 1, end
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure([text[start:mid]])[0] <= size:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_path(atoms: list[Atom], i: int, j: int) -> tuple[str, ...]:
    """The heading path shared by the text atoms i..j (a heading's own path is the one of the text
    under it, so headings glued to their first sentence add nothing)."""
    text = [k for k in range(i, j + 1) if not atoms[k].rank] or [i]
    path = atoms[text[0]].path
    for k in text[1:]:
        other = atoms[k].path
        if other is path:
            continue
        n = 0
        while n < len(path) and n < len(other) and path[n] == other[n]:
            n += 1
        path = path[:n]
        if not path:
            break
    return path


def _pack(atoms: list[Atom], size: int, overlap: int, *, chars: bool) -> list[tuple[int, int]]:
    n = len(atoms)
    if not n:
        return []
    prefix = [0]
    for a in atoms:
        prefix.append(prefix[-1] + a.units)

    def units(i: int, j: int) -> int:  # size of atoms i..j with what lies between them
        return atoms[j].end - atoms[i].start if chars else prefix[j + 1] - prefix[i]

    heading_at = [k for k, a in enumerate(atoms) if a.rank]
    para_starts = [k for k, a in enumerate(atoms) if a.rank or a.brk >= PARAGRAPH]

    def next_in(marks: list[int], k: int) -> int:
        pos = bisect_left(marks, k)
        return marks[pos] if pos < len(marks) else n

    chunks: list[tuple[int, int]] = []
    cur: list[int] | None = None
    i = 0
    while i < n:
        j = i
        while j < n and atoms[j].rank:
            j += 1
        if j == n:  # headings with nothing after them: keep them with the chunk before
            if cur is None:
                cur = [i, n - 1]
            else:
                cur[1] = n - 1
            break
        if cur is None:
            cur, i = [i, j], j + 1
            continue
        if atoms[i].rank:  # a new section: everything up to the next heading of its rank or above
            section_end = _section_end(atoms, heading_at, i, j) - 1
            if units(cur[0], section_end) <= size and _may_join(atoms, cur, i):
                cur[1], i = section_end, section_end + 1
                continue
            chunks.append(tuple(cur))
            cur, i = [i, j], j + 1
            continue
        fits = units(cur[0], i) <= size
        if fits and not (atoms[i].brk >= PARAGRAPH and units(cur[0], cur[1]) * 2 >= size
                         and units(cur[0], next_in(para_starts, i + 1) - 1) > size):
            cur[1], i = i, i + 1
            continue
        chunks.append(tuple(cur))
        cur, i = [_overlap_start(atoms, cur, i, overlap, size, units), i], i + 1
    chunks.append(tuple(cur))
    return chunks


def _section_end(atoms: list[Atom], heading_at: list[int], i: int, j: int) -> int:
    """Index of the first heading after atom ``j`` that closes the section opened at atom ``i``."""
    rank = atoms[i].rank
    for k in heading_at[bisect_left(heading_at, j + 1):]:
        if atoms[k].rank <= rank:
            return k
    return len(atoms)


def _may_join(atoms: list[Atom], cur: list[int], h: int) -> bool:
    """A section may join the current chunk when its parent heading is shared by the chunk; at the
    top level only articles (第X条) may, so chapters and top-level sections stay apart."""
    parent = atoms[h].path[:-1]
    if not parent and atoms[h].rank != ARTICLE_RANK:
        return False
    return _common_path(atoms, cur[0], cur[1])[:len(parent)] == parent


def _overlap_start(atoms, cur, k, overlap, size, units) -> int:
    """The first atom of a chunk that continues at atom ``k``: up to ``overlap`` units of the last
    sentences of the chunk before, starting at a sentence boundary, in the same section."""
    best = k
    o = cur[1]
    while overlap and o > cur[0] and not atoms[o].rank and atoms[o].path == atoms[k].path:
        if units(o, cur[1]) > overlap or units(o, k) > size:
            break
        if atoms[o].brk >= SENTENCE:
            best = o
        o -= 1
    return best
