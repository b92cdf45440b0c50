"""A bench's results as JSON: what ``--json`` writes and ``--against`` reads.

The file holds the budget, every task's reference values and every run's
best-so-far curve of the ranked metric (raw values, one per finished trial),
its sampler time per trial and its status. It is validated on load: a file
that does not match names the field and what was expected.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from hposampler.bench.runs import RunKey
from hposampler.bench.tasks import Task, normalised_regret
from hposampler.errors import BenchError
from hposampler.samplers.trial import TrialState

__all__ = ["FORMAT", "BenchResults", "RunResult", "TaskInfo", "collect"]

#: The ``format`` field of a results file.
FORMAT = "hposampler-bench/1"


@attrs.frozen
class TaskInfo:
    """A task's reference values, as the results file keeps them."""

    suite: str
    name: str
    family: str
    metric: str
    minimize: bool
    optimum: float
    worst: float

    def regret(self, value: float) -> float:
        """The normalised regret of ``value`` (``hposampler.bench.tasks.normalised_regret``)."""
        return normalised_regret(value, self.optimum, self.worst, self.minimize)

    @property
    def key(self) -> str:
        """``suite/name``."""
        return f"{self.suite}/{self.name}"

    def same_reference(self, other: TaskInfo) -> bool:
        """Whether ``other`` normalises regret as this does (floats within 1e-9)."""
        return (
            (self.metric, self.minimize) == (other.metric, other.minimize)
            and math.isclose(self.optimum, other.optimum, rel_tol=1e-9, abs_tol=1e-12)
            and math.isclose(self.worst, other.worst, rel_tol=1e-9, abs_tol=1e-12)
        )

    def describe(self) -> str:
        """E.g. ``"loss (min), optimum -3.32237, reference -0.1245"``."""
        return (f"{self.metric} ({'min' if self.minimize else 'max'}), optimum "
                f"{self.optimum:.6g}, reference {self.worst:.6g}")  # fmt: skip

    @classmethod
    def of(cls, suite: str, task: Task) -> TaskInfo:
        """The info of a suite's task."""
        return cls(suite, task.name, task.family, task.metric, task.minimize,
                   float(task.optimum), float(task.worst))  # fmt: skip


@attrs.frozen
class RunResult:
    """One run: ``status`` is ``done``, ``skipped`` (with the reason), ``failed``
    (with the error) or ``unfinished`` (still running elsewhere)."""

    suite: str
    task: str
    sampler: str
    seed: int
    status: str
    best_so_far: list[float] = attrs.field(factory=list)
    sampler_ms: float = 0.0
    reason: str = ""

    @property
    def task_key(self) -> str:
        """``suite/task``."""
        return f"{self.suite}/{self.task}"


@attrs.frozen
class BenchResults:
    """Every run of a bench, with the tasks' reference values."""

    budget: int
    tasks: dict[str, TaskInfo]
    runs: list[RunResult]

    def to_json(self) -> dict[str, Any]:
        """The JSON form (see the module doc)."""
        return {
            "format": FORMAT,
            "budget": self.budget,
            "tasks": {k: attrs.asdict(t) for k, t in self.tasks.items()},
            "runs": [attrs.asdict(r) for r in self.runs],
        }

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_json` to ``path`` (sorted keys, one run per line)."""
        data = self.to_json()
        runs = data.pop("runs")
        head = json.dumps(data, sort_keys=True, allow_nan=False)[:-1]
        lines = [json.dumps(r, sort_keys=True, allow_nan=False) for r in runs]
        out = Path(path)
        out.write_text(head + ', "runs": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
        return out

    @classmethod
    def read(cls, path: str | Path) -> BenchResults:
        """Read and validate a results file.

        Raises
        ------
        BenchError
            Naming the file and what does not match.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BenchError(f"cannot read bench results {path}: {exc}") from None
        try:
            return cls.from_json(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise BenchError(
                f"{path} is not an hposampler bench results file ({FORMAT}): {exc}; "
                "write one with `hposampler bench ... --json FILE`"
            ) from None

    @classmethod
    def from_json(cls, data: Any) -> BenchResults:
        """Build from :meth:`to_json` output, checking every field's type."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        budget = data["budget"]
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
            raise ValueError(f"budget must be a positive int, got {budget!r}")
        tasks = {}
        for key, raw in dict(data["tasks"]).items():
            info = TaskInfo(
                _text(raw["suite"]), _text(raw["name"]), _text(raw["family"]),
                _text(raw["metric"]), _flag(raw["minimize"]), _number(raw["optimum"]),
                _number(raw["worst"]),
            )  # fmt: skip
            if info.key != key:
                raise ValueError(f"task {key!r} names itself {info.key!r}")
            tasks[key] = info
        runs = []
        for raw in list(data["runs"]):
            run = RunResult(
                _text(raw["suite"]), _text(raw["task"]), _text(raw["sampler"]),
                _int(raw["seed"]), _text(raw["status"]),
                [_number(v) for v in list(raw["best_so_far"])],
                _number(raw["sampler_ms"]), _text(raw["reason"]),
            )  # fmt: skip
            if run.task_key not in tasks:
                raise ValueError(f"a run of {run.sampler} names unknown task {run.task_key!r}")
            runs.append(run)
        return cls(budget, tasks, runs)

    def merged(self, other: BenchResults) -> BenchResults:
        """These runs and ``other``'s (same budget; ``other`` wins on the same run).

        Raises
        ------
        BenchError
            When the budgets differ, or a task both hold has other reference values
            (its regrets would not be comparable: the suite changed in between).
        """
        if other.budget != self.budget:
            raise BenchError(
                f"budgets differ ({self.budget} and {other.budget}); run with --budget "
                f"{self.budget} to compare against these results"
            )
        for key, theirs in other.tasks.items():
            held = self.tasks.get(key)
            if held is not None and not held.same_reference(theirs):
                raise BenchError(
                    f"task {key}: the results hold {held.describe()}, this run "
                    f"{theirs.describe()}; the suite has changed since, so its regrets "
                    "would not compare: re-run the results file's samplers with this version"
                )
        mine = {(r.task_key, r.sampler, r.seed): r for r in self.runs}
        mine.update({(r.task_key, r.sampler, r.seed): r for r in other.runs})
        return BenchResults(self.budget, {**self.tasks, **other.tasks}, list(mine.values()))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, got {value!r}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _curve(records: Sequence[Any], info: TaskInfo) -> list[float]:
    best = math.inf if info.minimize else -math.inf
    curve = []
    for record in sorted(records, key=lambda r: r.trial_id):
        value = None
        if record.state == TrialState.COMPLETE and record.metrics:
            value = record.metrics[-1].get(info.metric)
        if value is not None and math.isfinite(value):
            best = min(best, value) if info.minimize else max(best, value)
        if record.state in (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED):
            # before a first result (trials that failed) the run is at the worse reference
            curve.append(best if math.isfinite(best) else info.worst)
    return curve


def collect(
    storage: Any,
    keys: Sequence[RunKey],
    tasks: Mapping[str, TaskInfo],
    budget: int,
    skipped: Mapping[tuple[str, str], str],
) -> BenchResults:
    """Read every run of ``keys`` back from ``storage`` (``skipped``: ``(sampler,
    task key)`` -> reason, for the runs that could not start)."""
    from hposampler.storage import make_storage
    from hposampler.study.study import Study

    names = set(make_storage(storage).study_names())
    runs = []
    for key in keys:
        task_key = f"{key.suite}/{key.task}"
        reason = skipped.get((key.sampler, task_key))
        if reason is not None:
            runs.append(RunResult(key.suite, key.task, key.sampler, key.seed, "skipped",
                                  reason=reason))  # fmt: skip
            continue
        if key.study_name not in names:
            runs.append(RunResult(key.suite, key.task, key.sampler, key.seed, "unfinished"))
            continue
        study = Study.load(storage, key.study_name, read_only=True)
        bench = study.user_attrs.get("bench") or {}
        curve = _curve(study.records(), tasks[task_key])[:budget]
        ms = 1000 * float(bench.get("sampler_seconds", 0.0)) / max(len(curve), 1)
        if bench.get("error"):
            status, why = "failed", str(bench["error"])
        elif len(curve) >= budget or bench.get("exhausted"):
            status, why = "done", ""
        else:
            status, why = "unfinished", ""
        runs.append(RunResult(key.suite, key.task, key.sampler, key.seed, status, curve, ms, why))
    return BenchResults(budget, dict(tasks), runs)
