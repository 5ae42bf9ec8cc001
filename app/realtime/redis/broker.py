"""Fan-out over Redis pub/sub: every worker forwards each new state to its own sockets.

The store publishes each change's version number atomically with its write (see
redis/store.py), so ``publish`` here has nothing left to do; on a number, this worker reads
the session's record and delivers it (one read at a time per session: numbers that arrive
meanwhile are covered by the next read). The channel never carries a state, so it holds
nothing of the true tallies, marks or presence a state keeps apart from the views. Subscribing is per session and per process: the
first local subscriber makes this process SUBSCRIBE to the session's channel (on the
process's one pub/sub connection, see redis_pubsub.py), the last one leaving
UNSUBSCRIBEs. After a lost connection every followed session's state is read again,
because messages published during the gap are gone; versions make repeats harmless.

A message names the worker that wrote it and the revision (``{worker}:{revision}:{json}``,
see redis/store.py): the writer delivers the state it still holds, the others parse.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

from app.facilitation.models import SessionState
from app.realtime.interfaces import ERASED_REASON, MISSING_REASON, Deliver, Gone
from app.realtime.redis.pubsub import PubSubLoop
from app.realtime.redis.store import channel
from app.realtime.subscriptions import Subscriptions

log = logging.getLogger("talkingpiece.redis")

Reload = Callable[[str], Awaitable[SessionState | None]]
Mine = Callable[[str, str, int], "SessionState | None"]  # (code, worker, revision) -> the state, if written here
ERASED = "erased"  # on a session's channel instead of a state: the session is gone


class RedisBroker:
    def __init__(self, pubsub: PubSubLoop, *, prefix: str, reload: Reload, mine: Mine | None = None,
                 forget: Callable[[str], None] | None = None) -> None:
        self.pubsub = pubsub
        self.prefix = prefix
        self._reload = reload
        self._mine = mine
        self._forget = forget  # on a session's tombstone: what the store kept of it goes
        self._subscriptions = Subscriptions()
        self._reading: dict[str, bool] = {}  # session -> another version arrived during the read
        self._tasks: set[asyncio.Task[None]] = set()
        pubsub.on_connected.append(self._resync)

    def follows(self, code: str) -> bool:
        """Whether a socket of this worker follows the session (its channel's messages come here)."""
        return code in self._subscriptions

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
        if data == ERASED:
            if self._forget is not None:
                self._forget(code)
            if code in self._subscriptions:
                self._subscriptions.gone(code, ERASED_REASON)
            return
        if code not in self._subscriptions:
            return
        worker, _, rest = data.partition(":")
        revision, _, version = rest.partition(":")
        if not (revision.isdigit() and version.isdigit()):
            log.error("a message on session %s's channel is not a change's number", code)
            return
        held = self._mine(code, worker, int(revision)) if self._mine is not None else None
        if held is not None:  # this worker wrote it: deliver the state it holds, no read
            self._subscriptions.deliver(held)
            return
        if code in self._reading:
            self._reading[code] = True
            return
        self._reading[code] = False
        task = asyncio.get_running_loop().create_task(self._read(code))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, code: str) -> None:
        try:
            while True:
                try:
                    state = await self._reload(code)
                except Exception as exc:  # the next version, or a resync, brings it
                    log.warning("reading session %s after a change failed (%s)", code, type(exc).__name__)
                    state = None
                if state is not None and code in self._subscriptions:
                    self._subscriptions.deliver(state)
                if not self._reading.get(code):
                    return
                self._reading[code] = False
        finally:
            self._reading.pop(code, None)

    async def _resync(self) -> None:
        """After (re)subscribing, read each followed session once: the gap may have hidden changes.

        A session that is no longer there (Redis restarted without its data, or it expired
        or was erased while the connection was down) closes its sockets here and now: an
        idle screen would otherwise show a frozen "running" view until someone spoke.
        """
        for code in self._subscriptions.codes():
            state = await self._reload(code)
            if state is not None:
                self._subscriptions.deliver(state)
            elif code in self._subscriptions:
                self._subscriptions.gone(code, MISSING_REASON)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._subscriptions.clear()
        await self.pubsub.close()

