"""The leaderboard as one self-contained HTML page (figures embedded)."""

from __future__ import annotations

import base64
import html
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hposampler.bench.plots import plot_families, plot_ranks
from hposampler.bench.results import BenchResults
from hposampler.bench.summary import Row

__all__ = ["write_page"]


def _png(draw: object, results: BenchResults) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "figure.png"
        draw(results, path)  # type: ignore[operator]
        return base64.b64encode(path.read_bytes()).decode()


def write_page(results: BenchResults, rows: Sequence[Row], output: str | Path) -> Path:
    """Write the table and both figures to ``output`` (no network needed to view it)."""
    head = ("sampler", "mean rank", "95% interval", "median regret 25%", "50%", "100%",
            "wins", "ms / trial", "tasks", "skipped")  # fmt: skip
    body = []
    for row in rows:
        cells = (
            row.sampler, f"{row.mean_rank:.2f}", f"{row.rank_low:.2f} - {row.rank_high:.2f}",
            *(f"{row.median_regret[k]:.3g}" for k in ("25%", "50%", "100%")),
            ", ".join(f"{f} {n}" for f, n in sorted(row.wins.items())) or "-",
            f"{row.ms_per_trial:.1f}", str(row.tasks),
            "; ".join(f"{t}: {why}" for t, why in row.skipped.items()) or "-",
        )  # fmt: skip
        body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    seeds = len({r.seed for r in results.runs})
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hposampler leaderboard</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child{{text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>hposampler leaderboard</h1>
<p id="scope">{len(results.tasks)} tasks, {seeds} seeds, {results.budget} trials per run.
Rank 1 is best; regret 0 is the task's optimum, 1 its fixed worse reference.</p>
<table id="leaderboard"><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead>
<tbody>{"".join(body)}</tbody></table>
<h2>Median normalised regret per task family</h2>
<img alt="regret curves" src="data:image/png;base64,{_png(plot_families, results)}">
<h2>Mean rank against budget</h2>
<img alt="rank against budget" src="data:image/png;base64,{_png(plot_ranks, results)}">
</body></html>
"""
    path = Path(output)
    path.write_text(page, encoding="utf-8")
    return path
