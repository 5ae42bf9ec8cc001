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


class Subscriptions:
    """Who follows which session in this process; the bookkeeping both brokers share."""

    def __init__(self) -> None:
        self._by_code: dict[str, set[tuple[Deliver, Gone]]] = {}

    def add(self, code: str, deliver: Deliver, gone: Gone) -> bool:
        """Follow a session; True when it is this process's first follower of it."""
        first = code not in self._by_code
        self._by_code.setdefault(code, set()).add((deliver, gone))
        return first

    def remove(self, code: str, deliver: Deliver, gone: Gone) -> bool:
        """Stop following; True when that was this process's last follower of it."""
        subs = self._by_code.get(code)
        if subs is None:
            return False
        subs.discard((deliver, gone))
        if subs:
            return False
        del self._by_code[code]
        return True

    def __contains__(self, code: str) -> bool:
        return code in self._by_code

    def codes(self) -> list[str]:
        return list(self._by_code)

    def deliver(self, state: SessionState) -> None:
        """Give a state to each follower; one that fails must not stop the others or the publisher."""
        for deliver, _ in list(self._by_code.get(state.code, ())):
            try:
                deliver(state)
            except Exception:
                log.exception("delivering a state of session %s failed", state.code)

    def gone(self, code: str) -> None:
        for _, gone in list(self._by_code.get(code, ())):
            try:
                gone()
            except Exception:
                log.exception("closing the sockets of erased session %s failed", code)

    def clear(self) -> None:
        self._by_code.clear()


class MemoryBroker:
    def __init__(self) -> None:
        self._subscriptions = Subscriptions()

    async def publish(self, state: SessionState) -> None:
        self._subscriptions.deliver(state)

    async def erased(self, code: str) -> None:
        self._subscriptions.gone(code)

    @asynccontextmanager
    async def subscribe(self, code: str, deliver: Deliver, gone: Gone):
        self._subscriptions.add(code, deliver, gone)
        try:
            yield
        finally:
            self._subscriptions.remove(code, deliver, gone)

    async def close(self) -> None:
        self._subscriptions.clear()
