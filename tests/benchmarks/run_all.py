"""Run every benchmark and print one Markdown table (for docs/benchmarks.md).

Run: python tools/dev.py bench      (or python tests/benchmarks/run_all.py)
Not collected by pytest: speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Row, machine, print_table  # noqa: E402


def import_time() -> Row:
    """Cold-start `import hposampler` (median of 5 fresh interpreters)."""
    import statistics

    times = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import hposampler"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        last = [line for line in out.stderr.splitlines() if line.endswith("| hposampler")][-1]
        times.append(int(last.split("|")[1]) / 1000)
    listing = []
    for _ in range(3):
        import time

        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "hposampler", "list"], capture_output=True,
                       check=True)  # fmt: skip
        listing.append(time.perf_counter() - start)
    return (
        "cold start: import hposampler / hposampler list (whole process)",
        f"{statistics.median(times):.0f} ms / {statistics.median(listing) * 1000:.0f} ms",
        "fast; no heavy imports",
    )


def quality() -> list[Row]:
    """Median best after 50 trials on the standard problems, 5 seeds."""
    from hposampler.bench import run_bench, summarize

    rows: list[Row] = []
    samplers = ["random", "tpe", "skopt:gp", "ngopt", "nevergrad:de", "hyperopt:tpe"]
    runs = run_bench(samplers, ["branin", "hartmann6"], 50, 5)
    for row in summarize(runs):
        rows.append((
            f"quality: {row['problem']}, {row['sampler']}, 50 trials, 5 seeds",
            f"median regret {row['median_regret']:.4g} (best {row['median_best']:.5g}), "
            f"{row['ms_per_trial']:.1f} ms sampler time per trial",
            "lower regret is better",
        ))  # fmt: skip
    return rows


def main() -> None:
    import bench_adapters
    import bench_backends
    import bench_constraints
    import bench_frontends
    import bench_grid
    import bench_optuna
    import bench_pruning
    import bench_ray
    import bench_reliability
    import bench_runner
    import bench_seeing
    import bench_skopt
    import bench_study
    import bench_workers

    rows: list[Row] = [import_time()]
    modules = (bench_grid, bench_optuna, bench_adapters, bench_backends, bench_skopt, bench_study,
               bench_workers, bench_runner, bench_reliability, bench_ray, bench_pruning,
               bench_frontends, bench_seeing, bench_constraints)  # fmt: skip
    for module in modules:
        rows += module.run()
    rows += quality()
    print(f"Measured {datetime.date.today()} on {machine()}.\n")
    print_table(rows)


if __name__ == "__main__":
    main()
