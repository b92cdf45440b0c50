#!/usr/bin/env python3
"""Opt-in check: ablator's real ExperimentState with hposampler's samplers swapped in.

    python tools/ablator_check.py            # uses .venv's Python (hposampler installed)
    python tools/ablator_check.py --keep     # keep the work folder for inspection

Not part of the test suite (it downloads ablator 0.0.1b3 and about 1 GB of its
dependencies). What it does:

1. downloads the ablator 0.0.1b3 wheel (it declares Python 3.10 only, so it is
   fetched with ``--python-version 3.10`` and unpacked, not installed);
2. blanks ``ablator/__init__.py`` and ``ablator/main/__init__.py``, which import
   the whole toolkit (analysis, plotting), and makes the one-import change in
   ``ablator/main/state/state.py``:
   ``from hposampler.compat.ablator import BaseSampler, GridSampler, OptunaSampler``;
3. installs ablator's light dependencies (omegaconf, pandas, a CPU torch) into a
   private folder of the work folder (ray, numpy, sqlalchemy and optuna come from
   the environment running this script);
4. runs ablator's ``ExperimentState`` for ``tpe``, ``random`` and ``grid``: it
   samples 8 trials, completes them with ablator's own ``update_trial_state``,
   rebuilds the state with ``resume=True`` from ablator's SQLite store (ablator's
   rows, ablator's ``_opt_*`` columns) and samples 8 more;
5. prints, per algorithm, the trial ids, the number of distinct configs and
   whether the resumed sampler continued (no config proposed twice); exit code 1
   if any check fails.

The result of the last run is recorded in docs/ablator.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"

SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
from ablator.config.hpo import SearchSpace
from ablator.config.mp import ParallelConfig, SearchAlgo
from ablator.config.proto import ModelConfig, TrainConfig
from ablator.modules.optimizer import OptimizerConfig
from ablator.main.state.state import ExperimentState
from ablator.main.state.store import TrialState
import hposampler.compat.ablator as compat

def config(algo):
    space = {"train_config.optimizer_config.arguments.lr":
             SearchSpace(value_range=["0", "1"], value_type="float",
                         n_bins=10 if algo == "grid" else None),
             "train_config.batch_size":
             SearchSpace(categorical_values=["32", "64", "128"])}
    train = TrainConfig(dataset="test", batch_size=32, epochs=1,
                        optimizer_config=OptimizerConfig(name="sgd", arguments={"lr": 0.1}),
                        scheduler_config=None)
    return ParallelConfig(train_config=train, model_config=ModelConfig(), verbose="silent",
                          device="cpu", amp=False, search_space=space,
                          optim_metrics={"loss": "min"}, total_trials=100,
                          concurrent_trials=1, gpu_mb_per_experiment=0,
                          search_algo=SearchAlgo(algo))

def run(state, n, seen):
    for _ in range(n):
        trial_id, trial_config = state.sample_trial()
        lr = trial_config.train_config.optimizer_config.arguments.lr
        seen.append((trial_id, lr, trial_config.train_config.batch_size))
        state.update_trial_state(trial_id, {"loss": (lr - 0.3) ** 2}, TrialState.COMPLETE)

out = {}
for algo in ("tpe", "random", "grid"):
    folder = Path(tempfile.mkdtemp())
    state = ExperimentState(folder, config(algo), sampler_seed=0)
    sampler = type(state.sampler)
    seen = []
    run(state, 8, seen)
    resumed = ExperimentState(folder, config(algo), resume=True, sampler_seed=0)
    run(resumed, 8, seen)
    ids = [t for t, _, _ in seen]
    configs = [(lr, b) for _, lr, b in seen]
    out[algo] = {"sampler": f"{sampler.__module__}.{sampler.__name__}", "ids": ids,
                 "distinct": len(set(configs)), "trials": len(configs),
                 "from_hposampler": sampler.__module__ == compat.__name__}
print(json.dumps(out))
"""


def main(argv: list[str]) -> int:
    keep = "--keep" in argv
    python = PYTHON if PYTHON.exists() else Path(sys.executable)
    work = Path(tempfile.mkdtemp(prefix="ablator-check-"))
    try:
        subprocess.run(
            [python, "-m", "pip", "download", "--no-deps", "--python-version", "3.10",
             "--only-binary=:all:", "ablator==0.0.1b3", "-d", work, "-q"],
            check=True,
        )  # fmt: skip
        wheel = next(work.glob("ablator-0.0.1b3-*.whl"))
        src = work / "src"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(src)
        for init in (src / "ablator" / "__init__.py", src / "ablator" / "main" / "__init__.py"):
            init.write_text('"""Blanked by tools/ablator_check.py: imports the whole toolkit."""\n')
        state = src / "ablator" / "main" / "state" / "state.py"
        text = state.read_text()
        original = "from ablator.main.hpo import BaseSampler, GridSampler, OptunaSampler"
        if original not in text:
            print(f"ablator's state.py no longer has the line {original!r}", file=sys.stderr)
            return 1
        ours = "from hposampler.compat.ablator import BaseSampler, GridSampler, OptunaSampler"
        state.write_text(text.replace(original, ours))
        deps = work / "deps"
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--target", deps, "omegaconf", "pandas",
             "torch==2.13.0"],
            check=True,
        )  # fmt: skip
        for shadow in list(deps.glob("numpy*")) + list(deps.glob("typing_extensions*")):
            shutil.rmtree(shadow, ignore_errors=True)  # keep the environment's own
        env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{deps}"}
        proc = subprocess.run([python, "-c", SCRIPT], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        results = json.loads(proc.stdout.strip().splitlines()[-1])
        ok = True
        for algo, r in results.items():
            continued = r["ids"] == list(range(16)) and r["distinct"] == r["trials"]
            ok &= continued and r["from_hposampler"]
            print(f"{algo:7} {r['sampler']}: ids {r['ids'][0]}..{r['ids'][-1]}, "
                  f"{r['distinct']} distinct configs of {r['trials']} (8 before, 8 after a "
                  f"resume): {'ok' if continued else 'FAILED'}")  # fmt: skip
        return 0 if ok else 1
    finally:
        if keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
