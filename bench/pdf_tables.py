"""PDF tables as Markdown: the share of table cells whose text lands in the right row and column.

    nice -n 10 .venv/bin/python bench/pdf_tables.py --baseline /tmp/before   # an older checkout beside this one

Truth: pdfplumber's ``extract_tables()`` on each page (default "lines" strategy; tables of two rows
and two columns at least), its cells normalised as ingest writes them (spaces collapsed, ``|``
escaped). A truth row's non-empty cells count as placed when a Markdown row of the ingested document
text has that cell at the same column; the row is matched to the Markdown row that places most of
its cells. Files: the corpus PDFs with ruled tables, and public pdfplumber test PDFs given with
``--extra`` (none written for synth). This measures what ingest keeps of pdfplumber's tables (placed
in reading order, not lost, not cut), not whether pdfplumber read the table right.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_quality import CORPUS, load_synth  # noqa: E402

DEFAULT = ["en-manual-ibm-redbook.pdf", "zh-manual-java-dev.pdf", "de-thesis-geotopo.pdf",
           "en-gov-federal-register.pdf", "en-table-senate-expenditures.pdf"]


def _norm(cell) -> str:
    return " ".join((cell or "").replace("(cid:2)", "").split()).replace("|", "\\|")


def truth(path: Path) -> list[list[list[str]]]:
    import pdfplumber

    tables = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for rows in page.extract_tables():
                rows = [[_norm(c) for c in row] for row in rows if any((c or "").strip() for c in row)]
                if len(rows) >= 2 and max(len(r) for r in rows) >= 2:
                    tables.append(rows)
            page.close()
    return tables


def markdown_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.split("\n"):
        if line.startswith("| ") and line.endswith(" |") and not line.startswith("| ---"):
            rows.append([c.strip() for c in line[2:-2].split(" | ")])
    return rows


def placed(tables: list[list[list[str]]], rows: list[list[str]]) -> tuple[int, int]:
    hit = total = 0
    for table in tables:
        for row in table:
            cells = [(j, c) for j, c in enumerate(row) if c]
            total += len(cells)
            hit += max((sum(1 for j, c in cells if j < len(md) and md[j] == c) for md in rows), default=0)
    return hit, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="another checkout measured in the same run")
    parser.add_argument("--extra", type=Path, nargs="*", default=[], help="more PDFs with ruled tables")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    files = [CORPUS / name for name in DEFAULT if (CORPUS / name).exists()] + list(args.extra)
    labels = (["before"] if args.baseline else []) + ["after"]
    totals = {label: [0, 0] for label in labels}
    for f in files:
        tables = truth(f)
        line = f"{f.name}: {len(tables)} tables"
        for label in labels:
            ingest = load_synth(args.baseline if label == "before" else None)
            hit, total = placed(tables, markdown_rows(ingest.read_document(f).text))
            totals[label][0] += hit
            totals[label][1] += total
            line += f"; {label} {hit}/{total}"
        print(line)
    for label, (hit, total) in totals.items():
        print(f"cells placed {label}: {hit}/{total} = {hit / max(1, total):.3f} over {len(files)} PDFs")


if __name__ == "__main__":
    main()
