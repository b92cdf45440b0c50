"""Warm starts: earlier studies' trials reach every backend as history, never as trials."""

from __future__ import annotations

import importlib.util
import statistics
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hposampler import Study
from hposampler.cli import main
from hposampler.errors import StudyError

SPACE = {"x": {"value_range": [-5.0, 10.0]}, "y": {"value_range": [0.0, 15.0]}}


def bowl(config: dict[str, Any]) -> float:
    return (config["x"] - 2.0) ** 2 + (config["y"] - 3.0) ** 2


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    db = tmp_path / "w.db"
    Study.create(db, "src", "random", SPACE, {"loss": "min"}, seed=0).optimize(bowl, n_trials=40)
    return db


LEARNERS = [
    pytest.param(name, marks=pytest.mark.skipif(not _installed(*mods), reason=f"needs {mods}"))
    for name, mods in [
        ("tpe", ("optuna",)),
        ("skopt:gp", ("skopt",)),
        ("hyperopt:tpe", ("hyperopt",)),
        ("nevergrad:oneplusone", ("nevergrad",)),
        ("auto", ("optuna",)),
    ]
]


@pytest.mark.parametrize("name", LEARNERS)
def test_a_warm_started_backend_starts_where_the_source_got(source: Path, name: str) -> None:
    def first_losses(warm: list[str], study: str) -> float:
        created = Study.create(source, study, name, SPACE, {"loss": "min"}, seed=5,
                               warm_start=warm)  # fmt: skip
        created.optimize(bowl, n_trials=6)
        records = created.records()
        assert [r.trial_id for r in records] == list(range(6))  # its own ids, its own count
        return statistics.median(r.metrics[-1]["loss"] for r in records)

    warm = first_losses(["src"], f"warm-{name}")
    cold = first_losses([], f"cold-{name}")
    assert warm < cold
    if name == "auto":  # it picks a backend that learns from history
        internal = Study.load(source, "warm-auto").records()[0].internal
        assert internal["auto"] == {"backend": "optuna:tpe",
                                    "why": "warm start: 40 earlier trials"}  # fmt: skip


def test_warm_trials_are_not_the_studys_and_configs_are_clipped_or_dropped(
    tmp_path: Path,
) -> None:
    db = tmp_path / "w.db"
    wide = {"x": {"value_range": [-10.0, 10.0]}, "act": {"categorical_values": ["a", "b", "c"]}}
    src = Study.create(db, "wide", "random", wide, {"loss": "min"}, seed=1)
    src.optimize(lambda c: abs(c["x"]), n_trials=30)
    narrow = {"x": {"value_range": [0.0, 5.0]}, "act": {"categorical_values": ["a", "b"]}}
    study = Study.create(db, "narrow", "tpe", narrow, {"loss": "min"}, seed=0,
                         warm_start=["wide"])  # fmt: skip
    warm = study.warm_start()
    configs = [r.config for r in src.records()]
    inside = sum(0 <= c["x"] <= 5 and c["act"] != "c" for c in configs)
    clipped = sum(not 0 <= c["x"] <= 5 and c["act"] != "c" for c in configs)
    assert (warm.kept, warm.clipped, warm.dropped) == (inside, clipped, 30 - inside - clipped)
    assert all(0 <= t.config["x"] <= 5 and t.config["act"] != "c" for t in warm.trials)
    assert [t.trial_id for t in warm.trials] == list(range(-len(warm.trials), 0))
    study.optimize(lambda c: abs(c["x"]), n_trials=4)
    assert len(study.records()) == 4  # warm trials never stored nor counted
    assert f"({clipped} clipped, {30 - inside - clipped} dropped)" in warm.summary()


def test_sources_of_different_scales_are_told_on_one_scale(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    # the same bowl on an "easy" task (small losses) and a "hard" one (100x larger)
    Study.create(db, "easy", "random", SPACE, {"loss": "min"}, seed=0).optimize(bowl, n_trials=30)
    hard = Study.create(db, "hard", "random", SPACE, {"loss": "min"}, seed=1)
    hard.optimize(lambda c: 100 * bowl(c) + 1000, n_trials=30)
    one = Study.create(db, "one", "tpe", SPACE, {"loss": "min"}, warm_start=["hard"])
    as_stored = [r.metrics[-1]["loss"] for r in hard.records()]
    assert [t.metrics[-1]["loss"] for t in one.warm_start().trials] == as_stored  # one: as it is
    both = Study.create(db, "both", "tpe", SPACE, {"loss": "min"}, warm_start=["easy", "hard"])
    told = [t.metrics[-1]["loss"] for t in both.warm_start().trials]
    easy_told, hard_told = told[:30], told[30:]
    pooled = sorted([*[r.metrics[-1]["loss"] for r in Study.load(db, "easy").records()],
                     *as_stored])  # fmt: skip
    for values in (easy_told, hard_told):  # each source spans the pooled values, best to worst
        assert min(values) == pytest.approx(pooled[0])
        assert max(values) == pytest.approx(pooled[-1])
    order = sorted(range(30), key=lambda i: as_stored[i])  # order within a source is kept
    assert [hard_told[i] for i in order] == sorted(hard_told)
    # a model's best tenth now holds both sources' best trials, not only the easy task's
    best = sorted(range(60), key=lambda i: told[i])[:6]
    assert any(i < 30 for i in best) and any(i >= 30 for i in best)


def test_a_warm_start_whose_metrics_differ_is_one_line(source: Path, tmp_path: Path) -> None:
    with pytest.raises(
        StudyError, match=r"optimises \{'loss': 'min'\}, this study \{'acc': 'max'\}"
    ):
        Study.create(source, "acc", "tpe", SPACE, {"acc": "max"}, warm_start=["src"])
    with pytest.raises(StudyError, match="no study 'nope'.*hposampler studies"):
        Study.create(source, "x", "tpe", SPACE, {"loss": "min"}, warm_start=["nope"])
    with pytest.raises(StudyError, match="warm_start must be a list of study names"):
        Study.create(source, "x", "tpe", SPACE, {"loss": "min"}, warm_start="src")
    assert "x" not in [n for n in Study.load(source, "src").storage.study_names()]


def test_a_source_in_another_storage(source: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    study = Study.create(other, "b", "tpe", SPACE, {"loss": "min"}, seed=0,
                         warm_start=[f"{source}:src"])  # fmt: skip
    assert len(study.warm_start().trials) == 40
    study.optimize(bowl, n_trials=3)
    assert len(Study.load(other, "b").records()) == 3


def test_study_files_and_the_cli_warm_start(source: Path, tmp_path: Path) -> None:
    file = tmp_path / "s.toml"
    file.write_text(
        textwrap.dedent(f"""
        [study]
        name = "filed"
        objective = "test_warm_start:bowl"
        trials = 5
        storage = "{source}"

        [sampler]
        name = "tpe"
        seed = 0

        [metrics]
        loss = "min"

        [search_space]
        x = {{ value_range = [-5.0, 10.0] }}
        y = {{ value_range = [0.0, 15.0] }}

        [warm_start]
        studies = ["src"]
    """)
    )
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    try:
        ran = CliRunner().invoke(main, ["run", str(file)])
        assert ran.exit_code == 0, ran.output
        assert "warm start: 40 trials from src" in ran.output
        shown = CliRunner().invoke(main, ["show", "filed", "--storage", str(source)])
        assert "warm start: 40 trials from src; not this study's trials" in shown.output
        plain = tmp_path / "p.toml"
        plain.write_text(file.read_text().replace('name = "filed"', 'name = "flagged"')
                         .split("[warm_start]")[0])  # fmt: skip
        flagged = CliRunner().invoke(main, ["run", str(plain), "--warm-start", "src"])
        assert flagged.exit_code == 0, flagged.output
        assert Study.load(source, "flagged").config.warm_start == ("src",)
        bad = CliRunner().invoke(main, ["run", str(plain), "--warm-start", "gone", "--resume"])
        assert bad.exit_code == 2 and "no study 'gone'" in bad.output
    finally:
        sys.path.remove(str(Path(__file__).parent))
