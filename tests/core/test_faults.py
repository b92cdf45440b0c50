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


def nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (10**400, "metric 'loss' is too large for a float"),
        ({"loss": 1.0, "extra": nested(3000)}, "extra 'extra' of the objective's result cannot"),
        ({"loss": 1.0, "extra": 10**5000}, "extra 'extra' of the objective's result cannot"),
        ({"loss": 1.0, "blob": "x" * (5 * 1024 * 1024)}, "extras are over 1048576 characters"),
    ],
    ids=["huge-metric", "deep-extra", "huge-int-extra", "5MiB-extra"],
)
def test_results_that_cannot_be_stored_fail_their_trial_with_one_line(
    tmp_path: Path, result: object, message: str
) -> None:
    from hposampler import MetricsError

    study = Study.create(tmp_path / "s.db", "s", "random", SPACE, {"loss": "min"}, seed=0)
    with pytest.raises(MetricsError, match=message) as info:
        study.optimize(lambda config: result, 3)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400
    [record] = study.records()  # the run stops at the bad result, nothing left RUNNING
    assert record.state == TrialState.FAIL and message in (record.error or "")
