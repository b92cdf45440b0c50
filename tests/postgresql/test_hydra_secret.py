"""The Hydra sweeper never writes a storage password to the console or its logs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("hydra_plugins.hposampler_sweeper")
yaml = pytest.importorskip("yaml")

APP = """
import hydra

@hydra.main(version_base=None, config_path=".", config_name="config")
def main(cfg):
    return (cfg.x - 2) ** 2

if __name__ == "__main__":
    main()
"""


def test_a_password_in_the_storage_url_is_masked_in_console_and_logs(
    tmp_path: Path, postgres_url: str
) -> None:
    url = postgres_url.replace("://hposampler@", "://hposampler:s3cret-pw@")  # trust auth
    (tmp_path / "app.py").write_text(APP)
    config = {
        "defaults": [{"override hydra/sweeper": "hposampler"}, "_self_"],
        "x": 0.0,
        "hydra": {"sweeper": {"sampler": "random", "n_trials": 2, "storage": url,
                              "params": {"x": "interval(0, 4)"}},
                  "sweep": {"dir": str(tmp_path / "multirun")}},
    }  # fmt: skip
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [sys.executable, "app.py", "--multirun"], cwd=tmp_path, capture_output=True, text=True,
        timeout=1800, env={k: v for k, v in os.environ.items() if not k.startswith("HPOSAMPLER_")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "hposampler:***@" in proc.stdout + proc.stderr  # the study line, masked
    assert "s3cret-pw" not in proc.stdout + proc.stderr
    for log in tmp_path.rglob("*.log"):
        assert "s3cret-pw" not in log.read_text(), log
