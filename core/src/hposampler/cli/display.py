"""How studies and trials are shown in the terminal: result tables, the best trial, times."""

from __future__ import annotations

from typing import Any

from hposampler.errors import HposamplerError


def metric_text(record: Any, metrics: dict[str, str]) -> str:
    final = record.final_metrics or {}
    return ", ".join(
        f"{m}={final[m]:.6g}" if final.get(m) is not None else f"{m}=None" for m in metrics
    )


def results_table(
    title: str, records: list[Any], metrics: dict[str, str], constraints: tuple[str, ...] = ()
) -> Any:
    from rich.table import Table

    from hposampler.study.results import flatten_config, is_feasible

    table = Table(title=title, title_justify="left")
    table.add_column("trial", justify="right")
    table.add_column("state")
    steps = any(getattr(r, "intermediate", None) for r in records)
    if steps:
        table.add_column("last step", justify="right")
    for metric in metrics:
        table.add_column(f"{metric} ({metrics[metric]})", justify="right")
    for name in constraints:
        table.add_column(f"{name} (<= 0)", justify="right")
    if constraints:
        table.add_column("feasible")
    params = sorted({k for r in records for k in flatten_config(r.config)})
    for param in params:
        table.add_column(param, overflow="fold")
    for record in records:
        final = record.final_metrics or {}
        flat = flatten_config(record.config)
        cells = [str(record.trial_id), record.state.name]
        if steps:
            cells.append("" if record.last_step is None else str(record.last_step))
        cells += ["" if final.get(m) is None else f"{final[m]:.6g}" for m in metrics]
        if constraints:
            cells += ["" if final.get(c) is None else f"{final[c]:.6g}" for c in constraints]
            done = record.state.name == "COMPLETE"
            cells.append(("yes" if is_feasible(record, constraints) else "no") if done else "")
        cells += [short(flat.get(p, "")) for p in params]
        table.add_row(*cells)
    return table


#: Table cells longer than this are cut (the full values are in `hposampler export`).
MAX_CELL = 60


def short(value: Any) -> str:
    from hposampler.viz.plotting import cut  # matplotlib itself is imported only to draw

    if isinstance(value, float):
        return f"{value:.6g}"
    return cut(str(value), MAX_CELL)


def known_optimum(study: Any, objective: Any) -> float | None:
    """The optimum of a built-in problem the study runs (``hposampler.problems:NAME``)."""
    from hposampler.problems import PROBLEMS

    if not isinstance(objective, str) or len(study.optim_metrics) != 1:
        return None
    module, _, name = objective.partition(":")
    problem = PROBLEMS.get(name) if module == "hposampler.problems" else None
    if problem is None or next(iter(study.optim_metrics.values())) != "min":
        return None
    return problem.optimum


def print_best(study: Any, console: Any, objective: Any = None) -> None:
    from hposampler.study.results import study_summary

    records = study.records()
    metrics = study.optim_metrics
    counts = ", ".join(f"{n} {state}" for state, n in sorted(study_summary(records).items()))
    console.print(f"{len(records)} trials: {counts}", highlight=False)
    if len(metrics) == 1:
        try:
            best = study.best_trial
        except HposamplerError as exc:
            console.print(f"[yellow]{str(exc).replace(f'study {study.name!r} has ', '')}[/]")
            return
        console.print(results_table("Best trial", [best], metrics, study.constraints))
        console.print(f"best {metric_text(best, metrics)} (trial {best.trial_id})", highlight=False)
        optimum = known_optimum(study, objective)
        value = (best.final_metrics or {}).get(next(iter(metrics)))
        if optimum is not None and value is not None:
            console.print(
                f"best {value:.6g}, optimum {optimum:.6g}, regret {value - optimum:.3g}",
                highlight=False,
            )
    else:
        front = study.best_trials
        console.print(results_table(f"Pareto front ({len(front)} trials)", front, metrics,
                                     study.constraints))  # fmt: skip


def when(stamp: float | None) -> str:
    import datetime

    if stamp is None:
        return "-"
    try:
        return datetime.datetime.fromtimestamp(stamp).isoformat(sep=" ", timespec="seconds")
    except (ValueError, OverflowError, OSError):  # outside the dates this machine shows
        return f"{stamp:g} s"
