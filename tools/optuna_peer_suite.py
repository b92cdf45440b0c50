"""Run Optuna's own ``tests/samplers_tests/test_samplers.py`` with hposampler's
``HposamplerSampler`` swapped in for Optuna's samplers, once per backend.

Usage::

    python tools/optuna_peer_suite.py PATH/TO/optuna/tests/samplers_tests/test_samplers.py \\
        [--backends random,tpe,optuna:cmaes,skopt:gp,grid,nevergrad:ngopt,hyperopt:tpe]

For each backend, every Optuna sampler the file builds (``optuna.samplers.XSampler(...)``
or the class itself given as a factory) becomes ``HposamplerSampler(backend, ...)``,
as a user switching over would write it: keyword arguments the backend declares as
options are kept, the others (Optuna-specific settings such as
``n_startup_trials``) are dropped; ``seed`` is passed on. ``isinstance`` checks,
``GridSampler`` and ``PartialFixedSampler`` (wrappers with their own inputs) are left
as Optuna's. The file is read from the given path (a clone of Optuna), rewritten
into a temporary folder and run with pytest there; nothing of it is kept here.
Prints passed / failed / skipped per backend.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT = "random,tpe,optuna:cmaes,skopt:gp,grid,nevergrad:ngopt,hyperopt:tpe"
_KEEP = {"GridSampler", "PartialFixedSampler", "BaseSampler"}

_SHIM = """
import inspect as _inspect

from hposampler import get_sampler_spec as _spec_of
from hposampler_optuna import HposamplerSampler as _Hposampler

_BACKEND = {backend!r}


def _swap(_optuna_class_name):
    names = {{o.name for o in _spec_of(_BACKEND).options}}

    def build(*args, **kwargs):
        options = {{k: v for k, v in kwargs.items() if k in names}}
        positional = args[0] if args and isinstance(args[0], int) else None  # Random(seed)
        return _Hposampler(_BACKEND, seed=kwargs.get("seed", positional), **options)

    return build


def get_gp_sampler(**kwargs):
    return _swap("GPSampler")(**kwargs)
"""


def rewrite(source: str, backend: str) -> str:
    """The test file with Optuna's samplers swapped for ``backend``."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _KEEP:
            return match.group(0)
        return f'_swap("{name}")'

    protected = re.sub(
        r"isinstance\(([^,]+), optuna\.samplers\.", r"isinstance(\1, _OPTUNA_SAMPLERS_.", source
    )
    swapped = re.sub(r"optuna\.samplers\.(\w+Sampler)\b", replace, protected)
    swapped = swapped.replace("_OPTUNA_SAMPLERS_.", "optuna.samplers.")
    # the file's own get_gp_sampler builds Optuna's GPSampler: ours replaces it
    swapped = re.sub(r"\ndef get_gp_sampler\(.*?\n\n\n", "\n\n", swapped, count=1, flags=re.S)
    head, sep, rest = swapped.partition("\nfrom optuna.trial import Trial\n")
    return head + sep + _SHIM.format(backend=backend) + rest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("test_file", type=Path)
    parser.add_argument("--backends", default=DEFAULT)
    args = parser.parse_args()
    source = args.test_file.read_text()
    print("| backend | passed | failed | skipped |\n| --- | --- | --- | --- |")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "test_samplers_swapped.py"
            path.write_text(rewrite(source, backend))
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
                 "addopts=", "--rootdir", folder, str(path)],
                capture_output=True, text=True, cwd=folder, check=False,
            )  # fmt: skip
            tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr
            counts = {k: 0 for k in ("passed", "failed", "skipped", "error")}
            for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", tail):
                counts["error" if word.startswith("error") else word] += int(number)
            failed = counts["failed"] + counts["error"]
            print(f"| {backend} | {counts['passed']} | {failed} | {counts['skipped']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
