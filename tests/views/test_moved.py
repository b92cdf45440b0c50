"""The views left hposampler-optuna for hposampler-views; the old paths work for one release."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["view", "report", "dashboard"])
def test_old_module_paths_warn_and_are_the_moved_module(module: str) -> None:
    new = importlib.import_module(f"hposampler_views.{module}")
    sys.modules.pop(f"hposampler_optuna.{module}", None)
    with pytest.warns(DeprecationWarning, match=f"hposampler_views.{module}"):
        old = importlib.import_module(f"hposampler_optuna.{module}")
    assert old is new


def test_old_names_warn_and_are_the_moved_functions() -> None:
    import hposampler_optuna
    import hposampler_views

    with pytest.warns(DeprecationWarning, match="hposampler_views.to_optuna"):
        assert hposampler_optuna.to_optuna is hposampler_views.to_optuna


def test_the_optuna_backend_does_not_load_the_views() -> None:
    heavy = ("hposampler_views.view", "hposampler_views.report", "hposampler_views.dashboard",
             "plotly", "optuna_dashboard")  # fmt: skip
    code = (
        "import sys, hposampler\n"
        "s = hposampler.make_sampler('tpe', {'x': {'value_range': [0.0, 1.0]}},\n"
        "                            optim_metrics={'loss': 'min'}, seed=0)\n"
        "s.eager_sample()\n"
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=1800, check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"
