"""``random`` is the core's own uniform random search (``hposampler:random``)."""

from __future__ import annotations

import json
import math
import statistics
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import hposampler
from hposampler import Study, make_sampler
from hposampler.randomsearch import RandomSearch
from support import draw_all, run_py

SPACE = {
    "lr": {"value_range": [1e-4, 1.0], "value_type": "float", "log": True},
    "x": {"value_range": [-2.0, 2.0], "value_type": "float"},
    "depth": {"value_range": [1, 4], "value_type": "int"},
    "act": {"categorical_values": ["relu", "tanh", "gelu"]},
    "net": {
        "subspaces": [
            {"sub_configuration": {
                "kind": "mlp", "width": {"value_range": [8, 64], "value_type": "int"}}},
            {"sub_configuration": {"kind": "cnn", "kernel": {"categorical_values": [3, 5]}}},
        ]
    },
}  # fmt: skip


def test_the_random_name_is_the_cores_own_sampler() -> None:
    sampler = make_sampler("random", SPACE, seed=0)
    assert isinstance(sampler, RandomSearch)
    assert hposampler.get_sampler_spec("random").name == "hposampler:random"


def test_draws_are_uniform_per_parameter_kind() -> None:
    configs = draw_all(RandomSearch(SPACE, seed=3), 3000)
    # log-uniform: half the draws below the geometric middle 1e-2
    below = sum(c["lr"] < 1e-2 for c in configs) / len(configs)
    assert 0.45 < below < 0.55
    assert abs(statistics.mean(c["x"] for c in configs)) < 0.1
    for key, values in (("depth", [1, 2, 3, 4]), ("act", ["relu", "tanh", "gelu"])):
        counts = [sum(c[key] == v for c in configs) for v in values]
        assert min(counts) > 0.8 * len(configs) / len(values), (key, counts)
    kinds = [c["net"]["kind"] for c in configs]
    assert 0.45 < kinds.count("mlp") / len(kinds) < 0.55
    assert {c["net"]["kernel"] for c in configs if c["net"]["kind"] == "cnn"} == {3, 5}
    widths = [c["net"]["width"] for c in configs if c["net"]["kind"] == "mlp"]
    assert min(widths) == 8 and max(widths) == 64


def test_a_dropped_trial_is_drawn_afresh_and_seeds_differ() -> None:
    sampler = RandomSearch(SPACE, seed=0)
    first_id, first, _ = sampler.eager_sample()
    sampler.unlock(drop=True)
    again_id, again, _ = sampler.eager_sample()
    assert again_id == first_id and again != first
    sampler.unlock(drop=False)
    assert draw_all(RandomSearch(SPACE, seed=0), 5) != draw_all(RandomSearch(SPACE, seed=1), 5)
    assert draw_all(RandomSearch(SPACE), 5) != draw_all(RandomSearch(SPACE), 5)
    negative = draw_all(RandomSearch(SPACE, seed=-1), 5)
    assert negative == draw_all(RandomSearch(SPACE, seed=-1), 5)
    assert negative != draw_all(RandomSearch(SPACE, seed=1), 5)


def test_workers_sharing_a_study_propose_what_one_worker_would(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    space = {"x": SPACE["x"], "lr": SPACE["lr"]}
    alone = Study.create(tmp_path / "alone.db", "s", "random", space, {"loss": "min"}, seed=7)
    alone.optimize(lambda c: c["x"] ** 2, 12)
    one = Study.create(db, "s", "random", space, {"loss": "min"}, seed=7)
    other = Study.load(db, "s")
    for _ in range(6):  # two handles on one file take turns, as two workers would
        for study in (one, other):
            trial = study.ask()
            study.tell(trial, trial.config["x"] ** 2)
    assert [r.config for r in Study.load(db, "s").records()] == [r.config for r in alone.records()]


def test_a_random_study_needs_no_plugin_and_imports_nothing_heavy(tmp_path: Path) -> None:
    plugins = ",".join(ep.name for ep in entry_points(group="hposampler"))
    proc = run_py(
        tmp_path,
        f"""
        import json, sys
        from hposampler import Study, available_samplers
        study = Study.create({str(tmp_path / "s.db")!r}, "s", "random",
                             {{"x": {{"value_range": [0.0, 1.0], "value_type": "float"}}}},
                             {{"loss": "min"}}, seed=0)
        study.optimize(lambda c: c["x"], 5)
        heavy = [m for m in ("numpy", "optuna", "scipy", "sklearn") if m in sys.modules]
        print(json.dumps([len(study.records()), heavy, sorted(s.name for s in available_samplers())]))
        """,
        HPOSAMPLER_DISABLE_PLUGINS=plugins,
    )
    assert proc.returncode == 0, proc.stderr
    done, heavy, names = json.loads(proc.stdout)
    assert (done, heavy) == (5, [])
    assert not any(name.startswith(("optuna:", "grid:")) for name in names)


@pytest.mark.parametrize("seed", [0, 12345])
def test_every_float_is_inside_its_bounds(seed: int) -> None:
    space = {"tiny": {"value_range": [1e-300, 1e-299], "value_type": "float", "log": True}}
    for config in draw_all(RandomSearch(space, seed=seed), 200):
        assert 1e-300 <= config["tiny"] <= 1e-299 and math.isfinite(config["tiny"])
