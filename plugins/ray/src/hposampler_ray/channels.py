"""Trial reports from Ray tasks back to the study runner, through one async actor.

A task's ``trial.report(...)`` / ``trial.should_prune()`` calls the actor's
``call``, which waits until the driver replies. A bridge thread in the driver
long-polls the actor for requests (``next``), hands them to the runner's
:class:`hposampler.study.channels.Hub` and sends each answer back (``reply``). The
actor is created when the first trial that takes a handle is submitted.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from typing import Any

import ray

from hposampler.study.channels import Hub
from hposampler.study.messages import Reply, Request

__all__ = ["RayChannels"]


@ray.remote(num_cpus=0)
class _Mailbox:
    """Requests of running tasks, waiting for the driver's replies."""

    def __init__(self) -> None:
        self.requests: asyncio.Queue[Any] = asyncio.Queue()
        self.waiting: dict[int, asyncio.Future[Reply]] = {}
        self.ids = itertools.count()

    async def call(self, message: Request) -> Reply:
        request_id = next(self.ids)
        answer: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = answer
        await self.requests.put((request_id, message))
        return await answer

    async def next(self) -> Any:
        return await self.requests.get()

    async def reply(self, request_id: int, answer: Reply) -> None:
        waiting = self.waiting.pop(request_id, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(answer)

    async def stop(self) -> None:
        await self.requests.put(None)


class _RayChannel:
    """A task's channel: the mailbox actor's handle (picklable into tasks)."""

    def __init__(self, mailbox: Any) -> None:
        self.mailbox = mailbox

    def call(self, message: Request) -> Reply:
        reply: Reply = ray.get(self.mailbox.call.remote(message))
        return reply


class RayChannels:
    """:class:`hposampler.study.channels.Channels` for Ray tasks."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._mailbox: Any = None
        self._bridge: threading.Thread | None = None
        self._lock = threading.Lock()

    def _pump(self) -> None:
        while True:
            try:
                item = ray.get(self._mailbox.next.remote())
            except Exception:  # the actor or Ray went away
                return
            if item is None:
                return
            request_id, message = item
            mailbox = self._mailbox

            def answer(reply: Reply, _id: int = request_id, _box: Any = mailbox) -> None:
                _box.reply.remote(_id, reply)

            self.hub.post(message, answer)

    def for_trial(self, trial_id: int) -> _RayChannel:
        """The shared mailbox (started on first use)."""
        with self._lock:
            if self._mailbox is None:
                self._mailbox = _Mailbox.remote()  # type: ignore[attr-defined]
                self._bridge = threading.Thread(
                    target=self._pump, name="hposampler-ray-reports", daemon=True
                )
                self._bridge.start()
            return _RayChannel(self._mailbox)

    def release(self, trial_id: int) -> None:
        """Nothing per trial."""

    def close(self) -> None:
        """Stop the bridge thread and the actor."""
        with self._lock:
            if self._mailbox is None:
                return
            try:
                ray.get(self._mailbox.stop.remote(), timeout=10)
                if self._bridge is not None:
                    self._bridge.join(timeout=10)
                ray.kill(self._mailbox)
            except Exception:  # Ray already shut down
                pass
            self._mailbox = None
