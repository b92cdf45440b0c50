"""The README's Python example runs as written (with a stand-in for the user's `train`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the pruning example writes runs.db
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no python example"
    losses: list[float] = []

    def train(config: dict) -> float:
        opt = config["train_config.optimizer_config"]
        loss = opt["arguments"]["lr"] * config["model_config.layers"]
        losses.append(loss)
        return loss

    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"train": train})
    assert len(losses) == 20
    assert (tmp_path / "runs.db").exists()
