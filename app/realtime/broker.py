"""Fan-out of new session states to every process that has sockets for the session.

``Broker`` is the whole interface: publish a state, and subscribe to one session's
states as an async iterator. The in-memory broker hands the same immutable state
object to each local subscriber; the Redis broker carries it as JSON.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from ..facilitation.models import SessionState


class Broker(Protocol):
    async def publish(self, state: SessionState) -> None: ...

    def subscribe(self, code: str) -> "AsyncIterator[SessionState]":
        """An async context manager yielding an async iterator of states."""

    async def close(self) -> None: ...


class MemoryBroker:
    def __init__(self, queue_size: int = 256) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[SessionState]]] = {}
        self._queue_size = queue_size

    async def publish(self, state: SessionState) -> None:
        for queue in self._subscribers.get(state.code, ()):
            if queue.full():  # a stalled subscriber only needs the latest state
                queue.get_nowait()
            queue.put_nowait(state)

    @asynccontextmanager
    async def subscribe(self, code: str):
        queue: asyncio.Queue[SessionState] = asyncio.Queue(self._queue_size)
        self._subscribers.setdefault(code, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            subs = self._subscribers.get(code)
            if subs is not None:
                subs.discard(queue)
                if not subs:
                    del self._subscribers[code]

    async def close(self) -> None:
        self._subscribers.clear()


async def _drain(queue: asyncio.Queue[SessionState]) -> AsyncIterator[SessionState]:
    while True:
        yield await queue.get()
