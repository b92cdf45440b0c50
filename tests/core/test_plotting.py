"""``hposampler plot`` reads right and leaves the user's matplotlib settings alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hposampler import Study, TrialPruned

matplotlib = pytest.importorskip("matplotlib")

SPACE = {
    "lr": {"value_range": [1e-5, 1e-1], "value_type": "float", "log": True},
    "layers": {"value_range": [1, 6], "value_type": "int"},
    "act": {"categorical_values": ["relu", "tanh", [1, 2]]},
}


def objective(config: dict[str, Any], trial: Any) -> float:
    loss = config["layers"] * 100 * config["lr"] + (config["act"] == "tanh")
    trial.report(0, {"loss": loss * 2})
    if trial.trial_id % 6 == 5:
        raise TrialPruned
    return loss


def _study(tmp_path: Path, metrics: dict[str, str] | None = None) -> Study:
    study = Study.create(tmp_path / "s.db", "s", "random", SPACE, metrics or {"loss": "min"},
                         seed=0)  # fmt: skip
    if metrics:
        study.optimize(lambda c: {"loss": c["lr"], "cost": c["layers"]}, 30)
    else:
        study.optimize(objective, 30)
    return study


def _axes_by_xlabel(figure: Any) -> dict[str, Any]:
    return {ax.get_xlabel(): ax for ax in figure.axes}


def test_no_global_setting_changes_and_math_ticks_render(tmp_path: Path) -> None:
    from hposampler.viz.plotting import plot_study

    before = dict(matplotlib.rcParams)
    backend = matplotlib.get_backend()
    plot_study(_study(tmp_path), tmp_path / "p.png")
    assert dict(matplotlib.rcParams) == before and matplotlib.get_backend() == backend
    assert (tmp_path / "p.png").stat().st_size > 10_000


def test_axes_follow_the_space(tmp_path: Path) -> None:
    from hposampler.viz.plotting import study_figure

    figure = study_figure(_study(tmp_path))
    figure.canvas.draw()
    axes = _axes_by_xlabel(figure)
    assert axes["lr"].get_xscale() == "log"  # a log range on a log axis
    lr_ticks = [t for t in axes["lr"].get_xticklabels() if t.get_text()]
    assert lr_ticks and all(t.get_parse_math() for t in lr_ticks)  # 10^-4 drawn as math
    layers = axes["layers"]
    assert all(float(t).is_integer() for t in layers.get_xticks())  # integer ticks
    labels = [t.get_text() for t in axes["act"].get_xticklabels()]
    assert labels == ["relu", "tanh", "[1, 2]"]  # the space's order, no Python quotes
    history = axes["trial id"]
    legend = [t.get_text() for t in history.get_legend().get_texts()]
    assert "pruned (last report)" in legend  # pruned trials are shown
    assert "5 pruned" in history.get_title()
    assert not history.title.get_parse_math()  # names are text, never markup


def test_several_metrics_get_a_pareto_panel(tmp_path: Path) -> None:
    from hposampler.viz.plotting import study_figure

    figure = study_figure(_study(tmp_path, {"loss": "min", "cost": "min"}))
    titles = [ax.get_title() for ax in figure.axes]
    assert "loss against cost" in titles
    panel = figure.axes[titles.index("loss against cost")]
    legend = [t.get_text() for t in panel.get_legend().get_texts()]
    assert any(text.startswith("Pareto front (") for text in legend)
