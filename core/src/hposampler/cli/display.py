"""How studies and trials are shown in the terminal: result tables, the best trial, times."""

from __future__ import annotations

from typing import Any

import attrs

from hposampler.errors import HposamplerError


def metric_text(record: Any, metrics: dict[str, str]) -> str:
    final = record.final_metrics or {}
    return ", ".join(
        f"{m}={final[m]:.6g}" if final.get(m) is not None else f"{m}=None" for m in metrics
    )


@attrs.frozen
class ResultsTable:
    """A table of trials: rich draws it (``__rich__``); :meth:`plain` writes it as text."""

    title: str
    columns: list[tuple[str, bool]]  # (header, right-justified)
    rows: list[list[str]]

    def __rich__(self) -> Any:
        from rich.table import Table

        table = Table(title=self.title, title_justify="left")
        for header, right in self.columns:
            table.add_column(header, justify="right" if right else "left",
                             overflow="ellipsis" if right else "fold")  # fmt: skip
        for row in self.rows:
            table.add_row(*row)
        return table

    def plain(self) -> str:
        """The title, then one line per row in aligned columns (no width limit)."""
        widths = [max([len(header)] + [len(row[i]) for row in self.rows])
                  for i, (header, _) in enumerate(self.columns)]  # fmt: skip

        def line(cells: list[str]) -> str:
            return "  ".join(
                cell.rjust(width) if right else cell.ljust(width)
                for cell, width, (_, right) in zip(cells, widths, self.columns)
            ).rstrip()

        return "\n".join([self.title, line([h for h, _ in self.columns]),
                          *(line(row) for row in self.rows)])  # fmt: skip


def results_table(
    title: str, records: list[Any], metrics: dict[str, str], constraints: tuple[str, ...] = ()
) -> ResultsTable:
    from hposampler.study.results import flatten_config, is_feasible

    columns = [("trial", True), ("state", False)]
    steps = any(getattr(r, "intermediate", None) for r in records)
    if steps:
        columns.append(("last step", True))
    columns += [(f"{metric} ({metrics[metric]})", True) for metric in metrics]
    columns += [(f"{name} (<= 0)", True) for name in constraints]
    if constraints:
        columns.append(("feasible", False))
    params = sorted({k for r in records for k in flatten_config(r.config)})
    columns += [(param, False) for param in params]
    rows = []
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
        rows.append(cells)
    return ResultsTable(title, columns, rows)


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
