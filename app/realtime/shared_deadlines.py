"""Turn deadlines shared by every worker through Redis.

One sorted set, ``{prefix}deadlines``, maps each session with a running turn to its
deadline. Every worker keeps one timer for the earliest deadline in the set; whoever
moves the earliest deadline publishes a nudge so the others re-read it. No worker polls
every second, and a turn still ends on time when the worker that started it has died.

Several workers may fire for the same deadline: that is safe because expiring a turn
is a compare-and-set in the store and the core ignores an expiry that is not due, so
the turn ends exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..facilitation.engine import next_deadline
from ..facilitation.models import SessionState

log = logging.getLogger("talkingpiece.deadlines")

RECHECK_S = 60.0  # an upper bound on any wait, in case a nudge was lost


class SharedDeadlines:
    def __init__(self, redis: Redis, *, prefix: str, clock: Callable[[], float],
                 expire: Callable[[str], Awaitable[None]],
                 load: Callable[[str], Awaitable[SessionState | None]]) -> None:
        self.redis = redis
        self.key = f"{prefix}deadlines"
        self.nudges = f"{prefix}deadlines:nudge"
        self._clock = clock
        self._expire = expire
        self._load = load
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop_task = loop.create_task(self._run())
        self._listener = loop.create_task(self._listen())

    def schedule(self, code: str, when: float | None) -> None:
        task = asyncio.get_running_loop().create_task(self._record(code, when))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record(self, code: str, when: float | None) -> None:
        try:
            if when is None:
                await self.redis.zrem(self.key, code)
            else:
                await self.redis.zadd(self.key, {code: when})
                await self.redis.publish(self.nudges, code)
            self._wake.set()
        except RedisError as exc:
            log.warning("could not record a deadline (%s); the next change or recheck will", type(exc).__name__)

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.nudges)
                self._wake.set()  # a reconnect may have hidden nudges
                async for _ in pubsub.listen():
                    self._wake.set()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                await asyncio.sleep(0.5)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:
                    pass

    async def _run(self) -> None:
        while True:
            try:
                wait = await self._fire_due()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("deadline loop: %s; retrying", type(exc).__name__)
                wait = 0.5
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass

    async def _fire_due(self) -> float:
        """Expire every due turn; return how long to sleep until the next deadline."""
        now = self._clock()
        for code, _ in await self.redis.zrangebyscore(self.key, "-inf", now, withscores=True):
            await self._expire(code)
            # Whatever happened (we expired it, another worker did, it was paused or
            # erased), the set now records the session's true next deadline.
            state = await self._load(code)
            when = next_deadline(state) if state is not None else None
            if when is None:
                await self.redis.zrem(self.key, code)
            else:
                await self.redis.zadd(self.key, {code: when})
        earliest = await self.redis.zrange(self.key, 0, 0, withscores=True)
        if not earliest:
            return RECHECK_S
        return min(RECHECK_S, max(0.0, earliest[0][1] - self._clock()) + 0.005)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        for task in (self._loop_task, self._listener, *self._tasks):
            if task is not None:
                task.cancel()
        for task in (self._loop_task, self._listener):
            if task is not None:
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
