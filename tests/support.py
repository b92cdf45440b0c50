"""Helpers shared by the tests (importable as ``support``: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pluggy

import hposampler
from hposampler.plugins import PluginInfo, PluginRegistry, hookspecs
from hposampler.space.tree import CategoricalParam, ChoiceParam, IntParam, Param


class UniformSampler(hposampler.BaseSampler):
    """A minimal pure-Python random sampler used to test the core contract."""

    def __init__(self, search_space: Any, **kwargs: Any) -> None:
        super().__init__(search_space, **kwargs)
        self.rng = random.Random(self.seed)
        self.configs: dict[int, dict[str, Any]] = {t.trial_id: t.config for t in self.trials}
        self.updates: list[tuple[int, Any, hposampler.TrialState]] = []

    def _resume_done(self) -> None:
        if self.configs:  # continue with fresh draws instead of replaying the seed's stream
            self.rng = random.Random(self.derived_seed("resume", len(self.configs)))

    def _suggest(self, param: Param) -> Any:
        if isinstance(param, ChoiceParam):
            return self.rng.randrange(param.n_branches)
        if isinstance(param, CategoricalParam):
            return self.rng.choice(param.choices)
        grid = param.grid()
        if grid is not None:
            return self.rng.choice(grid)
        if isinstance(param, IntParam):
            return self.rng.randint(param.low, param.high)
        return self.rng.uniform(param.low, param.high)

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        trial_id = self.new_trial_id()
        _, config = self.tree.sample(self._suggest)
        self.configs[trial_id] = config
        return trial_id, config

    def _drop(self) -> None:
        assert self.locked_trial_id is not None
        del self.configs[self.locked_trial_id]

    def _update_trial(self, trial_id: int, metrics: Any, state: hposampler.TrialState) -> None:
        self.updates.append((trial_id, metrics, state))

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        return {"config": self.configs[trial_id]} if trial_id in self.configs else None


class UniformPlugin:
    """Registers ``test:uniform`` (alias ``uniform``)."""

    @hposampler.hookimpl
    def register_samplers(self, register: Any) -> None:
        register(
            hposampler.SamplerSpec(
                "test:uniform",
                UniformSampler,
                aliases=("uniform",),
                description="uniform random (tests)",
                needs_metrics=False,
                options=(hposampler.OptionSpec("flavour", "plain", (str,), "unused"),),
            )
        )


def build_registry(*plugins: tuple[str, object], strict: bool = False) -> PluginRegistry:
    """A registry holding the core's built-in plugins plus ``plugins`` (no entry points)."""
    pm = pluggy.PluginManager("hposampler")
    pm.add_hookspecs(hookspecs)
    registry = PluginRegistry(pm, strict=strict)
    from hposampler import storage
    from hposampler.study import executors

    registry.add(executors, PluginInfo("hposampler.study.executors", "hposampler.study.executors"))
    registry.add(storage, PluginInfo("hposampler.storage", "hposampler.storage"))
    for name, obj in plugins:
        registry.add(obj, PluginInfo(name, name, "test-dist", "0"))
    return registry


# -- objectives for study tests (importable as support:<name>, also in subprocesses) --------


def draw_all(sampler: Any, n: int) -> list[dict[str, Any]]:
    """The configs of ``n`` samples, each accepted (``unlock(drop=False)``) in turn."""
    out = []
    for _ in range(n):
        _, config, _ = sampler.eager_sample()
        sampler.unlock(drop=False)
        out.append(config)
    return out


def quadratic(config: dict[str, Any]) -> float:
    """(x - 0.3)^2: a trivial, fast objective."""
    return float((config["x"] - 0.3) ** 2)


def failing_above(config: dict[str, Any]) -> float:
    """Raises for x > 0.7 (a crashing training run)."""
    if config["x"] > 0.7:
        raise ValueError(f"diverged at x={config['x']:.3f}")
    return float(config["x"])


def with_extras(config: dict[str, Any]) -> dict[str, Any]:
    """Returns the metric plus extra values to store."""
    return {"loss": config["x"], "epochs": 3, "note": "ok"}


def two_metrics(config: dict[str, Any]) -> dict[str, float]:
    """A trade-off: loss falls as x grows, cost rises."""
    return {"loss": 1.0 - config["x"], "cost": config["x"] ** 2 + 0.1 * config["y"]}


def slow_quadratic(config: dict[str, Any]) -> float:
    """Sleeps a little so a test can kill the run mid-study."""
    import time

    time.sleep(0.05)
    return quadratic(config)


def where_am_i(config: dict[str, Any]) -> dict[str, Any]:
    """Reports the process and thread that ran the trial."""
    import os
    import threading
    import time

    time.sleep(0.05)
    return {"loss": config["x"], "pid": os.getpid(), "thread": threading.get_ident()}


def wrong_metric(config: dict[str, Any]) -> dict[str, float]:
    """Returns a misspelt metric name."""
    return {"los": config["x"]}


def die_once(config: dict[str, Any]) -> dict[str, Any]:
    """Kills its own worker process the first time it sees a config with x > 0.5.

    ``config["marker_dir"]`` (a constant of the search space) holds one marker
    file per config already attempted.
    """
    import os
    from pathlib import Path

    marker = Path(config["marker_dir"]) / f"{config['x']:.12f}"
    if config["x"] > 0.5 and not marker.exists():
        marker.write_text("attempted")
        os._exit(1)  # the worker dies mid-trial, like an OOM kill
    return {"loss": config["x"], "pid": os.getpid()}


def sleep_one_second(config: dict[str, Any]) -> float:
    """A 1 s objective (for executor benchmarks)."""
    import time

    time.sleep(1.0)
    return float(config["x"])


def interrupted_above(config: dict[str, Any]) -> float:
    """Raises KeyboardInterrupt (as Ctrl-C would) for x > 0.8; slow enough to overlap."""
    import time

    time.sleep(0.05)
    if config["x"] > 0.8:
        raise KeyboardInterrupt
    return float(config["x"])


def hang(config: dict[str, Any]) -> float:
    """Hangs on x > 0.5 (a deadlock, say); returns x otherwise."""
    import time

    if config["x"] > 0.5:
        time.sleep(3600)
    return float(config["x"])


def curve(config: dict[str, Any], trial: Any) -> dict[str, Any]:
    """Report a loss per epoch (worse x: worse curve) and stop when told; pid as extra."""
    from hposampler import TrialPruned

    loss = float("inf")
    for epoch in range(8):
        loss = config["x"] + 1.0 / (epoch + 1)
        trial.report(epoch, loss)
        if trial.should_prune():
            raise TrialPruned()
    return {"loss": loss, "pid": os.getpid()}


def report_then_wait(config: dict[str, Any], trial: Any) -> float:
    """Report three steps, then sleep for a minute (to be killed while it sleeps)."""
    for epoch in range(3):
        trial.report(epoch, config["x"] + epoch)
    time.sleep(60)
    return 0.0


def prune_itself(config: dict[str, Any], trial: Any) -> float:
    """Report once, then raise TrialPruned without asking the pruner."""
    from hposampler import TrialPruned

    trial.report(0, config["x"])
    raise TrialPruned()


def bad_step(config: dict[str, Any], trial: Any) -> float:
    """Report step 3, then step 1."""
    trial.report(3, 1.0)
    trial.report(1, 1.0)
    return 1.0


def bad_metric(config: dict[str, Any], trial: Any) -> float:
    """Report a metric the study does not optimise."""
    trial.report(0, {"los": 1.0})
    return 1.0


def make_dist(
    site: Path,
    dist: str,
    module: str,
    source: str,
    ep_name: str | None = None,
    version: str = "1.2.3",
) -> None:
    """Install a minimal distribution (module + .dist-info with an entry point) into ``site``."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[hposampler]\n{ep_name or module} = {module}\n")
    (info / "RECORD").write_text("")


def run_py(site: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HPOSAMPLER_") or k == "HPOSAMPLER_CACHE_DIR"
    }
    full_env["PYTHONPATH"] = str(site)
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def many_reports(config: dict[str, Any], trial: Any) -> float:
    """Report 100 steps, asking the pruner after each (for the report-cost benchmark)."""
    for step in range(100):
        trial.report(step, config["x"] + 1.0 / (step + 1))
        trial.should_prune()
    return float(config["x"])


def dies_on_first_attempt(config: dict[str, Any]) -> float:
    """SIGKILL this worker process the first time a config is run (marks in $FAULT_DIR)."""
    import signal

    mark = Path(os.environ["FAULT_DIR"]) / f"{config['x']:.12f}"
    if not mark.exists():
        mark.write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)
    return float(config["x"]) ** 2


def dies_for_small_x(config: dict[str, Any]) -> float:
    """SIGKILL this worker process whenever ``x`` < 0.3, every attempt."""
    import signal

    if config["x"] < 0.3:
        os.kill(os.getpid(), signal.SIGKILL)
    return float(config["x"])


def always_fails(config: dict[str, Any]) -> float:
    """An objective that cannot run at all."""
    raise RuntimeError(f"cannot train with {config}")


def sleeps(config: dict[str, Any]) -> float:
    """A long trial (for interrupting a run while it is in flight); marks $FAULT_DIR."""
    (Path(os.environ["FAULT_DIR"]) / f"started-{os.getpid()}").write_text("")
    time.sleep(60)
    return float(config["x"])


def reports_slowly(config: dict[str, Any], trial: Any) -> float:
    """Report, mark ``$FAULT_DIR/<id>.<attempt>`` (the first report is stored), wait until
    the test has written ``$FAULT_DIR/relay-killed`` (at most 10 min), report again.

    Waiting for the test, rather than sleeping a while, keeps a trial in flight across the
    relay's death however slowly a loaded machine runs the test's side."""
    folder = Path(os.environ["FAULT_DIR"])
    trial.report(0, {"loss": config["x"]})
    (folder / f"{trial.trial_id}.{len(list(folder.glob(f'{trial.trial_id}.*')))}").touch()
    deadline = time.monotonic() + 600
    while not (folder / "relay-killed").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    trial.report(1, {"loss": config["x"] / 2})
    return float(config["x"]) / 2


def steered(config: dict[str, Any], trial: Any) -> float:
    """Sets a user attribute on every trial; trial 3 stops the study and records
    when the stop was acknowledged (``stopped_at``, Unix time)."""
    trial.set_user_attr("where", os.getpid())
    if trial.trial_id == 3:
        trial.stop_study()
        trial.set_user_attr("stopped_at", time.time())
    return float(config["x"])


def interruptible() -> None:
    """``preexec_fn`` for a child that a test interrupts with SIGINT: a shell that runs
    the suite in the background (``cmd &``) makes its children ignore SIGINT, and
    Python keeps an ignored SIGINT ignored, so restore the default first."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def tiny_sleep(config: dict[str, Any]) -> float:
    """1-3 ms of work (the shortest trials a real study has)."""
    import time

    time.sleep(0.001 + 0.002 * config["x"])
    return float(config["x"])


def rich_loaded(config: dict[str, Any]) -> float:
    """1.0 if rich is imported while the trial runs, else 0.0 (for `hposampler run`'s
    start-up: piped, it never imports rich)."""
    import sys

    return 1.0 if "rich" in sys.modules else 0.0
