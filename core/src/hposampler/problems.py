"""Standard test problems with known optima, usable as objectives.

Each function takes a config dict and returns the loss to minimise, so
``"hposampler.problems:branin"`` works as a study's objective. :data:`PROBLEMS`
pairs each with its search space and optimum (for ``hposampler bench``).

>>> round(branin({"x": 3.141592653589793, "y": 2.275}), 6)
0.397887
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import attrs

__all__ = [
    "PROBLEMS",
    "Problem",
    "ackley",
    "branin",
    "hartmann6",
    "learning_curve",
    "learning_curve_at",
    "optimizer_choice",
    "rosenbrock",
]


def branin(config: dict[str, Any]) -> float:
    """Branin-Hoo on x in [-5, 10], y in [0, 15]; minimum 0.397887 at three points."""
    x, y = float(config["x"]), float(config["y"])
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


_H_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H_A = (
    (10, 3, 17, 3.5, 1.7, 8),
    (0.05, 10, 17, 0.1, 8, 14),
    (3, 3.5, 1.7, 10, 17, 8),
    (17, 8, 0.05, 10, 0.1, 14),
)
_H_P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)


def hartmann6(config: dict[str, Any]) -> float:
    """Hartmann 6-D on x0..x5 in [0, 1]; minimum -3.32237."""
    xs = [float(config[f"x{i}"]) for i in range(6)]
    total = 0.0
    for alpha, a_row, p_row in zip(_H_ALPHA, _H_A, _H_P):
        inner = sum(a * (x - p) ** 2 for a, x, p in zip(a_row, xs, p_row))
        total += alpha * math.exp(-inner)
    return -total


def rosenbrock(config: dict[str, Any]) -> float:
    """Rosenbrock on x0..x3 in [-2, 2]; minimum 0 at (1, 1, 1, 1)."""
    xs = [float(config[f"x{i}"]) for i in range(4)]
    return sum(100 * (b - a * a) ** 2 + (1 - a) ** 2 for a, b in itertools.pairwise(xs))


def ackley(config: dict[str, Any]) -> float:
    """Ackley on x0..x4 in [-5, 5]; minimum 0 at the origin."""
    xs = [float(config[f"x{i}"]) for i in range(5)]
    n = len(xs)
    s1 = sum(x * x for x in xs) / n
    s2 = sum(math.cos(2 * math.pi * x) for x in xs) / n
    return -20 * math.exp(-0.2 * math.sqrt(s1)) - math.exp(s2) + 20 + math.e


_OPT_LR = {"sgd": (1e-4, 1.0, 0.1, 0.30), "adam": (1e-5, 1e-1, 1e-3, 0.05),
           "rmsprop": (1e-5, 1e-1, 3e-4, 0.20)}  # fmt: skip


def optimizer_choice(config: dict[str, Any]) -> float:
    """ablator's conditional problem: pick an optimizer, then its learning rate.

    Only ``adam`` reaches the minimum 0.05 (at lr 1e-3, weight decay 1e-4).
    """
    opt = config["train_config.optimizer_config"]
    _, _, best, floor = _OPT_LR[opt["name"]]
    lr_err = (math.log10(opt["arguments"]["lr"]) - math.log10(best)) ** 2
    wd_err = (math.log10(config["train_config.weight_decay"]) + 4) ** 2
    return floor + 0.1 * lr_err + 0.01 * wd_err


def _float(low: float, high: float, log: bool = False) -> dict[str, Any]:
    space: dict[str, Any] = {"value_range": [low, high], "value_type": "float"}
    if log:
        space["log"] = True
    return space


#: Epochs of a full :func:`learning_curve` run.
EPOCHS = 50

#: The search space of :func:`learning_curve`.
LEARNING_CURVE_SPACE: dict[str, Any] = {
    "lr": {"value_range": [1e-4, 1.0], "value_type": "float", "log": True},
    "width": {"value_range": [16, 512], "value_type": "int", "log": True},
    "dropout": {"value_range": [0.0, 0.5], "value_type": "float"},
}


def learning_curve_at(config: dict[str, Any], epoch: int) -> float:
    """The validation loss of :func:`learning_curve` after ``epoch`` (0-based) epochs.

    A power-law decay towards a final loss, both shaped by the config: the final
    loss is smallest (0.1) at lr = 10**-2.5, width 128, dropout 0.2; worse
    configs start higher, and larger learning rates decay faster, so curves can
    cross. The decay and the noise (from a stream seeded by the config and the
    epoch) fade linearly to 0 at the last epoch, whose loss is the final loss:
    the same config always gives the same curve.
    """
    import hashlib
    import json
    import random

    lr, width = float(config["lr"]), float(config["width"])
    dropout = float(config["dropout"])
    final = (
        0.1
        + 0.15 * (math.log10(lr) + 2.5) ** 2
        + 0.5 * (dropout - 0.2) ** 2
        + 0.02 * (math.log2(width) - 7) ** 2
    )
    rate = 0.5 + 0.4 / (1 + math.exp(-2 * (math.log10(lr) + 2)))  # faster for larger lr
    start = 1.5 + 4 * (final - 0.1) + 0.5 * dropout
    key = json.dumps([lr, width, dropout, epoch]).encode()
    noise: float = random.Random(hashlib.sha256(key).digest()).gauss(0.0, 0.03)
    fade = 1 - epoch / (EPOCHS - 1)
    decay: float = float(epoch + 1) ** -rate
    return final + start * decay * fade + noise * fade


def learning_curve(config: dict[str, Any], trial: Any = None) -> float:
    """A deterministic multi-fidelity objective: :data:`EPOCHS` epochs of a fake training.

    Reports the loss of every epoch when given a trial handle, and stops as soon
    as the study's pruner says so (``hposampler.TrialPruned``). Use it from a
    study file as ``objective = "hposampler.problems:learning_curve"`` with
    :data:`LEARNING_CURVE_SPACE`. The final loss's minimum is 0.1.
    """
    loss = math.inf
    for epoch in range(EPOCHS):
        loss = learning_curve_at(config, epoch)
        if trial is not None:
            trial.report(epoch, loss)
            if trial.should_prune():
                from hposampler.pruning import TrialPruned

                raise TrialPruned()
    return loss


@attrs.frozen
class Problem:
    """A test problem: objective, search space, known optimum (minimised)."""

    name: str
    objective: Callable[[dict[str, Any]], float]
    search_space: dict[str, Any]
    optimum: float


PROBLEMS: dict[str, Problem] = {
    "branin": Problem("branin", branin, {"x": _float(-5, 10), "y": _float(0, 15)}, 0.397887),
    "hartmann6": Problem(
        "hartmann6", hartmann6, {f"x{i}": _float(0, 1) for i in range(6)}, -3.32237
    ),
    "rosenbrock": Problem(
        "rosenbrock", rosenbrock, {f"x{i}": _float(-2, 2) for i in range(4)}, 0.0
    ),
    "ackley": Problem("ackley", ackley, {f"x{i}": _float(-5, 5) for i in range(5)}, 0.0),
    "learning_curve": Problem("learning_curve", learning_curve, LEARNING_CURVE_SPACE, 0.1),
    "optimizer_choice": Problem(
        "optimizer_choice",
        optimizer_choice,
        {
            "train_config.optimizer_config": {
                "subspaces": [
                    {
                        "sub_configuration": {
                            "name": name,
                            "arguments": {"lr": _float(low, high, log=True)},
                        }
                    }
                    for name, (low, high, _, _) in _OPT_LR.items()
                ]
            },
            "train_config.weight_decay": _float(1e-6, 1e-2, log=True),
        },
        0.05,
    ),
}
