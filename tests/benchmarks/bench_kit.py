"""The conformance kit's own cost: full and quick mode, per bundled backend.

Run: python tests/benchmarks/bench_kit.py [NAME ...]

Each backend's ``check_sampler(name)`` and ``check_sampler(name, quick=True)``
once, in that order, in this process (seconds of wall time).
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Row, print_table

from hposampler import available_samplers
from hposampler.testing import check_sampler

#: A bundled backend's known kit failure (tests/kit/test_builtin_conformance.py says why);
#: check_sampler stops there, so its full time leaves out the checks after it.
KNOWN_LIMITATIONS = {"nevergrad:pso": "learns_from_results"}


def run(names: list[str] | None = None) -> list[Row]:
    warnings.simplefilter("ignore")
    import importlib.util

    chosen = names or [
        s.name for s in available_samplers()
        if s.name != "nevergrad:any" and not s.subnames
        and all(importlib.util.find_spec(m) for m in s.requires)
    ]  # fmt: skip
    rows: list[Row] = []
    for name in chosen:
        times = []
        for quick in (False, True):
            start = time.perf_counter()
            try:
                check_sampler(name, quick=quick)
                outcome = ""
            except AssertionError as exc:
                known = KNOWN_LIMITATIONS.get(name)
                if known is None or not str(exc).startswith(f"[{known}]"):
                    raise
                outcome = f" (fails {known}: a known limitation)"
            except Exception as exc:  # e.g. a backend whose library is missing
                outcome = f" ({type(exc).__name__})"
            times.append((time.perf_counter() - start, outcome))
        (full, note), (fast, _) = times
        rows.append((f"kit: check_sampler({name!r}), full / quick", f"{full:.1f} s / "
                     f"{fast:.1f} s{note}", "quick well under full"))  # fmt: skip
        print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    return rows


if __name__ == "__main__":
    print_table(run(sys.argv[1:] or None))
    print(f"\n(load average {os.getloadavg()[0]:.1f} at the end)")
