"""`synth view RUN --html FILE`: the viewer as one self-contained HTML file, to share or attach to a
Hub repo. Scripts, styles and a sample of the rows are inlined; the page pages and searches them in
the browser, opened from disk, with nothing fetched from anywhere (its Content-Security-Policy
allows no network at all).

The file holds the first `max_rows` kept rows and failed rows, and rejected rows spread over every
(stage, reason) group so that each reason has examples; the page says how many of the run's rows
it holds.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from synth.io import write_text
from synth.view import fields
from synth.view.run import SETS, RunView
from synth.view.server import STATIC
from synth.view.tables import Query, Table

CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
       "font-src data:; base-uri 'none'; form-action 'none'")


def sample(table: Table, max_rows: int, groups: list[dict] | None = None) -> list[tuple[int, dict]]:
    """(position, entry) of the rows the file will hold: the first `max_rows`, or for rejected rows
    (`groups` given) an equal share of every (stage, reason) group."""
    if len(table) > max_rows and groups:
        pairs = [(g["stage"], reason) for g in groups for reason, _ in g["reasons"]]
        share = max(1, max_rows // max(1, len(pairs)))
        positions: set[int] = set()
        for stage, reason in pairs:
            page = table.page(Query(filters={"stage": stage, "reason": reason}), 0, share, budget_s=10.0)
            positions.update(item["i"] for item in page.items)
        wanted = sorted(positions)[:max_rows]
    else:
        wanted = list(range(min(len(table), max_rows)))
    found = table.entries(wanted)
    return [(i, found[i]) for i in wanted]


def payload(view: RunView, max_rows: int = 1000) -> dict[str, Any]:
    overview = view.overview()
    groups = view.groups()
    sets = {}
    for kind in SETS:
        table = view.table(kind)
        rows = sample(table, max_rows, groups if kind == "rejected" else None)
        entries = [{"s": fields.summary(table.kind, e, i), "t": fields.search_text(e), "e": e} for i, e in rows]
        facet_names = [*table.filters]
        counts = {name: Counter() for name in facet_names}
        for r in entries:
            for name in facet_names:
                if r["s"].get(name) is not None:
                    counts[name][str(r["s"][name])] += 1
        sets[kind] = {"kind": table.kind, "total": len(table), "rows": entries,
                      "facets": {k: c.most_common(500) for k, c in counts.items() if c}}
    held = {k: (len(s["rows"]), s["total"]) for k, s in sets.items()}
    notice = ""
    if any(n < total for n, total in held.values()):
        notice = "Static copy: it holds " + ", ".join(f"{n:,} of {total:,} {k}" for k, (n, total) in held.items()) + \
                 " rows. Run `synth view RUN` to page through all of them."
    return {"overview": overview, "groups": groups, "coverage": view.coverage(), "sets": sets, "notice": notice}


def _script_safe(text: str) -> str:
    """Text that cannot end its <script> element early."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def render_html(view: RunView, max_rows: int = 1000) -> str:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    data = json.dumps(payload(view, max_rows), ensure_ascii=False, default=str).replace("<", "\\u003c")
    css = (STATIC / "app.css").read_text(encoding="utf-8")
    page = page.replace('<link rel="stylesheet" href="static/app.css">',
                        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n<style>\n{css}</style>')

    def inline(match: re.Match) -> str:
        js = (STATIC / match.group(1)).read_text(encoding="utf-8")
        return f"<script>\n{_script_safe(js)}\n</script>"

    first = page.index('<script src="static/')
    page = page[:first] + f'<script id="synth-data" type="application/json">{data}</script>\n' + page[first:]
    return re.sub(r'<script src="static/([\w.-]+)"></script>', inline, page)


def write_html(run_dir: str | Path, out: str | Path, max_rows: int = 1000) -> Path:
    """Write the self-contained page for `run_dir` to `out` (atomically); returns `out`."""
    html = render_html(RunView(run_dir), max_rows)
    write_text(out, html)
    return Path(out)

