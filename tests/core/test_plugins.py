"""Plugin discovery through real (throwaway) installed distributions, in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from support import make_dist, run_py

GOOD = """
import random
import hposampler


class FirstSampler(hposampler.BaseSampler):
    def _eager_sample(self):
        rng = random.Random(self.seed)
        _, config = self.tree.sample(lambda p: (p.grid() or [p.low])[0])
        return self.new_trial_id(), config

    def _drop(self):
        pass

    def _update_trial(self, trial_id, metrics, state):
        pass

    def internal_repr(self, trial_id):
        return None


@hposampler.hookimpl
def register_samplers(register):
    register(hposampler.SamplerSpec("{family}:first", FirstSampler, aliases={aliases},
                                    description="always the first value"))
"""


LIST_JSON = """
import json
from hposampler.cli.plugins import plugin_listing
print(json.dumps(plugin_listing()))
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    make_dist(
        site, "hposampler-first", "hpo_first", GOOD.format(family="first", aliases="('first',)")
    )
    make_dist(site, "hposampler-broken", "hpo_broken", "raise RuntimeError('boom at import')\n")
    return site


def listing(site: Path, **env: str) -> dict:
    proc = run_py(site, LIST_JSON, **env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_third_party_plugin_is_discovered_and_built_by_name(site: Path) -> None:
    data = listing(site)
    first = next(s for s in data["samplers"] if s["name"] == "first:first")
    assert first["distribution"] == "hposampler-first" and first["version"] == "1.2.3"
    assert first["aliases"] == ["first"]
    proc = run_py(
        site,
        """
        import hposampler
        s = hposampler.make_sampler("first", {"x": {"categorical_values": ["a", "b"]}})
        print(s.eager_sample()[1])
    """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "{'x': 'a'}"


def test_a_plugin_failing_on_import_is_recorded_and_others_load(site: Path) -> None:
    data = listing(site)
    [failure] = [f for f in data["failed"] if f["plugin"] == "hpo_broken"]
    assert failure == {
        "plugin": "hpo_broken",
        "distribution": "hposampler-broken",
        "version": "1.2.3",
        "stage": "import",
        "error": "RuntimeError: boom at import",
    }
    assert any(s["name"] == "first:first" for s in data["samplers"])


def test_strict_mode_reraises_plugin_failures(site: Path) -> None:
    proc = run_py(site, LIST_JSON, HPOSAMPLER_STRICT_PLUGINS="1")
    assert proc.returncode != 0
    assert (
        "PluginError: plugin 'hpo_broken' from hposampler-broken 1.2.3 failed to import: "
        "RuntimeError: boom at import" in proc.stderr
    )


def test_disable_by_entry_point_or_distribution_name(site: Path) -> None:
    data = listing(site, HPOSAMPLER_DISABLE_PLUGINS="hposampler_broken, hpo_first")
    assert {d["plugin"] for d in data["disabled"]} == {"hpo_broken", "hpo_first"}
    assert not data["failed"]
    assert not any(s["name"] == "first:first" for s in data["samplers"])


def test_a_duplicate_sampler_name_is_ignored_and_the_others_work(site: Path) -> None:
    make_dist(site, "hposampler-copy", "hpo_copy", GOOD.format(family="first", aliases="()"))
    data = listing(site)
    [clash] = data["clashes"]
    assert clash["kind"] == "name" and clash["value"] == "first:first"
    # precedence: bundled distributions first, then by distribution name
    assert clash["kept_distribution"] == "hposampler-copy"
    assert clash["ignored_distribution"] == "hposampler-first"
    assert "HPOSAMPLER_DISABLE_PLUGINS=hposampler-first" in clash["message"]
    built = run_py(site, """
        import hposampler
        s = hposampler.make_sampler("first:first", {"x": {"categorical_values": [1]}})
        print(hposampler.make_sampler("grid", {"x": {"categorical_values": [1]}}).eager_sample())
    """)  # fmt: skip
    assert built.returncode == 0, built.stderr


def test_an_alias_clash_keeps_the_bundled_sampler_and_is_listed(site: Path) -> None:
    make_dist(site, "aaa-plugin", "hpo_other", GOOD.format(family="other", aliases="('tpe',)"))
    data = listing(site)
    [clash] = data["clashes"]
    assert (clash["kind"], clash["value"], clash["kept"]) == ("alias", "tpe", "optuna:tpe")
    assert clash["ignored"] == "other:first"
    [other] = [s for s in data["samplers"] if s["name"] == "other:first"]  # registered all the same
    assert "tpe" not in other["aliases"]  # without the alias it lost: listed as it works
    proc = run_py(site, """
        import hposampler
        print(hposampler.get_sampler_spec("tpe").name, hposampler.get_sampler_spec("other:first").name)
    """)  # fmt: skip
    assert proc.stdout.split() == ["optuna:tpe", "other:first"], proc.stderr
    shown = subprocess.run([sys.executable, "-m", "hposampler", "list"], capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(site)}, timeout=120)  # fmt: skip
    assert "Clash: alias 'tpe' of sampler 'other:first' from plugin hpo_other" in shown.stdout


def test_strict_mode_refuses_clashes(site: Path) -> None:
    make_dist(site, "hposampler-copy", "hpo_copy", GOOD.format(family="first", aliases="()"))
    proc = run_py(site, LIST_JSON, HPOSAMPLER_STRICT_PLUGINS="1",
                  HPOSAMPLER_DISABLE_PLUGINS="hposampler-broken")  # fmt: skip
    assert proc.returncode != 0
    assert "sampler 'first:first' from plugin hpo_first (hposampler-first 1.2.3) is ignored" in (
        proc.stderr
    )


def test_unknown_names_mention_plugins_that_failed(site: Path) -> None:
    proc = run_py(site, """
        import hposampler
        try:
            hposampler.make_sampler("nope", {"x": {"categorical_values": [1]}})
        except LookupError as exc:
            print(exc)
    """)  # fmt: skip
    assert "Plugins that failed to load or clashed (hpo_broken)" in proc.stdout


def test_extra_plugin_modules_from_the_environment(site: Path) -> None:
    (site / "devplug.py").write_text(GOOD.format(family="dev", aliases="()"))
    data = listing(site, HPOSAMPLER_PLUGINS="devplug,no_such_mod")
    dev = next(s for s in data["samplers"] if s["name"] == "dev:first")
    assert dev["plugin"] == "devplug" and dev["distribution"] is None
    assert any(f["plugin"] == "no_such_mod" and f["stage"] == "import" for f in data["failed"])


def test_a_plugin_registering_garbage_is_recorded(site: Path) -> None:
    make_dist(
        site,
        "hposampler-garbage",
        "hpo_garbage",
        """
        import hposampler
        @hposampler.hookimpl
        def register_samplers(register):
            register({"name": "x:y"})
    """,
    )
    data = listing(site)
    [failure] = [f for f in data["failed"] if f["plugin"] == "hpo_garbage"]
    assert failure["stage"] == "register_samplers"
    assert "expected a SamplerSpec" in failure["error"]


def test_a_misspelt_hook_is_reported(site: Path) -> None:
    make_dist(
        site,
        "hposampler-typo",
        "hpo_typo",
        """
        import hposampler
        @hposampler.hookimpl
        def register_sampler(register):
            pass
    """,
    )
    proc = run_py(site, LIST_JSON)
    assert proc.returncode != 0
    assert "plugin 'hpo_typo' implements a hook hposampler does not define" in proc.stderr


HEAVY = ("optuna", "sklearn", "skopt", "ray", "matplotlib", "numpy", "scipy", "torch", "psycopg")


def test_import_and_listing_import_no_heavy_library(site: Path) -> None:
    proc = run_py(
        site,
        f"""
        import sys, json
        import hposampler
        after_import = [m for m in {HEAVY!r} if m in sys.modules]
        from click.testing import CliRunner
        from hposampler.cli import main
        result = CliRunner().invoke(main, ["list"])
        assert result.exit_code == 0, result.output
        hposampler.available_samplers()
        after_list = [m for m in {HEAVY!r} if m in sys.modules]
        print(json.dumps([after_import, after_list]))
    """,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [[], []]


AUTHOR = """
import threading
import hposampler


class Ported(hposampler.BaseSampler):
    '''ablator style: overrides update_trial itself, no _update_trial.'''

    def __init__(self, search_space, *, step: float = 0.5, **kwargs):
        super().__init__(search_space, **kwargs)
        self.step = step
        self.told = []

    def _eager_sample(self):
        _, config = self.tree.sample(lambda p: p.from_unit(self.step))
        return self.new_trial_id(), config

    def internal_repr(self, trial_id):
        return None

    def update_trial(self, trial_id, metrics, state):
        self.told.append((trial_id, metrics, int(state)))


class Hangs(Ported):
    def _eager_sample(self):
        if self.new_trial_id() >= 1:
            threading.Event().wait()
        return super()._eager_sample()


@hposampler.hookimpl
def register_samplers(register):
    register(hposampler.SamplerSpec("walk:simple", Ported))  # options read from __init__
    register(hposampler.SamplerSpec("walk:hangs", Hangs))
"""


def test_an_authors_installed_plugin_ported_from_ablator(site: Path) -> None:
    make_dist(site, "hposampler-walk", "hpo_walk", AUTHOR)
    proc = run_py(site, """
        import hposampler
        from hposampler.testing import run_check
        from hposampler.testing.checks import check_dense_ids_and_drop
        s = hposampler.make_sampler("walk:simple", {"x": {"value_range": [0, 10]}},
                                    optim_metrics={"l": "min"}, step=0.2)
        tid, config, _ = s.eager_sample()
        s.unlock(drop=False)
        s.update_trial(tid, {"l": 3}, 1)
        print(config["x"], s.told)
        for bad in ({"bogus": "x"},):
            try:
                s.update_trial(tid, bad, 1)
            except hposampler.MetricsError as exc:
                print("refused:", exc)
        try:
            hposampler.make_sampler("walk:simple", {"x": {"value_range": [0, 1]}}, stp=1)
        except hposampler.SamplerOptionsError as exc:
            print("options:", exc)
        try:
            run_check(check_dense_ids_and_drop, "walk:hangs", timeout=2)
        except AssertionError as exc:
            print("kit:", exc)
    """)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "2.0 [(0, {'l': 3.0}, 1)]"  # step=0.2 reached it; the call validated
    assert lines[1].startswith("refused: metric 'bogus' must be a number")
    assert "has no option 'stp'. Did you mean 'step'? Valid options: step." in lines[2]
    assert lines[3].startswith(
        "kit: [dense_ids_and_drop] sampler 'walk:hangs': eager_sample() made no progress"
    )


BUDGETED = """
import random
import hposampler


class Narrowing(hposampler.BaseSampler):
    '''Budget-aware: explores for half the budget, then narrows around the best.'''

    def __init__(self, search_space, *, optim_metrics=None, trials=None, seed=None,
                 budget=None, concurrency=None):
        super().__init__(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed)
        self.budget, self.concurrency = budget, concurrency
        self.rng = random.Random(seed)
        self.best = None  # (loss, unit point)
        self.points = {}

    def _eager_sample(self):
        trial_id = self.new_trial_id()
        explore = self.budget is None or trial_id < self.budget // 2 or self.best is None
        units = {}

        def draw(param):
            if explore:
                u = self.rng.random()
            else:
                u = min(1.0, max(0.0, self.best[1][param.name] + self.rng.gauss(0, 0.05)))
            units[param.name] = u
            return param.from_unit(u)

        _, config = self.tree.sample(draw)
        self.points[trial_id] = units
        return trial_id, config

    def _update_trial(self, trial_id, metrics, state):
        if state.name == "COMPLETE" and trial_id in self.points:
            loss = self.worst_filled(metrics)["loss"]
            if self.best is None or loss < self.best[0]:
                self.best = (loss, self.points[trial_id])

    def internal_repr(self, trial_id):
        return {"budget": self.budget, "concurrency": self.concurrency}


@hposampler.hookimpl
def register_samplers(register):
    register(hposampler.SamplerSpec("budget:narrowing", Narrowing, needs_metrics=True))
"""


def test_a_budget_aware_sampler_runs_at_concurrency_4_through_the_cli(site: Path) -> None:
    make_dist(site, "hposampler-budget", "hpo_budget", BUDGETED)
    (site / "s.toml").write_text(textwrap.dedent("""
        [study]
        name = "b"
        objective = "hposampler.problems:branin"
        trials = 24
        concurrency = 4
        storage = "b.db"
        [sampler]
        name = "budget:narrowing"
        seed = 0
        [metrics]
        loss = "min"
        [search_space]
        x = { value_range = [-5, 10] }
        y = { value_range = [0, 15] }
    """))  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPOSAMPLER_")}
    proc = subprocess.run(
        [sys.executable, "-m", "hposampler", "run", str(site / "s.toml")],
        capture_output=True, text=True, timeout=120, env={**env, "PYTHONPATH": str(site)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    shown = run_py(site, f"""
        from hposampler import Study
        records = Study.load({str(site / "b.db")!r}, "b").records()
        print(len(records), sum(r.state.name == "COMPLETE" for r in records))
        print(sorted({{tuple(r.internal.values()) for r in records}}))
    """)  # fmt: skip
    lines = shown.stdout.splitlines()
    assert lines == ["24 24", "[(24, 4)]"], shown.stderr  # the study told it both
