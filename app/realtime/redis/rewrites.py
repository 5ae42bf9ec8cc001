"""Erased means gone from Redis's append-only file too.

With append-only persistence Redis logs every write, so a session erased now (or at the end
of its ``CLOSED_TTL_S``), a group's erased record, a member's erased CPD record or journal
entry all stay readable in the file, each version of them, until Redis rewrites it. So after
an erase each worker asks Redis to rewrite it (``BGREWRITEAOF``): the new file holds only
what is still there, and Redis removes the old one.

A rewrite reads the whole dataset, so bursts are coalesced: at most one request every
``REDIS_REWRITE_INTERVAL_S`` per worker, the first at once. A rewrite already running when
an erase happened copies a dataset taken before it, so another is asked for once it ends,
and the last erase is always covered. Sessions that Redis expires by themselves (a closed
session after ``CLOSED_TTL_S``, an abandoned one after ``IDLE_TTL_S``) are found by looking,
once an interval, for sessions whose time in the sessions index has passed.

Whether the file exists is read once, with ``CONFIG GET appendonly``. A managed Redis that
disables ``CONFIG`` (or an ACL user without it) gets one warning in the log, and its
operator schedules rewrites themselves (SECURITY.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import NoPermissionError, RedisError, ResponseError

from app.realtime import tasks
from app.realtime.interfaces import UNAVAILABLE

log = logging.getLogger("talkingpiece.redis")

POLL_S = 0.5  # how often a running rewrite is checked for its end


class Rewrites:
    """One worker's requests for rewrites of Redis's append-only file after erases."""

    def __init__(self, redis: Redis, *, interval_s: float, expired: Callable[[], Awaitable[int]],
                 clock: Callable[[], float]) -> None:
        self.redis = redis
        self.interval_s = interval_s
        self._expired = expired  # sessions Redis expired since the last look (how many)
        self._clock = clock  # monotonic
        self.enabled = False
        self.requested = 0  # rewrites this worker started (for tests and logs)
        self._wanted = False
        self._last: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            reply = await self.redis.config_get("appendonly")
        except RedisError as exc:
            log.warning("cannot read Redis's CONFIG (%s): if it keeps an append-only file, erased sessions "
                        "and records stay in it until it is rewritten; schedule BGREWRITEAOF (SECURITY.md)", exc)
            return
        self.enabled = str(reply.get("appendonly", "no")).lower() == "yes"
        if self.enabled:
            self._watch = asyncio.get_running_loop().create_task(self._look_for_expired(), name="aof-expired")

    def erased(self) -> None:
        """Something was erased: its versions leave the file at the next rewrite, soon."""
        if not self.enabled:
            return
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._rewrite(), name="aof-rewrite")

    async def _rewrite(self) -> None:
        while self._wanted:
            if self._last is not None:
                await asyncio.sleep(max(0.0, self._last + self.interval_s - self._clock()))
            try:
                while await self._running():  # started before the erase, perhaps: wait, then ours
                    await asyncio.sleep(POLL_S)
                self._wanted = False
                await self.redis.bgrewriteaof()
                self.requested += 1
            except (NoPermissionError, ResponseError) as exc:
                if isinstance(exc, NoPermissionError) or "unknown command" in str(exc).lower():
                    log.warning("Redis refuses to rewrite its append-only file (%s): erased content stays in it "
                                "until it is rewritten; schedule BGREWRITEAOF (SECURITY.md)", exc)
                    self.enabled = False
                    self._wanted = False
                    return
                log.info("append-only file rewrite not started (%s); asking again", exc)
                self._wanted = True
            except UNAVAILABLE as exc:  # another worker's began in between, or Redis is away: again
                log.info("append-only file rewrite not started (%s); asking again", exc)
                self._wanted = True
            self._last = self._clock()

    async def _running(self) -> bool:
        info = await self.redis.info("persistence")
        return bool(int(info.get("aof_rewrite_in_progress", 0)) or int(info.get("aof_rewrite_scheduled", 0)))

    async def _look_for_expired(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self._expired()  # the store reports what it finds as erased
            except UNAVAILABLE as exc:
                log.info("looking for expired sessions failed (%s); looking again later", exc)

    async def close(self) -> None:
        await tasks.stop(self._watch)
        await tasks.stop(self._task)
