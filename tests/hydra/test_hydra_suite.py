"""hydra-core's own ``BatchedSweeperTestSuite`` on the hposampler sweeper.

The suite sweeps ``group1=file1,file2 bar=100,200,300`` with batches of two and
checks the jobs' overrides, configs, order, batches and output folders, as it
does for Hydra's basic sweeper. Here ``grid:ordered`` enumerates the same six
combinations in the same order, ``n_jobs=2`` makes the batches, and the sweeper
returns the launched batches as Hydra's basic sweeper does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("hydra")

from hydra.test_utils.launcher_common_tests import BatchedSweeperTestSuite

# hydra-core's pytest plugin (hydra_sweep_runner) is registered by its entry point


@pytest.fixture
def overrides(tmp_path: Path) -> list[str]:
    return [
        "hydra/sweeper=hposampler",
        "hydra.sweeper.sampler=grid:ordered",
        "hydra.sweeper.n_jobs=2",
        "hydra.sweeper.n_trials=6",
        "hydra.sweeper.direction=maximize",
        f"hydra.sweeper.storage={tmp_path / 'suite.db'}",
    ]


@pytest.mark.parametrize("launcher_name", ["basic"])
class TestHposamplerSweeperBatched(BatchedSweeperTestSuite):
    pass
