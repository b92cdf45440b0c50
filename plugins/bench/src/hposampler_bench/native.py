"""``optuna-native:tpe``: Optuna's own ``TPESampler`` driven the way an Optuna user
drives it, as the leaderboard's sanity row.

Each proposal is ``study.ask(distributions)`` on a plain in-memory Optuna study
and each result ``study.tell``; nothing of ``hposampler-optuna`` is used (its
adapter is what the row checks: ``tpe`` must tie this). Every parameter gets
the distribution an Optuna user would write for it: ``suggest_float`` /
``suggest_int`` ranges (``log`` kept), an index ``IntDistribution`` for ordered
``values`` and ``n_bins`` grids, a categorical for ``categorical_values``
(over their indices when they are not plain numbers and text), and a categorical
over the branches of a ``subspaces`` choice (every branch's parameters are
asked; only the chosen branch's end up in the config).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hposampler.samplers import AskTellSampler
from hposampler.samplers.trial import Trial
from hposampler.space.tree import CategoricalParam, ChoiceParam, FloatParam, IntParam

__all__ = ["NativeOptunaTPE"]


class NativeOptunaTPE(AskTellSampler):
    """Optuna's ``TPESampler(seed=seed)`` on ``study.ask`` / ``study.tell``.

    Parameters
    ----------
    search_space, optim_metrics, trials, seed
        As for every sampler; one metric.
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self.distributions = {name: self._distribution(p) for name, p in self.tree.params.items()}
        self.study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
        self._asked: dict[str, int] = {}

    def _distribution(self, param: Any) -> Any:
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if isinstance(param, ChoiceParam):
            return CategoricalDistribution(list(range(param.n_branches)))
        if isinstance(param, CategoricalParam):
            choices = param.choices
            # by value when Optuna can store and tell them apart (it compares 1, 1.0, True)
            if all(isinstance(c, (str, int, float)) for c in choices) and len(set(choices)) == len(
                choices
            ):
                return CategoricalDistribution(list(choices))
            return CategoricalDistribution(list(range(len(param.choices))))
        grid = param.grid()
        if grid is not None:
            return IntDistribution(0, len(grid) - 1)
        if isinstance(param, IntParam):
            return IntDistribution(param.low, param.high, log=param.log)
        assert isinstance(param, FloatParam)
        return FloatDistribution(param.low, param.high, log=param.log)

    @staticmethod
    def _key(point: Mapping[str, Any]) -> str:
        import json

        return json.dumps(point, sort_keys=True)

    def _ask(self) -> dict[str, Any]:
        trial = self.study.ask(self.distributions)
        point = dict(trial.params)
        self._asked[self._key(point)] = trial.number
        return point

    def _tell(self, points: list[Any], losses: list[float]) -> None:
        for point, loss in zip(points, losses):
            number = self._asked.pop(self._key(point), None)
            if number is not None:
                self.study.tell(number, loss)
            else:  # a resumed result: added as a finished trial
                dists = {name: self.distributions[name] for name in point}  # active ones
                self.study.add_trial(
                    self._optuna.trial.create_trial(
                        params=dict(point), distributions=dists, value=loss
                    )
                )

    def _indexed(self, name: str) -> bool:
        """Whether Optuna sees this parameter's values by index."""
        param = self.tree.params[name]
        if isinstance(param, ChoiceParam):
            return False  # the branch index is the value
        if isinstance(param, CategoricalParam):
            return list(self.distributions[name].choices) != list(param.choices)
        return param.grid() is not None

    def _to_point(self, params: Mapping[str, Any]) -> dict[str, Any]:
        point = {}
        for name, value in params.items():  # the active parameters
            param = self.tree.params[name]
            if self._indexed(name):
                value = (
                    param.index(value)
                    if isinstance(param, CategoricalParam)
                    else (param.index_of(value))
                )
            point[name] = value
        return point

    def _to_params(self, point: Any) -> dict[str, Any]:
        params = {}
        for name, value in point.items():
            param = self.tree.params[name]
            if self._indexed(name):
                values = param.choices if isinstance(param, CategoricalParam) else param.grid()
                assert values is not None  # indexed: a grid or choices
                value = values[int(value)]
            params[name] = value
        return params

    def _valid_point(self, stored: Any) -> bool:
        return False  # the point is rebuilt from the config (nothing stored but the config)

    def _reseed(self, seed: int | None) -> None:
        # a resumed study continues with fresh draws: a new TPE seeded from the history
        self.study.sampler = self._optuna.samplers.TPESampler(seed=seed)
