"""A live, read-only Optuna storage over an hposampler study, and ``optuna-dashboard`` on it.

:class:`LiveView` is an ``optuna.storages.BaseStorage`` that answers every read
from an in-memory copy of the study (:func:`~hposampler_views.view.to_optuna`).
Before answering, it asks the hposampler storage for the study's revision (one
cheap query, at most once per ``refresh`` seconds); when workers have stored
anything since, it copies the study again. So trials stored while the dashboard
runs appear on the next reload, and the dashboard never needs a restart.

Every write (``create_new_study``, ``set_trial_*``, notes, ``tell`` from the
dashboard's forms, deleting the study) is refused with one line: the view never
writes the hposampler study. ``hposampler dashboard NAME --storage S`` calls
:func:`serve`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Container, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import optuna
from optuna.distributions import BaseDistribution
from optuna.storages import BaseStorage, InMemoryStorage
from optuna.study import StudyDirection
from optuna.study._frozen import FrozenStudy
from optuna.trial import FrozenTrial, TrialState

from hposampler.errors import MissingDependencyError

from .view import to_optuna

if TYPE_CHECKING:
    from hposampler import Study

__all__ = ["REFRESH", "LiveView", "serve"]

#: Seconds between two looks at the study's revision (reads in between use the copy).
REFRESH = 1.0


class ReadOnlyError(optuna.exceptions.StorageInternalError):
    """A write to a :class:`LiveView` (it only shows the study)."""


class LiveView(BaseStorage):
    """A read-only Optuna storage showing one hposampler study, kept up to date.

    Parameters
    ----------
    open_study : callable
        Returns the :class:`hposampler.Study` (opened read-only). It is called in
        the thread that first reads, so an SQLite connection stays in its thread.
    refresh : float
        Seconds between two checks of the study's revision.
    """

    def __init__(self, open_study: Callable[[], Study], refresh: float = REFRESH) -> None:
        self._open = open_study
        self._study: Study | None = None
        self.refresh = refresh
        self._lock = threading.RLock()
        self._inner: BaseStorage = InMemoryStorage()
        self._revision: int | None = None
        self._checked = -float("inf")
        self.copies = 0  # how many times the study was copied (for tests and the log)

    def _sync(self) -> BaseStorage:
        with self._lock:
            now = time.monotonic()
            if now - self._checked < self.refresh:
                return self._inner
            self._checked = now
            if self._study is None:
                self._study = self._open()
            study = self._study
            revision = study.storage.revision(study.name)
            if revision != self._revision:
                self._inner = to_optuna(study)._storage
                self._revision = revision
                self.copies += 1
            return self._inner

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ReadOnlyError(
            "this dashboard shows an hposampler study read-only; change the study with "
            "hposampler itself (hposampler run, Study.optimize)"
        )

    # -- writes: refused -------------------------------------------------------------

    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        self._refuse()

    def delete_study(self, study_id: int) -> None:
        self._refuse()

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._refuse()

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._refuse()

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        self._refuse()

    def set_trial_param(
        self,
        trial_id: int,
        param_name: str,
        param_value_internal: float,
        distribution: BaseDistribution,
    ) -> None:
        self._refuse()

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        self._refuse()

    def set_trial_intermediate_value(
        self, trial_id: int, step: int, intermediate_value: float
    ) -> None:
        self._refuse()

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._refuse()

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._refuse()

    # -- reads: from the copy ----------------------------------------------------------

    def get_study_id_from_name(self, study_name: str) -> int:
        return self._sync().get_study_id_from_name(study_name)

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._sync().get_study_name_from_id(study_id)

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        return self._sync().get_study_directions(study_id)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._sync().get_study_user_attrs(study_id)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._sync().get_study_system_attrs(study_id)

    def get_all_studies(self) -> list[FrozenStudy]:
        return self._sync().get_all_studies()

    def get_trial(self, trial_id: int) -> FrozenTrial:
        return self._sync().get_trial(trial_id)

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        return self._sync().get_all_trials(study_id, deepcopy=deepcopy, states=states)

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        return self._sync().get_trial_id_from_study_id_trial_number(study_id, trial_number)


def serve(
    open_study: Callable[[], Study],
    host: str = "127.0.0.1",
    port: int = 8080,
    refresh: float = REFRESH,
    listening: Callable[[str], None] | None = None,
) -> None:
    """Serve ``optuna-dashboard`` on a :class:`LiveView` of the study until interrupted.

    ``listening(url)`` is called once the server listens, with the port it got
    (``port=0`` picks a free one).

    Raises
    ------
    MissingDependencyError
        When optuna-dashboard is not installed.
    """
    try:
        import optuna_dashboard
    except ImportError:
        raise MissingDependencyError(
            "hposampler dashboard runs optuna-dashboard, which is not installed; install it "
            "with pip install optuna-dashboard (the dashboard extra of hposampler-views brings it)"
        ) from None
    import socket
    from wsgiref.simple_server import WSGIServer, make_server

    # one thread, as optuna-dashboard's own server: the study's SQLite connection is
    # used only by the thread that opened it
    class Server(WSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    app = optuna_dashboard.wsgi(LiveView(open_study, refresh))
    with make_server(host, port, app, server_class=Server) as server:
        shown = f"[{host}]" if ":" in host else host
        if listening is not None:
            listening(f"http://{shown}:{server.server_port}/")
        server.serve_forever()
