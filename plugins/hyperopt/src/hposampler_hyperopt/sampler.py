"""``HyperoptSampler``: hyperopt's ``suggest`` algorithms on its own ``Trials``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hposampler import BaseSampler, Trial, TrialState

from .space import HyperoptSpace

__all__ = ["HyperoptSampler"]

#: Largest seed drawn per suggestion, as ``hyperopt.fmin`` draws it.
SEED_BOUND = 2**31 - 1


def _ignore(_: Any) -> float:  # the Domain's objective: hposampler runs the real one
    return 0.0


class HyperoptSampler(BaseSampler):
    """hyperopt's TPE, annealing or random search driven like ``hyperopt.fmin`` drives it.

    Parameters
    ----------
    search_space, optim_metrics, trials, seed
        As for every :class:`hposampler.BaseSampler`; exactly one metric.
    algo : callable
        A hyperopt ``suggest`` function (``hyperopt.tpe.suggest``, ...), with its
        options bound (``functools.partial``).

    Notes
    -----
    Each sample inserts the document ``algo`` suggests into :attr:`history` (a
    ``hyperopt.Trials``) as a new job, seeded from a
    ``numpy.random.default_rng(seed)`` stream exactly as ``fmin`` does. Results
    mark it done (``status: ok``, ``max`` metrics negated); failures, prunes and
    ``None`` metrics mark it ``status: fail`` (hyperopt's algorithms skip those).
    Pending trials stay new jobs, which TPE takes into account. A dropped sample
    is removed (hyperopt's error state).

    Resuming inserts the stored trials as done documents (pending ones as new
    jobs). Trial ``k`` is always suggested with the ``k``-th seed of the stream,
    so a resumed study, and each worker of a shared one, continues the stream
    instead of replaying its first seeds: a resumed sequential run suggests what
    the uninterrupted one would have.
    """

    def __init__(
        self,
        search_space: Mapping[str, Any],
        *,
        algo: Callable[..., Any],
        optim_metrics: Mapping[str, Any] | None = None,
        trials: Iterable[Trial | Mapping[str, Any]] | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(search_space, optim_metrics=optim_metrics, trials=trials, seed=seed)
        import hyperopt
        import numpy as np

        self.metric, self.direction = next(iter(self.optim_metrics.items()), ("loss", "min"))
        self.space = HyperoptSpace(self.tree)
        self.algo = algo
        self.domain = hyperopt.Domain(_ignore, self.space.space)
        self.history = hyperopt.Trials()
        self.rstate = np.random.default_rng(seed)
        self._drawn = 0  # seeds drawn from rstate so far
        self._docs: dict[int, dict[str, Any]] = {}  # trial id -> hyperopt document
        self._incoming: list[tuple[Trial, dict[str, Any]]] = []

    # -- documents ------------------------------------------------------------------

    def _result(self, metrics: Mapping[str, float | None] | None, state: TrialState) -> Any:
        value = (metrics or {}).get(self.metric)
        if state != TrialState.COMPLETE or value is None or not math.isfinite(value):
            return {"status": "fail"}
        return {"status": "ok", "loss": value if self.direction == "min" else -value}

    def _finish(self, doc: dict[str, Any], result: dict[str, Any]) -> None:
        from hyperopt import JOB_STATE_DONE

        doc["state"] = JOB_STATE_DONE
        doc["result"] = result

    @staticmethod
    def _vals(doc: Mapping[str, Any]) -> dict[str, Any]:
        return {label: values[0] for label, values in doc["misc"]["vals"].items() if values}

    # -- resume ---------------------------------------------------------------------

    def _resume_trial(self, trial: Trial, params: dict[str, Any]) -> None:
        self._incoming.append((trial, params))

    def _resume_done(self) -> None:
        from hyperopt import JOB_STATE_NEW

        resumed, self._incoming = self._incoming, []
        if not resumed:
            return
        ids = self.history.new_trial_ids(len(resumed))
        docs = []
        for tid, (trial, params) in zip(ids, resumed):
            stored = (trial.internal or {}).get("vals")
            vals = dict(stored) if self.space.valid(stored) else self.space.vals(params)
            labels = sorted(vals)  # the order hyperopt's own documents have
            misc = {"tid": tid, "cmd": ("domain_attachment", "FMinIter_Domain"),
                    "workdir": None, "idxs": {k: [tid] for k in labels},
                    "vals": {k: [vals[k]] for k in labels}}  # fmt: skip
            [doc] = self.history.new_trial_docs([tid], [None], [{"status": "new"}], [misc])
            doc["state"] = JOB_STATE_NEW
            if not trial.state.is_pending:
                self._finish(doc, self._result(trial.final_metrics, trial.state))
            docs.append(doc)
        self.history.insert_trial_docs(docs)
        self.history.refresh()
        stored = self.history.trials[-len(docs) :]  # the copies insert_trial_docs keeps
        for (trial, _), doc in zip(resumed, stored):
            self._docs[trial.trial_id] = doc

    def _seed_for(self, trial_id: int) -> int:
        """The ``trial_id``-th draw of the seed stream (the next one for a reused id).

        ``fmin`` draws one seed per trial; drawing by trial id makes a resumed
        study, and each worker of a shared one, continue that stream where the
        study stands instead of restarting it.
        """
        while self._drawn < trial_id:  # skip the draws of trials made elsewhere
            self.rstate.integers(SEED_BOUND)
            self._drawn += 1
        self._drawn += 1
        return int(self.rstate.integers(SEED_BOUND))

    # -- contract -------------------------------------------------------------------

    def _eager_sample(self) -> tuple[int, dict[str, Any]]:
        trial_id = self.new_trial_id()
        [tid] = self.history.new_trial_ids(1)
        self.history.refresh()
        [doc] = self.algo([tid], self.domain, self.history, self._seed_for(trial_id))
        self.history.insert_trial_docs([doc])
        self.history.refresh()
        doc = self.history.trials[-1]  # the stored copy (insert_trial_docs copies)
        params = self.space.to_params(self._vals(doc))
        self._docs[trial_id] = doc
        return trial_id, self.tree.decode(params)

    def _drop(self) -> None:
        from hyperopt import JOB_STATE_ERROR

        if self.locked_trial_id is None:
            return
        doc = self._docs.pop(self.locked_trial_id, None)
        if doc is not None:
            doc["state"] = JOB_STATE_ERROR  # refresh() leaves errored jobs out
            self.history.refresh()

    def _update_trial(
        self, trial_id: int, metrics: dict[str, float | None] | None, state: TrialState
    ) -> None:
        doc = self._docs.get(trial_id)
        if doc is None or state.is_pending:
            return
        self._finish(doc, self._result(metrics, state))  # in place: the next sample sees it

    def internal_repr(self, trial_id: int) -> dict[str, Any] | None:
        """``{"vals": {label: value}}``: the trial's point (choices as indices)."""
        doc = self._docs.get(trial_id)
        if doc is None:
            return None
        return {"vals": self.space.vals(self.space.to_params(self._vals(doc)))}  # plain JSON
