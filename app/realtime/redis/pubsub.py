"""One Redis pub/sub connection, owned by one loop task that keeps it alive.

redis-py's pub/sub does not reconnect reliably by itself (and when it does, it hides the
gap in which messages were lost), so the connection here has retries switched off and
this loop does the work: on any error it drops the connection, waits with backoff,
connects again, subscribes to every channel still wanted, waits for the server to confirm,
and then calls ``on_connected`` so the owner can re-read whatever the gap may have hidden.

A connection that silently stops answering (a half-open TCP socket) is caught by a ping
after ``health_s`` of silence; no answer within another ``health_s`` counts as lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from app.realtime import metrics, tasks

log = logging.getLogger("talkingpiece.redis")

CONFIRM_TIMEOUT_S = 5.0


class PubSubLoop:
    def __init__(self, url: str, *, name: str = "live", health_s: float = 10.0) -> None:
        self.redis = Redis.from_url(url, decode_responses=True, retry=Retry(NoBackoff(), 0),
                                    socket_connect_timeout=5, client_name=name)
        self.name = name
        self._handlers: dict[str, Callable[[str], None]] = {}
        # Called after every (re)connection, once the subscriptions are confirmed.
        self.on_connected: list[Callable[[], Awaitable[None]]] = []
        self._health_s = health_s
        self._pubsub = None
        self._pending: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._sync: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.reconnects = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"pubsub-{self.name}")

    def _channels(self) -> list[str]:
        return list(self._handlers)

    async def subscribe(self, channel: str, handler: Callable[[str], None]) -> None:
        """Subscribe now if connected, and wait (briefly) for the server's confirmation, so
        that whatever the caller reads next is not older than what it will be sent."""
        self._handlers[channel] = handler
        confirmed = self._pending.setdefault(channel, asyncio.Event())
        pubsub = self._pubsub
        if pubsub is None:
            return  # the loop subscribes to every wanted channel when it connects
        try:
            await pubsub.subscribe(channel)
            await asyncio.wait_for(confirmed.wait(), CONFIRM_TIMEOUT_S)
        except (RedisError, OSError, TimeoutError):
            pass  # the loop reconnects and subscribes again, then calls on_connected

    async def unsubscribe(self, channel: str) -> None:
        self._pending.pop(channel, None)
        self._handlers.pop(channel, None)
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                await pubsub.unsubscribe(channel)
            except (RedisError, OSError):
                pass

    async def _run(self) -> None:
        backoff = 0.05
        first = True
        while True:
            pubsub = self.redis.pubsub()
            try:
                # A channel of the process's own keeps the connection subscribed when idle.
                wanted = [f"{self.name}:hello", *self._channels()]
                waits = [self._pending.setdefault(c, asyncio.Event()) for c in wanted]
                for event in waits:
                    event.clear()
                await pubsub.subscribe(*wanted)
                self._pubsub = pubsub
                late = [c for c in dict.fromkeys(self._channels()) if c not in wanted]
                if late:  # asked for while the loop was connecting
                    waits += [self._pending.setdefault(c, asyncio.Event()) for c in late]
                    await pubsub.subscribe(*late)
                self._sync = asyncio.get_running_loop().create_task(self._connected(waits, first))
                first = False
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ConnectionError) as exc:
                metrics.redis_error("pubsub")
                log.warning("Redis pub/sub (%s) lost its connection (%s); reconnecting", self.name, type(exc).__name__)
            finally:
                self._pubsub = None
                self.connected.clear()
                if self._sync is not None:
                    self._sync.cancel()
                try:
                    await pubsub.aclose()
                except Exception:
                    pass
            self.reconnects += 1
            metrics.redis_reconnected()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _connected(self, waits: list[asyncio.Event], first: bool) -> None:
        try:
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in waits)), CONFIRM_TIMEOUT_S)
        except TimeoutError:
            pass
        self.connected.set()
        for hook in list(self.on_connected):
            try:
                await hook()
            except (RedisError, OSError) as exc:
                log.warning("Redis pub/sub (%s): re-reading after connecting failed (%s)", self.name, type(exc).__name__)

    async def _read(self, pubsub) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while True:
            message = await pubsub.get_message(timeout=self._health_s)
            if message is None:
                if loop.time() - heard > 2 * self._health_s:
                    raise ConnectionError("no answer to a ping")
                await pubsub.ping()
                continue
            heard = loop.time()
            kind = message["type"]
            if kind == "message":
                handler = self._handlers.get(message["channel"])
                if handler is None:
                    continue
                try:
                    handler(message["data"])
                except Exception:
                    log.exception("Redis pub/sub (%s): handling a message failed", self.name)
            elif kind == "subscribe":
                event = self._pending.get(message["channel"])
                if event is not None:
                    event.set()

    async def close(self) -> None:
        for task in (self._task, self._sync):
            await tasks.stop(task)
        await self.redis.aclose()
