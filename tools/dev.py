#!/usr/bin/env python3
"""Set up the development environment and run the project's main job or its tests.

Usage::

    python tools/dev.py run            # install (if needed), then run the quickstart study
                                       # (--resume: a second run continues / shows it)
    python tools/dev.py test [ARGS]    # install (if needed), then ruff, mypy, the docs build
                                       # (warnings are errors) and pytest (ARGS replace the
                                       # default: tests/ plus the docstring examples)
    python tools/dev.py install        # only (re)install
    python tools/dev.py bench          # the benchmark suite (prints a Markdown table)

Everything goes into a virtual environment, ``.venv`` beside this repository's
root (``HPOSAMPLER_VENV`` overrides the folder): the core distribution, every
``plugins/*`` distribution (editable, so their entry points register) and the
root ``dev`` dependency group. Installation is skipped while no ``pyproject.toml``
changed since the last one. Only the standard library is used here.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("HPOSAMPLER_VENV", ROOT / ".venv"))
STAMP_NAME = ".hposampler-dev-stamp"
QUICKSTART = ROOT / "docs" / "examples" / "quickstart.toml"


def log(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def members() -> list[Path]:
    """core/ and every plugins/* folder that holds a pyproject.toml."""
    found = [ROOT / "core"]
    found += sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))
    return found


def bin_path(name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / sub / f"{name}{suffix}"


def fingerprint() -> str:
    digest = hashlib.sha256()
    files = [ROOT / "pyproject.toml", Path(__file__), *(m / "pyproject.toml" for m in members())]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def run(cmd: list[str | Path], **kwargs: object) -> None:
    printable = " ".join(str(c) for c in cmd)
    log(f"$ {printable}")
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        log(f"failed with exit code {result.returncode}: {printable}")
        raise SystemExit(result.returncode)


def install() -> Path:
    python = bin_path("python")
    stamp = VENV / STAMP_NAME
    want = fingerprint()
    if python.exists() and stamp.exists() and stamp.read_text() == want:
        return python
    if not python.exists():
        log(f"creating virtual environment {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip>=25.1"])
    cmd: list[str | Path] = [python, "-m", "pip", "install", "--quiet", "--group", "dev"]
    for member in members():
        cmd += ["-e", str(member.relative_to(ROOT))]
    run(cmd)
    stamp.write_text(want)
    log("environment ready: activate it with `source .venv/bin/activate`")
    return python


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    rest = argv[1:]
    if command in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if command not in ("install", "run", "test", "bench"):
        print(f"unknown command {command!r}; use install, run, test or bench", file=sys.stderr)
        return 2
    python = install()
    if command == "run":
        study = rest or [str(QUICKSTART.relative_to(ROOT)), "--resume"]
        run([bin_path("hposampler"), "run", *study])
    elif command == "test":
        sources = [str((m / "src").relative_to(ROOT)) for m in members()]
        run([bin_path("ruff"), "check", "."])
        run([bin_path("ruff"), "format", "--check", "."])
        run([bin_path("mypy"), *sources])
        run(
            [
                python,
                "-m",
                "sphinx",
                "-W",
                "--keep-going",
                "-q",
                "-b",
                "html",
                "docs",
                "docs/_build/html",
            ]
        )
        # the test suite plus the examples in docstrings, in one run
        run([python, "-m", "pytest", *(rest or ["tests", *sources, "--doctest-modules"])])
    elif command == "bench":
        run([python, "tests/benchmarks/run_all.py", *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
