"""The ``quick`` suite: three tabular and three BBOB tasks, for a first look.

One task of each tabular family that samplers do not all solve at once
(``hpobench-kc1``, ``hpolib-protein_structure``, ``nb201-cifar100``) and three
5-D BBOB functions of different kinds (Rosenbrock ``f08``, rotated Rastrigin
``f15``, Gallagher's 101 peaks ``f21``). With ``--seeds 0-2 --budget 50`` (the
bench's defaults) it takes minutes for the fast samplers.
"""

from __future__ import annotations

import functools

from hposampler.bench import Suite, Task

__all__ = ["QUICK", "quick_suite"]

QUICK = ("hpobench-kc1", "hpolib-protein_structure", "nb201-cifar100",
         "f08-d05", "f15-d05", "f21-d05")  # fmt: skip


@functools.lru_cache(maxsize=1)
def quick_suite() -> Suite:
    """The six tasks of :data:`QUICK`, taken from the ``hpobench`` and ``bbob`` suites."""
    from hposampler_bench.bbob import bbob_task
    from hposampler_bench.hpobench import hpobench_suite

    @functools.cache
    def tasks() -> list[Task]:
        tabular = {t.name: t for t in hpobench_suite().tasks()}
        return [tabular[name] if name in tabular else bbob_task(name) for name in QUICK]

    return Suite("quick", tasks)
