"""Turn deadlines shared by every worker through Redis.

One sorted set, ``{prefix}deadlines``, maps each session with a running turn to its
deadline. The store writes it in the same atomic step as the session (redis/store.py), so
it always follows the latest state, whichever worker wrote it, and a worker that dies
cannot take a deadline with it. A write that makes a deadline the earliest publishes a
nudge.

Every worker keeps one timer, for the earliest deadline in the set, and a nudge (or a
local change) wakes it to look again; no worker polls every second. When a deadline is
due, a worker claims it with a short lease (so the others do not all pile in), asks the
service to expire the turn, and records the session's true next deadline. Expiring is a
compare-and-set in the store that the core ignores once the turn has moved on, so even
a claim that outlives a lease, or two workers on skewed clocks, end the turn exactly once.
If the claimer dies, the lease runs out and another worker takes the deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.realtime import metrics, tasks
from app.realtime.redis.pubsub import PubSubLoop
from app.realtime.redis.store import RedisStore, deadlines_key, nudge_channel

log = logging.getLogger("talkingpiece.deadlines")

RECHECK_S = 60.0  # an upper bound on any wait, in case a nudge was lost
LEASE_S = 2.0  # how long a claimed deadline is left to its claimer
BATCH = 50

# KEYS[1] deadlines. ARGV: now, lease until, batch size. Returns the claimed codes.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, code in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], code) end
return due
"""


class SharedDeadlines:
    def __init__(self, redis: Redis, store: RedisStore, pubsub: PubSubLoop, *, prefix: str,
                 clock: Callable[[], float]) -> None:
        self.redis = redis
        self.store = store
        self.pubsub = pubsub
        self.key = deadlines_key(prefix)
        self.nudges = nudge_channel(prefix)
        self._clock = clock
        self._expire: Callable[[str], Awaitable[None]] | None = None
        self._wake = asyncio.Event()
        self._armed_for: float | None = None  # the deadline the loop is waiting for
        self._claim = redis.register_script(_CLAIM)
        self._task: asyncio.Task[None] | None = None
        self.fired = 0  # deadlines this worker claimed (for tests and logs)

    async def start(self, expire: Callable[[str], Awaitable[None]]) -> None:
        """From now on, a claimed deadline calls ``expire(code)`` (the service's)."""
        self._expire = expire
        pubsub = self.pubsub
        pubsub.on_connected.append(self._nudged)  # a reconnect may have hidden nudges
        await pubsub.subscribe(self.nudges, lambda _data: self._wake.set())
        self._task = asyncio.get_running_loop().create_task(self._run(), name="shared-deadlines")

    def schedule(self, code: str, when: float | None) -> None:
        """The store has already recorded ``when``; wake this worker if it is now the earliest."""
        if when is not None and (self._armed_for is None or when < self._armed_for):
            self._wake.set()

    async def _nudged(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self._fire_due()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                metrics.redis_error("deadlines")
                log.warning("deadline loop: %s; retrying", type(exc).__name__)
                self._armed_for, wait = None, 0.5
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass

    async def _fire_due(self) -> float:
        """Expire every due turn; return how long to sleep until the next deadline."""
        while True:
            now = self._clock()
            claimed = await self._claim(keys=[self.key], args=[repr(now), repr(now + LEASE_S), BATCH])
            if not claimed:
                break
            self.fired += len(claimed)
            await asyncio.gather(*(self._fire(code) for code in claimed))
        earliest = await self.redis.zrange(self.key, 0, 0, withscores=True)
        if not earliest:
            self._armed_for = None
            return RECHECK_S
        self._armed_for = when = float(earliest[0][1])
        # The loop's timer may wake a hair early; the claim then finds nothing and we wait again.
        return min(RECHECK_S, max(0.002, when - self._clock()))

    async def _fire(self, code: str) -> None:
        try:
            await self._expire(code)
            # Whatever happened (we ended the turn, another worker did, it was paused or
            # erased), the set now records the session's true next deadline, not our lease.
            await self.store.reconcile_deadline(code)
        except Exception as exc:  # the lease runs out and a worker tries again
            log.warning("expiring the turn in %s failed (%s); retrying after the lease", code, type(exc).__name__)

    async def close(self) -> None:
        await tasks.stop(self._task)
        await self.pubsub.unsubscribe(self.nudges)
