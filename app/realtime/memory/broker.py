"""Fan-out within one process: the embedded default's ``Broker``.

Callbacks run synchronously in the publisher's step (see ``interfaces.Broker``), and each
local subscriber gets the same immutable state object.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from app.facilitation.models import SessionState
from app.realtime.interfaces import ERASED_REASON, Deliver, Gone
from app.realtime.subscriptions import Subscriptions


class MemoryBroker:
    def __init__(self) -> None:
        self._subscriptions = Subscriptions()

    async def publish(self, state: SessionState) -> None:
        self._subscriptions.deliver(state)

    async def erased(self, code: str) -> None:
        self._subscriptions.gone(code, ERASED_REASON)

    @asynccontextmanager
    async def subscribe(self, code: str, deliver: Deliver, gone: Gone):
        self._subscriptions.add(code, deliver, gone)
        try:
            yield
        finally:
            self._subscriptions.remove(code, deliver, gone)

    async def close(self) -> None:
        self._subscriptions.clear()
