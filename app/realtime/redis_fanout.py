"""Fan-out over Redis pub/sub: every worker forwards each new state to its own sockets.

The store publishes each change atomically with its write (see redis_state.py), so
``publish`` here has nothing left to do. Subscribing is per session and per process: the
first local subscriber makes this process SUBSCRIBE to the session's channel (on the
process's one pub/sub connection, see redis_pubsub.py), the last one leaving
UNSUBSCRIBEs. After a lost connection every followed session's state is read again,
because messages published during the gap are gone; versions make repeats harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

from pydantic import ValidationError

from ..facilitation.models import SessionState
from .broker import Deliver, Gone, hand_over, tell_gone
from .redis_pubsub import PubSubLoop
from .redis_state import channel

log = logging.getLogger("talkingpiece.redis")

Reload = Callable[[str], Awaitable[SessionState | None]]
ERASED = "erased"  # on a session's channel instead of a state: the session is gone


class RedisBroker:
    def __init__(self, pubsub: PubSubLoop, *, prefix: str, reload: Reload) -> None:
        self.pubsub = pubsub
        self.prefix = prefix
        self._reload = reload
        self._subscribers: dict[str, set[Deliver]] = {}
        self._gone: dict[str, set[Gone]] = {}
        pubsub.on_connected.append(self._resync)

    async def publish(self, state: SessionState) -> None:
        """Nothing to do: the store published this state in the same step as writing it."""

    async def erased(self, code: str) -> None:
        """A tombstone on the session's channel: every worker closes its sockets for it now."""
        await self.pubsub.redis.publish(channel(self.prefix, code), ERASED)

    @asynccontextmanager
    async def subscribe(self, code: str, deliver: Deliver, gone: Gone):
        first = code not in self._subscribers
        self._subscribers.setdefault(code, set()).add(deliver)
        self._gone.setdefault(code, set()).add(gone)
        try:
            if first:
                await self.pubsub.subscribe(channel(self.prefix, code), lambda data: self._receive(code, data))
            yield
        finally:
            gones = self._gone.get(code)
            if gones is not None:
                gones.discard(gone)
                if not gones:
                    del self._gone[code]
            subs = self._subscribers.get(code)
            if subs is not None:
                subs.discard(deliver)
                if not subs:
                    del self._subscribers[code]
                    await self.pubsub.unsubscribe(channel(self.prefix, code))

    def _receive(self, code: str, data: str) -> None:
        if code not in self._subscribers:
            return
        if data == ERASED:
            tell_gone(self._gone.get(code, set()), code)
            return
        try:
            state = SessionState.model_validate_json(data)
        except ValidationError:
            log.error("a message on session %s's channel is not a session state", code)
            return
        self._offer(state)

    def _offer(self, state: SessionState) -> None:
        hand_over(self._subscribers.get(state.code, set()), state)

    async def _resync(self) -> None:
        """After (re)subscribing, read each followed session once: the gap may have hidden changes."""
        for code in list(self._subscribers):
            state = await self._reload(code)
            if state is not None:
                self._offer(state)

    async def close(self) -> None:
        self._subscribers.clear()
        self._gone.clear()
        await self.pubsub.close()

