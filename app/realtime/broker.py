"""Fan-out of new session states to every process that has sockets for the session.

``Broker`` is the whole interface: publish a state, and subscribe a callback to one
session's states. Callbacks run synchronously where the state arrives (in the publisher's
step in memory, in the pub/sub reader with Redis): no queue and no task between a change
and the sockets, so a change costs no extra turn of the event loop before it is sent. A
callback must be quick and must not await; the hub's only offers each socket its frame.
The in-memory broker hands the same immutable state object to each local subscriber;
the Redis broker carries it as JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from ..facilitation.models import SessionState

log = logging.getLogger("talkingpiece.broker")

Deliver = Callable[[SessionState], None]


class Broker(Protocol):
    async def publish(self, state: SessionState) -> None: ...

    def subscribe(self, code: str, deliver: Deliver) -> Any:
        """An async context manager: ``deliver`` gets each new state of the session while inside."""

    async def close(self) -> None: ...


def hand_over(subscribers: set[Deliver], state: SessionState) -> None:
    """Give a state to each subscriber; one that fails must not stop the others or the publisher."""
    for deliver in list(subscribers):
        try:
            deliver(state)
        except Exception:
            log.exception("delivering a state of session %s failed", state.code)


class MemoryBroker:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Deliver]] = {}

    async def publish(self, state: SessionState) -> None:
        hand_over(self._subscribers.get(state.code, set()), state)

    @asynccontextmanager
    async def subscribe(self, code: str, deliver: Deliver):
        self._subscribers.setdefault(code, set()).add(deliver)
        try:
            yield
        finally:
            subs = self._subscribers.get(code)
            if subs is not None:
                subs.discard(deliver)
                if not subs:
                    del self._subscribers[code]

    async def close(self) -> None:
        self._subscribers.clear()
