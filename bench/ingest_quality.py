"""Ingest quality on real documents: `synth ingest` per document, measured against independent signals.

    nice -n 10 .venv/bin/python bench/ingest_quality.py                       # bench/docs-corpus, this checkout
    nice -n 10 .venv/bin/python bench/ingest_quality.py --baseline /tmp/before   # and an older checkout beside it

The corpus (bench/docs-corpus/, listed with origin, commit and licence in bench/docs-corpus/SOURCES.md)
holds real third-party documents; nothing in it was written for synth. Per document it prints and
writes (``--json``):

- ``span_err``: chunks whose text is not ``document.text[start:end]`` (must be 0);
- ``junk_h``: share of chunks whose heading path holds a junk heading: a table/figure row (mostly
  digits, or three number groups), a table-of-contents line (dot leaders, or a title ending in a page
  number), page furniture (a line pdftotext shows at the top or bottom of many pages, a page number),
  a sentence ending in a comma or colon, a URL, or an over-long "heading" (wider than 120 half-width cells);
- ``outline-ok``: for PDFs with an outline (bookmarks), the share of chunks whose heading path agrees
  with it (each heading an outline entry, nested as in the outline; a first heading may be the title);
- ``furn``: lines of page furniture left in the chunks (found independently: lines pdftotext puts in
  the top/bottom three lines of at least a third of the pages, digits folded, and bare page numbers
  there), and ``furn_ch`` the share of chunks holding one;
- ``mid``: share of chunk ends that fall inside a line, neither at a sentence end nor at a line end;
- ``broken``: broken text: ligatures (ﬁ ﬂ …), NUL bytes, numbers split by a space after a separator
  (``567. 60``, ``211. 152``), long glued Latin words pdftotext does not have, hyphen-split words;
- ``lost``: share of pdftotext's non-space characters (NFKC) missing from the document text (PDF);
- HTML: ``P``/``R`` of the document text against a reference text of the page's visible article
  (bench/docs-corpus/refs/NAME.txt, character bigrams for Chinese, words otherwise; see SOURCES.md for
  how each reference was made);
- ``ms/p``: ingest time (read + split) per page (PDF) or per document; PDFs read by OCR are timed apart.

Files that cannot be read are listed with the reason (encrypted with a user password, scanned).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "bench" / "docs-corpus"
FURNITURE_ZONE = 3
LIGATURES = "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"
_DIGITS = re.compile(r"\d+")
_WS = re.compile(r"\s+")
_PAGE_NUMBER = re.compile(r"^[-–—‒_\s]*(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?[-–—‒_\s]*$|^第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?$"
                          r"|^共\s*\d+\s*页\s*第\s*\d+\s*页$|^[ivxlc]{1,6}$", re.IGNORECASE)
_SPLIT_NUMBER = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})+\.\s+\d|https?://[\d.]*\d\.\s+\d")
_HYPHEN_SPLIT = re.compile(r"\b[a-z]{2,}- [a-z]{2,}\b")
_LATIN_WORD = re.compile(r"[A-Za-z]{18,}")
_HAN = re.compile(r"[\u3400-\u9fff]")


def load_synth(code: Path | None):
    """Import synth.ingest from ``code`` (another checkout) or from this one, in this process."""
    for name in [m for m in sys.modules if m == "synth" or m.startswith("synth.")]:
        del sys.modules[name]
    root = str(code or REPO)
    sys.path.insert(0, root)
    try:
        import synth.ingest as ingest  # noqa: PLC0415
    finally:
        sys.path.remove(root)
    assert Path(ingest.__file__).resolve().is_relative_to(Path(root).resolve()), ingest.__file__
    return ingest


def pdftotext_pages(path: Path) -> list[str] | None:
    if not shutil.which("pdftotext"):
        return None
    try:
        out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                             timeout=120, check=True).stdout.decode("utf-8", "replace")
    except (subprocess.SubprocessError, OSError):
        return None
    return out.split("\f")[:-1] if "\f" in out else [out]


def fold(line: str) -> str:
    return _DIGITS.sub("#", _WS.sub("", unicodedata.normalize("NFKC", line)))


def furniture(pages: list[str]) -> tuple[set[str], bool]:
    """Keys (folded) of running lines in pdftotext's top/bottom zones, and whether the PDF has page
    numbers there."""
    counts: Counter[str] = Counter()
    numbered = 0
    for page in pages:
        lines = [ln.strip() for ln in page.split("\n") if ln.strip()]
        zone = lines[:FURNITURE_ZONE] + lines[-FURNITURE_ZONE:]
        counts.update({fold(ln) for ln in zone})
        numbered += any(_PAGE_NUMBER.match(ln) for ln in zone)
    need = max(3, len(pages) / 3)
    keys = {k for k, n in counts.items() if n >= need and k and not _PAGE_NUMBER.match(k.replace("#", "1"))}
    return keys, numbered >= max(2, len(pages) / 3)


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def is_junk_heading(h: str, furn: set[str], lines: set[str]) -> str | None:
    """Why a heading is junk (table/figure row, TOC line, page furniture, over-long), else None.
    ``lines``: the document's lines, stripped (a TOC entry's title stands as a line elsewhere too)."""
    s = h.lstrip("#").strip()
    compact = _WS.sub("", s)
    if not compact:
        return "empty"
    if _width(s) > 120:
        return "long"
    if _PAGE_NUMBER.match(s) or fold(s) in furn or re.match(r"^\d{1,4}\s+\d+(?:\.\d+)*\.?\s+\S", s) \
            or re.search(r"https?://|www\.|^[\w.-]+\.(?:com|org|cn|net)\b|@\w+\.", s):
        return "furniture"  # a page number glued to a running header; a URL or address line
    if re.search(r"[:：,，;；。]$", s):
        return "sentence"
    if re.search(r"(?:\.{3,}|…{2,}|·{3,}|(?:\s?[.·]){4,})\s*\d+\s*$", s):
        return "toc"
    m = re.match(r"^(.*\S)\s+\d{1,4}$", s)
    if m and m.group(1).strip() in lines:  # "5 API 说明 20" where "5 API 说明" is the real heading
        return "toc"
    digits = sum(ch.isdigit() for ch in compact)
    letters = sum(ch.isalpha() for ch in compact)
    groups = len(re.findall(r"(?<![\d.])\d[\d,.]*(?![\d.])", s))
    if (digits >= 2 and digits >= 2 * letters) or (groups >= 3 and digits >= letters):
        return "table"
    return None


def _norm_title(s: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", s)).lower()


def pdf_outline(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(title, ancestor titles) of every outline (bookmark) entry, normalised; [] without one."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            reader.decrypt("")
        out: list[tuple[str, tuple[str, ...]]] = []

        def walk(items, parents):
            last = None
            for item in items:
                if isinstance(item, list):
                    walk(item, parents + ((last,) if last else ()))
                else:
                    last = _norm_title(item.title)
                    out.append((last, parents))
        walk(reader.outline, ())
        return [o for o in out if o[0]]
    except Exception:
        return []


def outline_ok(path_headings: list[str], outline: list[tuple[str, tuple[str, ...]]], title: str) -> bool:
    """A chunk's heading path agrees with the PDF's own outline: each heading is an outline entry
    (numbering and spacing aside) under the heading before it; a first heading may be the title."""
    prev = None
    for i, h in enumerate(path_headings):
        n = _norm_title(h)
        if i == 0 and title and n == title:
            continue
        hits = [anc for t, anc in outline if t == n or (len(t) >= 4 and (n.endswith(t) or t.endswith(n) and len(n) >= 4))]
        if not hits:
            return False
        if prev is not None and not any(prev in anc for anc in hits):
            return False
        prev = next((t for t, anc in outline if t == n or (len(t) >= 4 and (n.endswith(t) or t.endswith(n) and len(n) >= 4))), n)
    return True


def bag(text: str, zh: bool) -> Counter:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"^#+\s+", "", text, flags=re.MULTILINE)
    if zh:
        chars = [ch for ch in text if ch.isalnum()]
        return Counter(a + b for a, b in zip(chars, chars[1:]))
    return Counter(w.lower() for w in re.findall(r"\w+", text))


def overlap(ext: Counter, ref: Counter) -> tuple[float, float]:
    common = sum((ext & ref).values())
    return (common / max(1, sum(ext.values())), common / max(1, sum(ref.values())))


def broken(text: str, reference_words: set[str] | None) -> Counter:
    c = Counter()
    c["ligature"] = sum(text.count(ch) for ch in LIGATURES)
    c["nul"] = text.count("\x00")
    c["split_number"] = len(_SPLIT_NUMBER.findall(text))
    c["hyphen_split"] = len(_HYPHEN_SPLIT.findall(text))
    if reference_words is not None:
        c["glued"] = sum(1 for w in _LATIN_WORD.findall(text) if w.lower() not in reference_words)
    return c


def measure_document(ingest, path: Path, refs: Path) -> dict:
    row: dict = {"doc": path.name, "format": path.suffix.lstrip(".")}
    report = ingest.IngestReport()
    started = time.perf_counter()
    docs = []
    try:
        for item in ingest.iter_document_chunks([path], ingest.IngestOptions(), report):
            docs.append(item)
    except Exception as exc:  # nothing readable: InputError at the end (the reason is in the report)
        if not report.skipped:
            row["skipped"] = f"error {type(exc).__name__}: {exc}"
            return row
    seconds = time.perf_counter() - started
    if not docs:
        row["skipped"] = report.skipped[0][1] if report.skipped else "?"
        return row
    document, chunks = docs[0]
    text = document.text
    pages = len(document.page_starts or ()) or 1
    row.update(chunks=len(chunks), pages=pages, ms_per_page=1000 * seconds / pages,
               ocr_pages=len(getattr(document, "ocr_pages", None) or ()))
    row["span_err"] = sum(1 for c in chunks if text[c["start"]:c["end"]] != c["text"])
    ptt = pdftotext_pages(path) if path.suffix.lower() == ".pdf" else None
    furn_keys, numbered = furniture(ptt) if ptt and len(ptt) >= 3 else (set(), False)
    lines = {ln.strip().lstrip("#").strip() for ln in text.split("\n")}
    junk = Counter()
    for c in chunks:
        kinds = {is_junk_heading(h, furn_keys, lines) for h in c["headings"]} - {None}
        for k in kinds:
            junk[k] += 1
        if kinds:
            junk["any"] += 1
    row["junk_h"] = junk["any"] / max(1, len(chunks))
    row["junk_kinds"] = {k: v for k, v in junk.items() if k != "any"}
    row["junk_examples"] = sorted({h for c in chunks for h in c["headings"] if is_junk_heading(h, furn_keys, lines)})[:5]
    outline = pdf_outline(path) if path.suffix.lower() == ".pdf" else []
    if outline:
        title = ""
        try:
            from pypdf import PdfReader
            meta = PdfReader(path).metadata
            title = _norm_title((meta.title if meta else "") or "")
        except Exception:
            pass
        row["outline_ok"] = sum(outline_ok(c["headings"], outline, title) for c in chunks) / max(1, len(chunks))
    furn_lines = 0
    furn_chunks = 0
    for c in chunks:
        n = 0
        for ln in c["text"].split("\n"):
            s = ln.strip()
            if not s:
                continue
            if (furn_keys and fold(s) in furn_keys) or (numbered and _PAGE_NUMBER.match(s)):
                n += 1
        furn_lines += n
        furn_chunks += n > 0
    row["furn"] = furn_lines
    row["furn_ch"] = furn_chunks / max(1, len(chunks))
    mids = 0
    for c in chunks:
        end = c["end"]
        if end >= len(text) or text[end] == "\n" or text[c["start"]:end].rstrip()[-1:] in "。！？!?；;.:：”’」』）)]】|":
            continue
        mids += 1
    row["mid"] = mids / max(1, len(chunks))
    ref_words = None
    if ptt is not None:
        ptt_text = unicodedata.normalize("NFKC", "\n".join(ptt))
        ref_words = {w.lower() for w in re.findall(r"[A-Za-z]+", ptt_text)}
        want = Counter(ch for ch in ptt_text if not ch.isspace())
        have = Counter(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace())
        row["lost"] = 1 - sum((want & have).values()) / max(1, sum(want.values()))
    b = broken(text, ref_words)
    row["broken"] = sum(b.values())
    row["broken_kinds"] = {k: v for k, v in b.items() if v}
    ref = refs / (path.stem + ".txt")
    if path.suffix.lower() in (".html", ".htm") and ref.exists():
        ref_text = ref.read_text(encoding="utf-8")
        ref_text = "\n".join(ln for ln in ref_text.split("\n") if not ln.startswith("%"))  # % lines: the label
        zh = len(_HAN.findall(ref_text)) > len(ref_text) / 4
        row["P"], row["R"] = overlap(bag(text, zh), bag(ref_text, zh))
    return row


def run(code: Path | None, files: list[Path], refs: Path) -> list[dict]:
    ingest = load_synth(code)
    return [measure_document(ingest, f, refs) for f in files]


def summary(rows: list[dict]) -> dict:
    read = [r for r in rows if "skipped" not in r]
    chunks = sum(r["chunks"] for r in read)
    pdf = [r for r in read if r["format"] == "pdf" and not r.get("ocr_pages")]
    ocr = [r for r in read if r.get("ocr_pages")]
    html = [r for r in read if "P" in r]
    out = {
        "documents": len(rows), "read": len(read), "skipped": len(rows) - len(read), "chunks": chunks,
        "span_err": sum(r["span_err"] for r in read),
        "junk_h": sum(r["junk_h"] * r["chunks"] for r in read) / max(1, chunks),
        "furn_lines": sum(r["furn"] for r in read),
        "furn_ch": sum(r["furn_ch"] * r["chunks"] for r in read) / max(1, chunks),
        "mid": sum(r["mid"] * r["chunks"] for r in read) / max(1, chunks),
        "broken": sum(r["broken"] for r in read),
        "pdf_pages": sum(r["pages"] for r in pdf),
        "pdf_ms_per_page": sum(r["ms_per_page"] * r["pages"] for r in pdf) / max(1, sum(r["pages"] for r in pdf)),
        "lost": sum(r.get("lost", 0) for r in pdf) / max(1, len(pdf)),
    }
    if ocr:
        out["ocr_pages"] = sum(r["ocr_pages"] for r in ocr)
        out["ocr_s_per_page"] = sum(r["ms_per_page"] * r["pages"] for r in ocr) / 1000 / max(1, out["ocr_pages"])
    with_outline = [r for r in read if "outline_ok" in r]
    if with_outline:
        n = sum(r["chunks"] for r in with_outline)
        out["outline_ok"] = sum(r["outline_ok"] * r["chunks"] for r in with_outline) / max(1, n)
        out["outline_docs"] = len(with_outline)
    if html:
        out["html_P"] = sum(r["P"] for r in html) / len(html)
        out["html_R"] = sum(r["R"] for r in html) / len(html)
        out["html_min_P"] = min(r["P"] for r in html)
        out["html_min_R"] = min(r["R"] for r in html)
    return out


def fmt(r: dict | None) -> str:
    if r is None:
        return "—"
    if "skipped" in r:
        return "skipped: " + r["skipped"][:60]
    parts = [f"{r['chunks']} ch", f"err {r['span_err']}", f"junk {r['junk_h']:.0%}", f"furn {r['furn']}/{r['furn_ch']:.0%}",
             f"mid {r['mid']:.0%}", f"broken {r['broken']}"]
    if "lost" in r:
        parts.append(f"lost {r['lost']:.1%}")
    if "outline_ok" in r:
        parts.append(f"outline-ok {r['outline_ok']:.0%}")
    if "P" in r:
        parts.append(f"P {r['P']:.2f} R {r['R']:.2f}")
    parts.append(f"{r['ms_per_page']:.0f} ms/p")
    return ", ".join(parts)


def cell(r: dict) -> str:
    if "skipped" in r:
        return "skipped"
    out = f"{r['chunks']} · {r['junk_h']:.0%} · {r['furn']} · {r['mid']:.0%} · {r['broken']}"
    if "lost" in r:
        out += f" · lost {r['lost']:.1%}"
    if "outline_ok" in r:
        out += f" · ol {r['outline_ok']:.0%}"
    if "P" in r:
        out += f" · P {r['P']:.2f} R {r['R']:.2f}"
    if r.get("ocr_pages"):
        out += f" · OCR {r['ocr_pages']} p"
    return out + f" · {r['ms_per_page']:.0f} ms"


def markdown(files: list[Path], results: dict[str, list[dict]]) -> str:
    """The per-document table for RESULTS.md: chunks · junk headings · furniture lines · mid-line
    ends · broken · lost vs pdftotext · outline-ok · HTML P/R · ms per page."""
    labels = list(results)
    lines = ["| document | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for i, f in enumerate(files):
        lines.append(f"| {f.name} | " + " | ".join(cell(results[k][i]) for k in labels) + " |")
    return "\n".join(lines)


def speed(baseline: Path | None, files: list[Path], rounds: int) -> None:
    """Read + split time per PDF page, best of ``rounds`` runs alternating this checkout and the
    baseline in one process, OCR off (the baseline has none)."""
    best: dict[str, dict[str, float]] = {}
    labels = (["before"] if baseline else []) + ["after"]
    for _ in range(rounds):
        for label in labels:
            ingest = load_synth(baseline if label == "before" else None)
            try:
                import synth.ingest.ocr as ocr_module  # noqa: PLC0415
                ocr_module._engine = lambda: None
            except ImportError:
                pass
            from synth.ingest.split import split_text  # noqa: PLC0415
            for f in files:
                started = time.perf_counter()
                try:
                    doc = ingest.read_document(f)
                except Exception:
                    continue
                split_text(doc.text, 1500, markdown=doc.markdown)
                ms = 1000 * (time.perf_counter() - started) / max(1, len(doc.page_starts or ()))
                best.setdefault(label, {})[f.name] = min(best.get(label, {}).get(f.name, 1e9), ms)
    for label in labels:
        rows = best.get(label, {})
        print(f"speed {label}: " + ", ".join(f"{k} {v:.1f}" for k, v in rows.items())
              + f"; mean {sum(rows.values()) / max(1, len(rows)):.1f} ms/page")
    if baseline and best.get("before") and best.get("after"):
        common = best["before"].keys() & best["after"].keys()
        ratio = sum(best["after"][k] for k in common) / sum(best["before"][k] for k in common)
        print(f"speed after/before: {ratio:.2f}x over {len(common)} PDFs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--baseline", type=Path, help="another checkout (e.g. git archive of an older commit) "
                        "measured first, in the same run")
    parser.add_argument("--only", help="substring of file names to measure")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "out" / "ingest_quality.json")
    parser.add_argument("--speed", type=int, metavar="ROUNDS", help="only time read + split per PDF page, "
                        "best of ROUNDS alternating runs (with --baseline: both checkouts), OCR off")
    parser.add_argument("--markdown", action="store_true", help="print the per-document table for RESULTS.md")
    parser.add_argument("--verbose", "-v", action="store_true", help="junk heading examples and broken kinds")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"no corpus at {args.corpus}: see bench/docs-corpus/SOURCES.md for where each document comes from")
    files = sorted(p for p in args.corpus.iterdir() if p.is_file() and p.name != "SOURCES.md" and p.suffix.lower() in
                   (".pdf", ".docx", ".html", ".htm", ".pptx", ".xlsx", ".md", ".txt", ".epub"))
    if args.only:
        files = [f for f in files if args.only in f.name]
    refs = args.corpus / "refs"
    if args.speed:
        speed(args.baseline, [f for f in files if f.suffix.lower() == ".pdf"], args.speed)
        return
    os.environ.setdefault("SYNTH_QUIET", "1")
    results = {}
    if args.baseline:
        results["before"] = run(args.baseline, files, refs)
    results["after"] = run(None, files, refs)
    for i, f in enumerate(files):
        print(f"{f.name}")
        for label, rows in results.items():
            print(f"  {label:6} {fmt(rows[i])}")
            if args.verbose and "skipped" not in rows[i]:
                print(f"         junk {rows[i]['junk_kinds']} {rows[i]['junk_examples']} broken {rows[i]['broken_kinds']}")
    for label, rows in results.items():
        print(f"summary {label}: " + json.dumps({k: round(v, 4) if isinstance(v, float) else v
                                                 for k, v in summary(rows).items()}, ensure_ascii=False))
    if args.markdown:
        print(markdown(files, results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({k: {"rows": v, "summary": summary(v)} for k, v in results.items()},
                                    ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
