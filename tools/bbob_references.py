"""Write hposampler-bench's table of BBOB optimal values (f at COCO's own optimum).

coco-experiment keeps each problem's optimum inside its C code; its Python
binding can only write the optimal point to a file in the working directory
(``problem._best_parameter("print")``). This tool does that once for every
function (1-24), dimension (2, 3, 5, 10, 20, 40) and instance (1-15), in a
temporary directory, and writes f(x*) to
``plugins/bench/src/hposampler_bench/bbob_fopt.json``, so that the suite never
changes the working directory at run time. ``tests/bench`` checks entries
against the library.

Run: ``python tools/bbob_references.py``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "plugins/bench/src/hposampler_bench/bbob_fopt.json"
DIMENSIONS = (2, 3, 5, 10, 20, 40)


def fopt(function: int, dimension: int, instance: int) -> float:
    """f at the optimum of one BBOB problem (call from a scratch working directory)."""
    import cocoex
    import numpy as np

    options = f"function_indices:{function} dimensions:{dimension} instance_indices:{instance}"
    suite = cocoex.Suite("bbob", "", options)
    problem = suite.get_problem(0)
    problem._best_parameter("print")
    x = np.loadtxt("._bbob_problem_best_parameter.txt")
    value = float(problem(np.atleast_1d(x)))
    problem.free()
    return value


def main() -> None:
    table = {}
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            for dimension in DIMENSIONS:
                for function in range(1, 25):
                    for instance in range(1, 16):
                        key = f"f{function:02d}-d{dimension:02d}-i{instance:02d}"
                        table[key] = fopt(function, dimension, instance)
        finally:
            os.chdir(here)
    OUT.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(table)} values to {OUT}")


if __name__ == "__main__":
    main()
