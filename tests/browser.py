"""A real headless Chromium for tests: load a page offline, return its DOM and console lines.

``tools/dev.py test`` installs Debian's ``chromium`` package when it is missing
and the machine allows it (root and apt-get); elsewhere the browser tests skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    """The Chromium binary, or skip the test saying how to get one."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium here: install Debian's chromium package (tools/dev.py does as root)")


def render(
    url: str, *, offline: bool = True, budget_ms: int = 15000, screenshot: Path | None = None
) -> tuple[str, list[str]]:
    """Load ``url`` headless; returns (the DOM after scripts ran, the console's lines).

    ``offline`` makes every host name unresolvable except 127.0.0.1, so a page
    that fetches anything from the network shows it as missing content.
    """
    args = [chromium(), "--headless", "--disable-gpu", "--no-first-run",
            "--enable-logging=stderr", "--v=0", f"--virtual-time-budget={budget_ms}",
            "--window-size=1400,1000"]  # fmt: skip
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium's sandbox refuses root
    if offline:
        args.append("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    if screenshot is not None:
        run = subprocess.run([*args, f"--screenshot={screenshot}", url], capture_output=True,
                             text=True, timeout=180, check=False)  # fmt: skip
        assert screenshot.exists(), run.stderr[-2000:]
    done = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True,
                          timeout=180, check=False)  # fmt: skip
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console
