"""Ingest benchmark: `synth ingest` beside LangChain's splitter and pdfminer.six, same files, one run.

    .venv/bin/python bench/ingest.py                                  # 8 MB text, 60-page PDF, 50k chunks
    .venv/bin/python bench/ingest.py --mb 2 --scale-chunks 10000      # quick

Peers (bench only: pip install langchain-text-splitters pdfminer.six):
- splitting: ``RecursiveCharacterTextSplitter`` (langchain-text-splitters) at the same chunk size,
  with Chinese-aware separators (blank line, line, 。！？；, comma, space), as its docs suggest for
  CJK; speed in MB/s of text, and quality on the same chunks: share of chunks that end at a
  sentence end (or a line end), chunk boundaries inside ``4.0`` / ``10.5%`` / 《…》, mean size.
- PDF text: pdfminer.six ``extract_text`` (what synthetic-data-kit uses) against synth's reader
  (pypdf + header/footer removal + line joining) on a generated 60-page Chinese PDF, pages/s.
- scale: the `synth ingest` command on a generated corpus of about 50k chunks and on one a tenth of
  its size, each in its own process: MB/s and peak RSS (flat RSS = streaming).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLAUSES_ZH = ["操作工应在开机前检查润滑油位", "气源压力不低于0.5MPa", "依据《中华人民共和国安全生产法》第二十一条执行",
              "工业4.0时代的产线对点检提出了更高要求", "本月一次交检合格率为98.5%", "严禁短接或拆除安全光栅",
              "维修工应在30分钟内到达现场", "点检记录保存期限不少于三年", "填写《设备故障维修记录表》",
              "模具紧固螺栓无松动", "离合器摩擦片磨损量超过1.5 mm时应更换", "不合格品应在2小时内移入隔离区"]
CLAUSES_EN = ["the operator checks the oil level before every shift", "air pressure must stay above 0.5 MPa",
              "the slide stops within 10.5 mm after the light curtain trips", "see Fig. 3 for the wiring",
              "e.g. the 400-ton line runs at 85% load", "maintenance records are kept for three years"]
ENDS_ZH = ["。", "！", "；", "。”", "？"]
PROTECTED = re.compile(r"《[^《》\n]*》|\d+\.\d+%?")
CLOSERS = "”’」』）)\"'"
LANGCHAIN_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", ".", "!", "?", "，", ",", " ", ""]


def _sentence_zh(rnd: random.Random) -> str:
    body = "，".join(rnd.sample(CLAUSES_ZH, rnd.randint(1, 4)))
    end = rnd.choice(ENDS_ZH)
    return ("“" + body + end) if end.endswith("”") else body + end


def _sentence_en(rnd: random.Random) -> str:
    text = ", ".join(rnd.sample(CLAUSES_EN, rnd.randint(1, 3)))
    return text[0].upper() + text[1:] + "."


def make_text_corpus(folder: Path, mb: float, seed: int = 0, file_kb: int = 256) -> int:
    """Markdown (Chinese, some English) and GB-style plain-text regulations, about ``mb`` MB."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    total, n = 0, 0
    while total < mb * 1e6:
        n += 1
        lines: list[str] = []
        size = 0
        if n % 3:  # markdown manual
            lines += [f"# 作业指导书 {n}", ""]
            section = 0
            while size < file_kb * 1000:
                section += 1
                lines += [f"## {section} 第{section}部分", ""]
                for sub in range(1, rnd.randint(2, 4)):
                    lines += [f"### {section}.{sub} 要求", ""]
                    for _ in range(rnd.randint(1, 4)):
                        make = _sentence_en if rnd.random() < 0.15 else _sentence_zh
                        # one paragraph in four is longer than a chunk, so it must be cut inside
                        count = rnd.randint(40, 90) if rnd.random() < 0.25 else rnd.randint(2, 8)
                        sep = " " if make is _sentence_en else ""
                        para = sep.join(make(rnd) for _ in range(count))
                        lines += [para, ""]
                        size += len(para.encode())
            name = f"manual-{n:04d}.md"
        else:  # plain-text regulation with 第X章 / 第X条
            lines += [f"设备管理制度（第{n}号）", ""]
            chapter = article = 0
            while size < file_kb * 1000:
                chapter += 1
                lines.append(f"第{chapter}章　第{chapter}部分规定")
                for _ in range(rnd.randint(3, 10)):
                    article += 1
                    para = f"第{article}条　" + "".join(_sentence_zh(rnd) for _ in range(rnd.randint(1, 5)))
                    lines.append(para)
                    size += len(para.encode())
            name = f"rules-{n:04d}.txt"
        data = "\n".join(lines) + "\n"
        (folder / name).write_text(data, encoding="utf-8")
        total += len(data.encode())
    return total


def make_pdf(path: Path, pages: int, seed: int = 1) -> None:
    """A Chinese PDF (STSong-Light, not embedded) with wrapped lines, a running header and footer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    rnd = random.Random(seed)
    width, height = A4
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    per_line = 38
    for number in range(1, pages + 1):
        pdf.setFont("STSong-Light", 8)
        pdf.drawString(50, height - 40, "华东精密冲压有限公司　质量管理体系文件　QP-ZL-008")
        pdf.drawCentredString(width / 2, 30, f"第 {number} 页 共 {pages} 页")
        pdf.setFont("STSong-Light", 12)
        y = height - 70
        text = f"{number} 第{number}部分\n" + "".join(_sentence_zh(rnd) for _ in range(40))
        for para in text.split("\n"):
            while para and y > 60:
                pdf.drawString(50, y, para[:per_line])
                para = para[per_line:]
                y -= 18
        pdf.showPage()
    pdf.save()


def _at_sentence_end(text: str, end: int) -> bool:
    """A chunk end after 。！？；!?…, after a closing quote or bracket that follows one, after "." before
    whitespace, or at a line end; "4." of "4.0" is not a sentence end."""
    after = text[end:end + 1]
    if after in ("", "\n"):
        return True
    last = text[end - 1]
    if last in CLOSERS:
        last = text[end - 2] if end >= 2 else ""
    return last in "。！？；!?…" or (last == "." and after.isspace())


def _quality(chunks: list[tuple[int, int]], text: str) -> dict:
    spans = [m.span() for m in PROTECTED.finditer(text)]
    inside = 0
    for start, end in chunks:
        inside += sum(1 for a, b in spans if a < start < b or a < end < b)
    at_end = sum(1 for _, end in chunks if _at_sentence_end(text, end))
    return {"chunks": len(chunks), "sentence_end_share": at_end / max(1, len(chunks)), "protected_cuts": inside,
            "mean_chars": sum(e - s for s, e in chunks) / max(1, len(chunks))}


def bench_split(folder: Path, chunk_size: int) -> dict:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from synth.ingest import read_document, split_text

    docs = [read_document(p) for p in sorted(folder.iterdir())]
    mb = sum(len(d.text.encode()) for d in docs) / 1e6
    out = {}
    t0 = time.perf_counter()
    synth_chunks = [[(c["start"], c["end"]) for c in split_text(d.text, chunk_size, markdown=d.markdown)] for d in docs]
    out["synth"] = {"seconds": time.perf_counter() - t0}
    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=0, separators=LANGCHAIN_SEPARATORS,
                                              keep_separator="end", add_start_index=True)
    t0 = time.perf_counter()
    lc_docs = [splitter.create_documents([d.text]) for d in docs]
    out["langchain"] = {"seconds": time.perf_counter() - t0}
    lc_chunks = [[(x.metadata["start_index"], x.metadata["start_index"] + len(x.page_content)) for x in chunks]
                 for chunks in lc_docs]
    for name, per_doc in (("synth", synth_chunks), ("langchain", lc_chunks)):
        totals = {"chunks": 0, "at_end": 0.0, "protected_cuts": 0, "chars": 0.0}
        for d, chunks in zip(docs, per_doc):
            q = _quality(chunks, d.text)
            totals["chunks"] += q["chunks"]
            totals["at_end"] += q["sentence_end_share"] * q["chunks"]
            totals["protected_cuts"] += q["protected_cuts"]
            totals["chars"] += q["mean_chars"] * q["chunks"]
        out[name].update(mb_per_s=mb / out[name]["seconds"], chunks=totals["chunks"],
                         sentence_end_share=totals["at_end"] / totals["chunks"],
                         protected_cuts=totals["protected_cuts"], mean_chars=totals["chars"] / totals["chunks"])
    out["mb"] = mb
    return out


def bench_pdf(path: Path, pages: int) -> dict:
    from pdfminer.high_level import extract_text
    from pypdf import PdfReader

    from synth.ingest import read_document

    out = {}
    for name, fn in (("synth", lambda: read_document(path).text),
                     ("pypdf_raw", lambda: "\n".join(p.extract_text() for p in PdfReader(path).pages)),
                     ("pdfminer", lambda: extract_text(str(path)))):
        fn()  # warm: imports, CMaps
        t0 = time.perf_counter()
        text = fn()
        seconds = time.perf_counter() - t0
        out[name] = {"pages_per_s": pages / seconds, "ms_per_page": seconds / pages * 1000,
                     "han_chars": len(re.findall(r"[\u4e00-\u9fff]", text)),
                     "header_lines_left": text.count("质量管理体系文件")}
    return out


def run_cli(paths: list[str], out: Path, chunk_size: int) -> dict:
    """`synth ingest` in its own process; its wall time and peak RSS."""
    code = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(json.dumps({'rc': r.returncode, 'seconds': time.perf_counter() - t, 'stdout': r.stdout, "
            "'stderr': r.stderr[-500:], 'rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))")
    cmd = [sys.executable, "-c", code, sys.executable, "-m", "synth", "ingest", *paths, "--out", str(out),
           "--chunk-size", str(chunk_size), "--quiet"]
    result = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    if result["rc"]:
        raise SystemExit(f"synth ingest failed: {result['stderr']}")
    result["chunks"] = sum(1 for _ in open(out, encoding="utf-8"))
    result["input_mb"] = sum(p.stat().st_size for x in paths for p in Path(x).rglob("*") if p.is_file()) / 1e6
    result["mb_per_s"] = result["input_mb"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=8, help="size of the md/txt corpus for the split comparison")
    parser.add_argument("--pages", type=int, default=60, help="pages of the generated PDF")
    parser.add_argument("--chunk-size", type=int, default=1500)
    parser.add_argument("--scale-chunks", type=int, default=50000, help="chunks of the scale run (chunk size 300)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_text_corpus(tmp / "text", args.mb)
        make_pdf(tmp / "doc.pdf", args.pages)

        split = bench_split(tmp / "text", args.chunk_size)
        print(f"split {split['mb']:.1f} MB of md/txt, chunk size {args.chunk_size} chars:")
        for name in ("synth", "langchain"):
            s = split[name]
            print(f"  {name:<10} {s['mb_per_s']:7.1f} MB/s  {s['chunks']:6d} chunks  "
                  f"mean {s['mean_chars']:6.0f} chars  "
                  f"ending at a sentence end {s['sentence_end_share']:6.1%}  cuts inside 4.0/10.5%/《…》 "
                  f"{s['protected_cuts']}")
        print(f"  speed ratio synth/langchain: {split['synth']['mb_per_s'] / split['langchain']['mb_per_s']:.2f}")

        pdf = bench_pdf(tmp / "doc.pdf", args.pages)
        print(f"PDF, {args.pages} Chinese pages (CID font):")
        for name, r in pdf.items():
            print(f"  {name:<10} {r['pages_per_s']:7.1f} pages/s  {r['ms_per_page']:5.1f} ms/page  "
                  f"{r['han_chars']} Han chars  running-header lines left {r['header_lines_left']}")
        print(f"  speed ratio synth/pdfminer: {pdf['synth']['pages_per_s'] / pdf['pdfminer']['pages_per_s']:.2f}")

        cli = run_cli([str(tmp / "text"), str(tmp / "doc.pdf")], tmp / "out" / "chunks.jsonl", args.chunk_size)
        print(f"synth ingest (CLI, own process): {cli['input_mb']:.1f} MB -> {cli['chunks']} chunks in "
              f"{cli['seconds']:.1f} s ({cli['mb_per_s']:.1f} MB/s incl. start-up), peak RSS {cli['rss_mb']:.0f} MB")

        # scale: the same command on ~--scale-chunks chunks and on a tenth of that
        scale_mb = args.scale_chunks * 600 / 1e6  # about 1 700 chunks of 300 characters per MB
        make_text_corpus(tmp / "big", scale_mb, seed=7, file_kb=512)
        make_text_corpus(tmp / "small", scale_mb / 10, seed=7, file_kb=512)
        small = run_cli([str(tmp / "small")], tmp / "small-out" / "chunks.jsonl", 300)
        big = run_cli([str(tmp / "big")], tmp / "big-out" / "chunks.jsonl", 300)
        for name, r in (("1/10", small), ("full", big)):
            print(f"scale {name}: {r['input_mb']:.1f} MB -> {r['chunks']} chunks (size 300) in {r['seconds']:.1f} s "
                  f"({r['mb_per_s']:.1f} MB/s), peak RSS {r['rss_mb']:.0f} MB")
        print(f"  RSS ratio full / tenth: {big['rss_mb'] / small['rss_mb']:.2f} "
              f"for {big['chunks'] / small['chunks']:.1f}x the chunks")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
