"""Fan-out over Redis pub/sub: every worker forwards each new state to its own sockets.

The store publishes each change atomically with its write (see redis_state.py), so
``publish`` here has nothing left to do. Subscribing is per session and per process:
the first local subscriber makes this process SUBSCRIBE to the session's channel, the
last one leaving UNSUBSCRIBEs.

redis-py's pub/sub does not reconnect reliably by itself, so this module owns the loop:
after a lost connection it reconnects with backoff, subscribes again to every channel
it needs, and re-reads each session's state, because messages published during the gap
are gone. Versions make any repeat harmless downstream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..facilitation.models import SessionState
from .redis_state import channel

log = logging.getLogger("talkingpiece.redis")

Reload = Callable[[str], Awaitable[SessionState | None]]


class RedisBroker:
    def __init__(self, redis: Redis, *, prefix: str, reload: Reload, queue_size: int = 256) -> None:
        self.redis = redis
        self.prefix = prefix
        self._reload = reload
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[SessionState]]] = {}
        self._pubsub = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def publish(self, state: SessionState) -> None:
        """Nothing to do: the store published this state in the same step as writing it."""

    @asynccontextmanager
    async def subscribe(self, code: str):
        queue: asyncio.Queue[SessionState] = asyncio.Queue(self._queue_size)
        first = code not in self._subscribers
        self._subscribers.setdefault(code, set()).add(queue)
        if first:
            await self._follow(code)
        try:
            yield _drain(queue)
        finally:
            subs = self._subscribers.get(code)
            if subs is not None:
                subs.discard(queue)
                if not subs:
                    del self._subscribers[code]
                    await self._unfollow(code)

    async def _follow(self, code: str) -> None:
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read_forever())
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(channel(self.prefix, code))
            except RedisError:
                pass  # the reader reconnects and subscribes to every channel still wanted

    async def _unfollow(self, code: str) -> None:
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(channel(self.prefix, code))
            except RedisError:
                pass

    def _offer(self, state: SessionState) -> None:
        for queue in self._subscribers.get(state.code, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(state)

    async def _read_forever(self) -> None:
        backoff = 0.1
        prefix_len = len(channel(self.prefix, ""))
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                wanted = [channel(self.prefix, code) for code in self._subscribers]
                # A placeholder channel keeps the connection subscribed while no session is followed.
                await pubsub.subscribe(f"{self.prefix}c:", *wanted)
                self._pubsub = pubsub
                await self._resync()
                backoff = 0.1
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    code = message["channel"][prefix_len:]
                    if code in self._subscribers:
                        self._offer(SessionState.model_validate_json(message["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ValueError) as exc:
                log.warning("Redis fan-out lost its connection (%s); reconnecting", type(exc).__name__)
            finally:
                self._pubsub = None
                try:
                    await pubsub.aclose()
                except Exception:
                    pass
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _resync(self) -> None:
        """After (re)subscribing, read each followed session once: the gap may have hidden changes."""
        for code in list(self._subscribers):
            try:
                state = await self._reload(code)
            except (RedisError, OSError):
                raise
            except Exception:
                continue
            if state is not None:
                self._offer(state)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
        self._subscribers.clear()


async def _drain(queue: asyncio.Queue[SessionState]) -> AsyncIterator[SessionState]:
    while True:
        yield await queue.get()
