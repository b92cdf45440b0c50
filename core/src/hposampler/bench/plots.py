"""Leaderboard figures: regret curves per task family, mean rank against budget."""

from __future__ import annotations

from pathlib import Path

from hposampler.bench.results import BenchResults
from hposampler.bench.summary import families, family_curves, rank_curve

__all__ = ["plot_families", "plot_ranks"]


def plot_families(results: BenchResults, output: str | Path) -> Path:
    """Median normalised regret against trials, one panel per task family (log scale)."""
    from hposampler.viz.plotting import new_figure

    names = families(results)
    fig = new_figure(4.6 * len(names), 3.8)
    axes = fig.subplots(1, len(names), squeeze=False)
    for ax, family in zip(axes[0], names):
        for sampler, curve in family_curves(results, family).items():
            ax.plot(range(1, len(curve) + 1), [max(v, 1e-6) for v in curve], label=sampler)
        ax.set_yscale("log")
        ax.set_title(family)
        ax.set_xlabel("trial")
        ax.set_ylabel("median normalised regret")
    axes[0][0].legend(fontsize=7)
    path = Path(output)
    fig.savefig(path, dpi=100)
    return path


def plot_ranks(results: BenchResults, output: str | Path) -> Path:
    """Mean rank of each sampler at 10 %, 20 %, ..., 100 % of the budget."""
    from hposampler.viz.plotting import new_figure

    points = [i / 10 for i in range(1, 11)]
    fig = new_figure(6.4, 4.0)
    ax = fig.subplots()
    for sampler, ranks in sorted(rank_curve(results, points).items()):
        ax.plot([round(p * results.budget) for p in points], ranks, marker="o", label=sampler)
    ax.set_xlabel("trials")
    ax.set_ylabel("mean rank (1 = best)")
    ax.legend(fontsize=7, ncol=2)
    path = Path(output)
    fig.savefig(path, dpi=100)
    return path
