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
Gone = Callable[[], None]


class Broker(Protocol):
    async def publish(self, state: SessionState) -> None: ...

    async def erased(self, code: str) -> None:
        """Tell every process the session was erased, so each closes its sockets at once."""

    def subscribe(self, code: str, deliver: Deliver, gone: Gone) -> Any:
        """An async context manager: ``deliver`` gets each new state of the session while
        inside, ``gone`` is called when the session is erased."""

    async def close(self) -> None: ...


def hand_over(subscribers: set[Deliver], state: SessionState) -> None:
    """Give a state to each subscriber; one that fails must not stop the others or the publisher."""
    for deliver in list(subscribers):
        try:
            deliver(state)
        except Exception:
            log.exception("delivering a state of session %s failed", state.code)


def tell_gone(subscribers: set[Gone], code: str) -> None:
    for gone in list(subscribers):
        try:
            gone()
        except Exception:
            log.exception("closing the sockets of erased session %s failed", code)


class MemoryBroker:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Deliver]] = {}
        self._gone: dict[str, set[Gone]] = {}

    async def publish(self, state: SessionState) -> None:
        hand_over(self._subscribers.get(state.code, set()), state)

    async def erased(self, code: str) -> None:
        tell_gone(self._gone.get(code, set()), code)

    @asynccontextmanager
    async def subscribe(self, code: str, deliver: Deliver, gone: Gone):
        self._subscribers.setdefault(code, set()).add(deliver)
        self._gone.setdefault(code, set()).add(gone)
        try:
            yield
        finally:
            for table, entry in ((self._subscribers, deliver), (self._gone, gone)):
                subs = table.get(code)
                if subs is not None:
                    subs.discard(entry)  # type: ignore[arg-type]
                    if not subs:
                        del table[code]

    async def close(self) -> None:
        self._subscribers.clear()
        self._gone.clear()
