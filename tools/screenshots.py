"""Make the screenshots of docs/seeing.md from a real study: the PNG plot, the HTML report and
the live dashboard, each as users would see it.

Run: python tools/screenshots.py   (in .venv; needs Chromium: Debian's chromium package)

It runs the quickstart problem (TPE on Branin, 80 trials, pruning-free) and a
pruned learning-curve study into a temporary SQLite file, then writes
``docs/images/plot.png``, ``docs/images/report.png`` and
``docs/images/dashboard.png``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("no Chromium: install Debian's chromium package")


def _shot(url: str, out: Path, height: int = 1400) -> None:
    args = [_chromium(), "--headless", "--disable-gpu", "--hide-scrollbars",
            f"--window-size=1300,{height}", "--virtual-time-budget=15000",
            f"--screenshot={out}", url]  # fmt: skip
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")
    subprocess.run(args, check=True, capture_output=True, timeout=180)
    print(f"wrote {out.relative_to(ROOT)}")


def _hposampler(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hposampler", *args], check=True,
                          capture_output=True, text=True)  # fmt: skip


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="hposampler-shots-"))
    study = folder / "quickstart.toml"
    study.write_text((ROOT / "docs" / "examples" / "quickstart.toml").read_text())
    _hposampler("run", str(study))
    db = folder / "quickstart.db"
    _hposampler("plot", "quickstart", "--storage", str(db), "-o", str(IMAGES / "plot.png"))
    print("wrote docs/images/plot.png")
    report = folder / "report.html"
    _hposampler("report", "quickstart", "--storage", str(db), "-o", str(report))
    _shot(report.as_uri(), IMAGES / "report.png", height=2200)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "hposampler", "dashboard", "quickstart", "--storage", str(db),
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/api/studies", timeout=5).close()
                break
            except OSError:
                time.sleep(0.2)
        _shot(f"{base}/dashboard/studies/0", IMAGES / "dashboard.png", height=1000)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
