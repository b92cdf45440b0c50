"""Channels from running objectives back to the study runner (reports, pruning questions).

A running objective calls ``trial.report(...)`` and ``trial.should_prune()`` on
its :class:`~hposampler.study.objective.TrialHandle`; each is one request to the
runner, which answers it in the driver thread (where the storage, the sampler
and the pruner live) and replies. The request blocks until then, so a report
is stored before ``report`` returns and ``should_prune`` answers from the
driver's view of every trial.

* :class:`Hub`: the runner's side: requests wait in a queue and wake the
  runner's loop through a future it waits on beside the trials' futures.
* :class:`LocalChannel`: for objectives in the runner's process (threads).
* :class:`ManagerChannels`: for worker processes, through a
  :class:`multiprocessing.managers.SyncManager`'s queues and one bridge thread.

Executors offer channels with a ``channels(hub)`` method returning an object
with ``for_trial(trial_id) -> channel`` and ``close()`` (see
:mod:`hposampler.study.executors`; the Ray plugin provides its own).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from hposampler.study.messages import Reply, Request

__all__ = [
    "Channel",
    "ChannelLost",
    "Channels",
    "Hub",
    "LocalChannel",
    "ManagerChannels",
    "Reply",
]


class ChannelLost(BaseException):
    """A worker's channel to the runner broke (the process relaying it died).

    A ``BaseException``, so an objective's ``except Exception`` does not swallow
    it: it ends the evaluation, and the runner treats the trial as lost by the
    executor (run again, without counting against the trial), as for a dead worker.
    """


_GONE = (EOFError, OSError)  # a proxy whose manager process died (ConnectionError is an OSError)


class Channel(Protocol):
    """What a trial handle sends its requests through."""

    def call(self, message: Request) -> Reply:
        """Send ``message`` to the runner and wait for its reply."""
        ...


class Channels(Protocol):
    """An executor's way to give each trial a :class:`Channel`."""

    def for_trial(self, trial_id: int) -> Channel:
        """A channel for the trial about to be submitted (picklable if it must travel)."""
        ...

    def release(self, trial_id: int) -> None:
        """The trial ended: forget its channel."""
        ...

    def close(self) -> None:
        """Release what the channels hold (threads, manager processes)."""
        ...


class Hub:
    """The runner's end: requests from objectives, waiting to be answered in the driver."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Request, Callable[[Reply], None]]] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._wake: concurrent.futures.Future[None] = concurrent.futures.Future()

    @property
    def wake(self) -> concurrent.futures.Future[None]:
        """A future that completes when a request is waiting (wait on it with the trials)."""
        return self._wake

    def post(self, message: Request, reply: Callable[[Reply], None]) -> None:
        """Queue a request (any thread); ``reply`` is called with the answer and must
        not raise (a reply path that can break swallows the break itself)."""
        self._queue.put((message, reply))
        with self._lock:
            if not self._wake.done():
                self._wake.set_result(None)

    def drain(self) -> list[tuple[Request, Callable[[Reply], None]]]:
        """Take every waiting request (driver thread) and re-arm :attr:`wake`."""
        with self._lock:
            if self._wake.done():
                self._wake = concurrent.futures.Future()
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out


class LocalChannel:
    """A channel for objectives running in the runner's own process."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def call(self, message: Request) -> Reply:
        """Post ``message`` and wait for the runner's reply."""
        answer: concurrent.futures.Future[Reply] = concurrent.futures.Future()
        self.hub.post(message, answer.set_result)
        return answer.result()


class LocalChannels:
    """:class:`Channels` for in-process executors: one shared :class:`LocalChannel`."""

    def __init__(self, hub: Hub) -> None:
        self.channel = LocalChannel(hub)

    def for_trial(self, trial_id: int) -> Channel:
        """The shared channel."""
        return self.channel

    def release(self, trial_id: int) -> None:
        """Nothing to release."""

    def close(self) -> None:
        """Nothing to release."""


class _QueueChannel:
    """A worker process's channel: a shared request queue and the trial's reply queue."""

    def __init__(self, requests: Any, replies: Any, trial_id: int) -> None:
        self.requests = requests
        self.replies = replies
        self.trial_id = trial_id

    def call(self, message: Request) -> Reply:
        try:
            self.requests.put((self.trial_id, message))
            reply: Reply = self.replies.get()
        except _GONE as exc:
            raise ChannelLost(
                f"trial {self.trial_id}: the process relaying reports to the runner is gone "
                f"({type(exc).__name__}: {exc})"
            ) from None
        return reply


def _put_unless_gone(replies: Any, reply: Reply) -> None:
    """Send a reply through the manager; if the manager died since the request came,
    drop it: the waiting trial gets :class:`ChannelLost` from its dead queue instead."""
    with contextlib.suppress(*_GONE):
        replies.put(reply)


class ManagerChannels:
    """:class:`Channels` for worker processes, through a manager process's queues.

    The manager starts on the first :meth:`for_trial` (studies whose objectives
    take no trial handle never start one); a bridge thread moves requests into
    the :class:`Hub` and replies back to each trial's queue. A manager that died
    (killed, out of memory) is replaced on the next :meth:`for_trial`; the trials
    that were using it get :class:`ChannelLost` at their next request.
    """

    def __init__(self, hub: Hub, context: Any = None) -> None:
        self.hub = hub
        self.context = context
        self._manager: Any = None
        self._requests: Any = None
        self._replies: dict[int, Any] = {}
        self._bridge: threading.Thread | None = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        import multiprocessing

        ctx = self.context or multiprocessing.get_context("spawn")
        self._replies = {}
        self._manager = ctx.Manager()
        self._requests = self._manager.Queue()
        self._bridge = threading.Thread(target=self._pump, name="hposampler-reports", daemon=True)
        self._bridge.start()

    def _pump(self) -> None:
        while True:
            try:
                item = self._requests.get()
            except (EOFError, OSError, BrokenPipeError):  # the manager is gone
                return
            if item is None:
                return
            trial_id, message = item
            replies = self._replies.get(trial_id)
            if replies is not None:
                self.hub.post(message, functools.partial(_put_unless_gone, replies))

    def for_trial(self, trial_id: int) -> Channel:
        with self._lock:
            if self._manager is None:
                self._start()
            replies = self._replies.get(trial_id)
            if replies is None:
                try:
                    replies = self._manager.Queue()
                except _GONE:  # the manager process died: a new one for the trials to come
                    self._discard()
                    self._start()
                    replies = self._manager.Queue()
                self._replies[trial_id] = replies
            return _QueueChannel(self._requests, replies, trial_id)

    def _discard(self) -> None:
        """Forget a dead manager (its bridge thread ends on its own)."""
        with contextlib.suppress(Exception):
            self._manager.shutdown()
        self._manager = None

    def release(self, trial_id: int) -> None:
        """Drop the trial's reply queue."""
        with self._lock:
            self._replies.pop(trial_id, None)

    def close(self) -> None:
        """Stop the bridge thread and the manager process."""
        with self._lock:
            if self._manager is None:
                return
            with contextlib.suppress(EOFError, OSError, BrokenPipeError):
                self._requests.put(None)
            if self._bridge is not None:
                self._bridge.join(timeout=5)
            self._discard()
