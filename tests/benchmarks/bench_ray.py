"""Ray executor benchmarks: per-trial overhead vs threads, 16 x 1 s trials at concurrency 2.

Run: python tests/benchmarks/bench_ray.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests/: the `support` objectives

from common import Row, print_table  # noqa: E402

from hposampler import Study  # noqa: E402

SPACE = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}


def study_time(executor: str, objective: str, n: int, concurrency: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        study = Study.create(Path(folder) / "s.db", "b", "random", SPACE, {"loss": "min"}, seed=0)
        start = time.perf_counter()
        study.optimize(objective, n, concurrency=concurrency, executor=executor)
        return time.perf_counter() - start


def run() -> list[Row]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             runtime_env={"env_vars": {"PYTHONPATH": str(HERE.parent)}})  # fmt: skip
    try:
        study_time("ray", "support:quadratic", 10, 2)  # warm the workers
        n = 200
        t_ray = study_time("ray", "support:quadratic", n, 2)
        t_thread = study_time("thread", "support:quadratic", n, 2)
        t_sleep = study_time("ray", "support:sleep_one_second", 16, 2)
    finally:
        ray.shutdown()
    return [
        (
            "ray: per-trial overhead, trivial objective, 200 trials, concurrency 2",
            f"ray {t_ray / n * 1000:.1f} ms / thread {t_thread / n * 1000:.2f} ms per trial "
            f"= {t_ray / t_thread:.1f}x",
            "pays off for objectives of seconds",
        ),
        ("ray: 16 trials of a 1 s objective, concurrency 2", f"{t_sleep:.2f} s wall", "~8 s"),
    ]


if __name__ == "__main__":
    print_table(run())
