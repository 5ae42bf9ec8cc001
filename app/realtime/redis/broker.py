"""Fan-out over Redis pub/sub: every worker forwards each new state to its own sockets.

The store publishes each change atomically with its write (see redis_state.py), so
``publish`` here has nothing left to do. Subscribing is per session and per process: the
first local subscriber makes this process SUBSCRIBE to the session's channel (on the
process's one pub/sub connection, see redis_pubsub.py), the last one leaving
UNSUBSCRIBEs. After a lost connection every followed session's state is read again,
because messages published during the gap are gone; versions make repeats harmless.

A message names the worker that wrote it and the revision (``{worker}:{revision}:{json}``,
see redis/store.py): the writer delivers the state it still holds, the others parse.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

from pydantic import ValidationError

from app.facilitation.models import SessionState
from app.realtime.interfaces import Deliver, Gone
from app.realtime.redis.pubsub import PubSubLoop
from app.realtime.redis.store import channel
from app.realtime.subscriptions import Subscriptions

log = logging.getLogger("talkingpiece.redis")

Reload = Callable[[str], Awaitable[SessionState | None]]
Mine = Callable[[str, str, int], "SessionState | None"]  # (code, worker, revision) -> the state, if written here
ERASED = "erased"  # on a session's channel instead of a state: the session is gone


class RedisBroker:
    def __init__(self, pubsub: PubSubLoop, *, prefix: str, reload: Reload, mine: Mine | None = None) -> None:
        self.pubsub = pubsub
        self.prefix = prefix
        self._reload = reload
        self._mine = mine
        self._subscriptions = Subscriptions()
        pubsub.on_connected.append(self._resync)

    async def publish(self, state: SessionState) -> None:
        """Nothing to do: the store published this state in the same step as writing it."""

    async def erased(self, code: str) -> None:
        """A tombstone on the session's channel: every worker closes its sockets for it now."""
        await self.pubsub.redis.publish(channel(self.prefix, code), ERASED)

    @asynccontextmanager
    async def subscribe(self, code: str, deliver: Deliver, gone: Gone):
        first = self._subscriptions.add(code, deliver, gone)
        try:
            if first:
                await self.pubsub.subscribe(channel(self.prefix, code), lambda data: self._receive(code, data))
            yield
        finally:
            if self._subscriptions.remove(code, deliver, gone):
                await self.pubsub.unsubscribe(channel(self.prefix, code))

    def _receive(self, code: str, data: str) -> None:
        if code not in self._subscriptions:
            return
        if data == ERASED:
            self._subscriptions.gone(code)
            return
        if not data.startswith("{"):  # {worker}:{revision}:{json}
            worker, revision, data = data.split(":", 2) if data.count(":") >= 2 else ("", "", data)
            state = self._mine(code, worker, int(revision)) if self._mine and revision.isdigit() else None
            if state is not None:
                self._subscriptions.deliver(state)
                return
        try:
            state = SessionState.model_validate_json(data)
        except ValidationError:
            log.error("a message on session %s's channel is not a session state", code)
            return
        self._subscriptions.deliver(state)

    async def _resync(self) -> None:
        """After (re)subscribing, read each followed session once: the gap may have hidden changes."""
        for code in self._subscriptions.codes():
            state = await self._reload(code)
            if state is not None:
                self._subscriptions.deliver(state)

    async def close(self) -> None:
        self._subscriptions.clear()
        await self.pubsub.close()

