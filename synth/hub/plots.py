"""The card's plots as PNG files, drawn with matplotlib's Agg canvas (no display, no global pyplot state).

Files are byte-for-byte reproducible for the same data (no timestamp or version in the PNG metadata),
so re-pushing an unchanged run uploads no new plot.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synth.io import atomic_path

if TYPE_CHECKING:
    from synth.hub.stats import Lengths

SIZE = (6.4, 3.6)
BLUE, ORANGE, GREY = "#4C72B0", "#DD8452", "#8C8C8C"


def _figure(size=SIZE):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    _use_cjk_font()
    return fig


def _use_cjk_font() -> None:
    """Put a CJK font behind the default one when the machine has one, so Chinese labels draw."""
    import matplotlib
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    cjk = [n for n in names if any(k in n for k in ("CJK", "WenQuanYi", "Droid Sans Fallback", "Heiti", "PingFang"))]
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", *sorted(cjk)[:1]]


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a glyph missing from every font draws as a box; say nothing
        fig.savefig(tmp, format="png", metadata={"Software": None})


def lengths_plot(lengths: dict[str, Lengths], path: Path) -> None:
    """Histogram of prompt and response lengths in characters, from `synth.hub.stats.Lengths` (each
    length a weighted point: the same bars as the raw lengths below 65,536 characters)."""
    import numpy as np

    fig = _figure()
    ax = fig.add_subplot()
    points = {name: h.points() for name, h in lengths.items()}
    distinct = len(set().union(*(v.tolist() for v, _ in points.values()))) if points else 0
    bins = min(40, max(5, distinct or 1))
    top = max([h.max for h in lengths.values()] + [0]) or 1
    for (name, (at, counts)), color in zip(points.items(), (BLUE, ORANGE)):
        if not len(at):  # an empty series draws as one record of length 0, as before
            at, counts = np.zeros(1, np.int64), np.ones(1, np.int64)
        ax.hist(at, bins=bins, range=(0, top), weights=counts, alpha=0.6, color=color,
                label=f"{name} (n={lengths[name].count})")
    ax.set_xlabel("characters")
    ax.set_ylabel("records")
    ax.set_title("Lengths of kept records")
    ax.legend()
    _save(fig, path)


def funnel_plot(stages: list[dict], path: Path) -> None:
    """Rows entering each stage, the kept part in colour and the dropped part in grey."""
    fig = _figure((6.4, 1.4 + 0.4 * max(2, len(stages))))
    ax = fig.add_subplot()
    names = [s["name"] for s in stages][::-1]
    kept = [s["kept"] for s in stages][::-1]
    dropped = [s["in"] - s["kept"] if s["name"] != "generate" else 0 for s in stages][::-1]
    ax.barh(names, kept, color=BLUE, label="kept")
    ax.barh(names, dropped, left=kept, color=GREY, label="dropped")
    for y, (k, d) in enumerate(zip(kept, dropped)):
        ax.text(k + d, y, f" {k}" + (f" (-{d})" if d else ""), va="center", fontsize=8)
    ax.set_xlabel("records")
    ax.set_title("Funnel: records after each stage")
    ax.set_xlim(0, max([k + d for k, d in zip(kept, dropped)] + [1]) * 1.3)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3 - 0.6 / max(2, len(stages))), ncol=2, fontsize=8,
              frameon=False)
    _save(fig, path)


def coverage_plot(counts: dict[str, int | float], title: str, xlabel: str, path: Path, *, limit: int = 30) -> None:
    """Bars of a count table (a recipe's coverage, or kept records per seed row)."""
    items = list(counts.items())[:limit]
    fig = _figure((6.4, max(2.4, 0.6 + 0.28 * len(items))))
    ax = fig.add_subplot()
    ax.barh([str(k)[:40] for k, _ in items][::-1], [v for _, v in items][::-1], color=BLUE)
    ax.set_xlabel(xlabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title + (f" (first {limit} of {len(counts)})" if len(counts) > limit else ""))
    _save(fig, path)


def s_curve_plot(dedup: dict[str, Any], path: Path) -> None:
    """P(two rows become a candidate pair) against their Jaccard similarity, with the threshold marked."""
    from synth.dedup.params import probability

    b, r = dedup["bands"], dedup["rows"]
    xs = [i / 200 for i in range(201)]
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(xs, [probability(x, b, r) for x in xs], color=BLUE, label=f"{b} bands x {r} rows")
    ax.axvline(dedup["threshold"], color=ORANGE, linestyle="--", label=f"threshold {dedup['threshold']}")
    ax.set_xlabel("Jaccard similarity of two rows")
    ax.set_ylabel("P(compared)")
    ax.set_title(f"MinHash LSH S-curve ({dedup['num_perm']} permutations)")
    ax.legend(loc="lower right")
    _save(fig, path)


def draw_all(stats: dict[str, Any], stages: list[dict], lengths: dict[str, Lengths], coverage: dict | None,
             plots_dir: Path) -> dict[str, str]:
    """Draw every plot that has data into `plots_dir`; returns {plot: file name}."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    made = {}
    lengths_plot(lengths, plots_dir / "lengths.png")
    made["lengths"] = "lengths.png"
    funnel_plot(stages, plots_dir / "funnel.png")
    made["funnel"] = "funnel.png"
    table = coverage_table(coverage)
    if table:
        coverage_plot(table[1], f"Coverage: {table[0]}", "kept records", plots_dir / "coverage.png")
    else:
        per_seed = stats["seed_coverage"]["kept_per_seed_row"]
        coverage_plot({f"{k} kept": v for k, v in per_seed.items()}, "Coverage: seed rows by kept records",
                      "seed rows", plots_dir / "coverage.png")
    made["coverage"] = "coverage.png"
    if stats.get("dedup"):
        s_curve_plot(stats["dedup"], plots_dir / "s_curve.png")
        made["s_curve"] = "s_curve.png"
    return made


def coverage_table(coverage: dict | None) -> tuple[str, dict] | None:
    """The first count table (`{key: {name: number}}`) of a recipe's coverage report, if any."""
    for key, value in (coverage or {}).items():
        if isinstance(value, dict) and value and all(isinstance(v, (int, float)) for v in value.values()):
            return key, value
    return None
