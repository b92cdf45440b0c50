"""Real faults a study meets: a worker child killed under the process executor."""

from __future__ import annotations

from pathlib import Path

import pytest

from hposampler import Study, TrialState

SPACE = {"x": {"value_range": [0.0, 1.0], "value_type": "float"}}


def test_a_killed_worker_child_is_replaced_and_its_trial_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULT_DIR", str(tmp_path))
    study = Study.create(tmp_path / "s.db", "s", "random", SPACE, {"loss": "min"}, seed=0)
    study.optimize("support:dies_on_first_attempt", 6, concurrency=2, executor="process")
    records = study.records()
    assert [r.trial_id for r in records] == list(range(6))
    assert all(r.state == TrialState.COMPLETE for r in records)
    # each config killed its worker once and completed on a re-run; attempts count real runs
    assert len(list(tmp_path.glob("0.*"))) == 6
    assert all(r.attempts >= 2 for r in records)
    assert all(r.final_metrics == {"loss": r.config["x"] ** 2} for r in records)


def test_a_trial_that_always_kills_its_worker_fails_with_the_reason(tmp_path: Path) -> None:
    study = Study.create(tmp_path / "s.db", "s", "random", SPACE, {"loss": "min"}, seed=3)
    study.optimize("support:dies_for_small_x", 8, concurrency=2, executor="process")
    records = study.records()
    assert len(records) == 8 and not [r for r in records if r.state.is_pending]
    killers = [r for r in records if r.config["x"] < 0.3]
    assert killers, "seed 3 draws an x below 0.3"
    for record in killers:
        assert record.state == TrialState.FAIL
        assert record.error.startswith(f"WorkerDied: the worker process running trial "
                                       f"{record.trial_id} died")  # fmt: skip
    others = [r for r in records if r.config["x"] >= 0.3]
    assert all(r.state == TrialState.COMPLETE for r in others)
