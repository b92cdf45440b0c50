#!/usr/bin/env python3
"""Set up the development environment and run the project's main job or its tests.

Usage::

    python tools/dev.py run            # install (if needed), then run the quickstart study
                                       # (--resume: a second run continues / shows it)
    python tools/dev.py test [ARGS]    # install (if needed), then ruff, mypy, lint-imports
                                       # (the import contracts), the docs build
                                       # (warnings are errors) and pytest (ARGS replace the
                                       # default: tests/ plus the docstring examples); then,
                                       # without ARGS, the Optuna plugin's, the kit's and the
                                       # ablator tests again on Optuna 3.1.1 (ablator's pin)
    python tools/dev.py install        # only (re)install
    python tools/dev.py bench          # the benchmark suite (prints a Markdown table)
    python tools/dev.py packages       # build every sdist and wheel, install the wheels into
                                       # a fresh venv, smoke-test them (also the end of test)

Everything goes into a virtual environment, ``.venv`` beside this repository's
root (``HPOSAMPLER_VENV`` overrides the folder): the core distribution, every
``plugins/*`` distribution (editable, so their entry points register) and the
root ``dev`` dependency group. Installation is skipped while no ``pyproject.toml``
changed since the last one. Only the standard library is used here.

``test`` also keeps a second environment, ``.venv-optuna-3.1.1``
(``HPOSAMPLER_OLDEST_VENV``), with the core, the grid and Optuna plugins and the
oldest Optuna the Optuna plugin supports, and runs the tests that depend on the
Optuna version there too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("HPOSAMPLER_VENV", ROOT / ".venv"))
STAMP_NAME = ".hposampler-dev-stamp"
QUICKSTART = ROOT / "docs" / "examples" / "quickstart.toml"
#: The oldest Optuna hposampler-optuna supports (ablator pins it), tested in its own venv.
OLDEST_OPTUNA = "optuna==3.1.1"
OLDEST_VENV = Path(os.environ.get("HPOSAMPLER_OLDEST_VENV", ROOT / ".venv-optuna-3.1.1"))
OLDEST_MEMBERS = ["core", "plugins/grid", "plugins/optuna", "plugins/views"]
OLDEST_TESTS = [
    "tests/optuna",
    "tests/views",
    "tests/kit/test_builtin_conformance.py",
    "tests/core/test_ablator_compat.py",
    "tests/core/test_ablator_suite.py",
    "tests/core/test_ablator_exact.py",
]


def log(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def members() -> list[Path]:
    """core/ and every plugins/* folder that holds a pyproject.toml."""
    found = [ROOT / "core"]
    found += sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))
    return found


def bin_path(name: str, venv_dir: Path = VENV) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return venv_dir / sub / f"{name}{suffix}"


def fingerprint(*extra: str) -> str:
    digest = hashlib.sha256()
    files = [ROOT / "pyproject.toml", Path(__file__), *(m / "pyproject.toml" for m in members())]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()


def run(cmd: list[str | Path], **kwargs: object) -> None:
    printable = " ".join(str(c) for c in cmd)
    log(f"$ {printable}")
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        log(f"failed with exit code {result.returncode}: {printable}")
        raise SystemExit(result.returncode)


def install(
    venv_dir: Path = VENV,
    chosen: list[Path] | None = None,
    pins: tuple[str, ...] = (),
    group: str = "dev",
) -> Path:
    """Create or update a venv: a dependency ``group``, ``chosen`` members (editable), ``pins``."""
    python = bin_path("python", venv_dir)
    stamp = venv_dir / STAMP_NAME
    want = fingerprint(*pins)
    if python.exists() and stamp.exists() and stamp.read_text() == want:
        return python
    if not python.exists():
        log(f"creating virtual environment {venv_dir}")
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip>=25.1"])
    cmd: list[str | Path] = [python, "-m", "pip", "install", "--quiet", "--group", group]
    for member in members() if chosen is None else chosen:
        cmd += ["-e", str(member.relative_to(ROOT))]
    run([*cmd, *pins])
    stamp.write_text(want)
    if venv_dir == VENV:
        log("environment ready: activate it with `source .venv/bin/activate`")
    return python


def ensure_browser() -> None:
    """Install Debian's ``chromium`` for the browser tests when missing and allowed (root, apt)."""
    if any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")):
        return
    apt = shutil.which("apt-get")
    if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        log("no Chromium and no way to install it here: the browser tests will skip "
            "(install the chromium package to run them)")  # fmt: skip
        return
    log("installing Debian's chromium package for the report and dashboard tests")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log(f"could not install chromium ({done.stderr.strip()[-300:]}); "
                "the browser tests will skip")  # fmt: skip
            return


def test_oldest_optuna() -> None:
    """The Optuna-dependent tests again, on the oldest Optuna the plugin supports."""
    chosen = [ROOT / m for m in OLDEST_MEMBERS]
    python = install(OLDEST_VENV, chosen, (OLDEST_OPTUNA,), group="test")
    log(f"the Optuna plugin's, the kit's and the ablator tests on {OLDEST_OPTUNA}")
    run([python, "-m", "pytest", *OLDEST_TESTS])


#: What the installed wheels must register (``hposampler list --json``): sampler plugin
#: distributions, the Ray executor and the PostgreSQL storage.
SAMPLER_DISTRIBUTIONS = ("hposampler-grid", "hposampler-optuna", "hposampler-skopt",
                         "hposampler-nevergrad", "hposampler-hyperopt")  # fmt: skip

SMOKE_STUDY = """
[study]
name = "smoke"
objective = "hposampler.problems:branin"
trials = 12
storage = "smoke.db"
[sampler]
name = "tpe"
seed = 0
[metrics]
loss = "min"
[search_space]
x = { value_range = [-5.0, 10.0], value_type = "float" }
y = { value_range = [0.0, 15.0], value_type = "float" }
"""


def packages(python: Path) -> None:
    """Build every distribution's sdist and wheel, install the wheels (not editable) into
    a fresh venv and smoke-test them: a packaging mistake fails here."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hposampler-packages-") as tmp:
        folder = Path(tmp)
        dist = folder / "dist"
        for member in members():
            run([python, "-m", "build", "--no-isolation", "--sdist", "--wheel",
                 "--outdir", dist, member], stdout=subprocess.DEVNULL)  # fmt: skip
        wheels = sorted(dist.glob("*.whl"))
        sdists = sorted(dist.glob("*.tar.gz"))
        if len(wheels) != len(members()) or len(sdists) != len(members()):
            log(f"expected {len(members())} wheels and sdists, built {wheels} and {sdists}")
            raise SystemExit(1)
        fresh = folder / "venv"
        venv.EnvBuilder(with_pip=True).create(fresh)
        clean = bin_path("python", fresh)
        log(f"installing the {len(wheels)} wheels into a fresh venv")
        run([clean, "-m", "pip", "install", "--quiet", *wheels])
        listed = subprocess.run(
            [bin_path("hposampler", fresh), "list", "--json"], capture_output=True, text=True,
            check=True, cwd=folder,
        )  # fmt: skip
        data = json.loads(listed.stdout)
        found = {s["distribution"] for s in data["samplers"]}
        missing = [d for d in SAMPLER_DISTRIBUTIONS if d not in found]
        missing += [] if any(e["name"] == "ray" for e in data["executors"]) else ["ray executor"]
        storages = {s["scheme"] for s in data["storages"]}
        missing += [] if "postgresql" in storages else ["postgresql storage"]
        commands = {c["name"] for c in data["commands"]}
        missing += [] if {"report", "dashboard"} <= commands else ["the views' commands"]
        if missing or data["failed"]:
            log(f"installed wheels: missing {missing}, failed plugins {data['failed']}")
            raise SystemExit(1)
        run([clean, "-c", "import hydra_plugins.hposampler_sweeper"])
        (folder / "smoke.toml").write_text(SMOKE_STUDY)
        run([bin_path("hposampler", fresh), "run", folder / "smoke.toml"],
            stdout=subprocess.DEVNULL)  # fmt: skip
        if not (folder / "smoke.db").is_file():
            log("the smoke study stored nothing beside its study file")
            raise SystemExit(1)
        # the bench on the core's own suite (hposampler-bench's suites need its extras)
        run([bin_path("hposampler", fresh), "bench", "--tasks", "branin", "--samplers",
             "random,tpe", "--seeds", "0", "--budget", "3"], stdout=subprocess.DEVNULL)  # fmt: skip
        log(f"packages: {len(wheels)} wheels and {len(sdists)} sdists built, installed and run")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    rest = argv[1:]
    if command in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if command not in ("install", "run", "test", "bench", "packages"):
        print(f"unknown command {command!r}; use install, run, test, bench or packages",
              file=sys.stderr)  # fmt: skip
        return 2
    python = install()
    if command == "run":
        study = rest or [str(QUICKSTART.relative_to(ROOT)), "--resume"]
        run([bin_path("hposampler"), "run", *study])
    elif command == "test":
        sources = [str((m / "src").relative_to(ROOT)) for m in members()]
        run([bin_path("ruff"), "check", "."])
        run([bin_path("ruff"), "format", "--check", "."])
        run([bin_path("mypy"), *sources, "tools"])  # the doc generators too
        # the layers and independence contracts in pyproject.toml [tool.importlinter]
        run([bin_path("lint-imports"), "--no-cache"])
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
        ensure_browser()
        # the test suite plus the examples in docstrings, in one run
        run([python, "-m", "pytest", *(rest or ["tests", *sources, "--doctest-modules"])])
        if not rest:
            test_oldest_optuna()
            packages(python)
    elif command == "packages":
        packages(python)
    elif command == "bench":
        run([python, "tests/benchmarks/run_all.py", *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
