"""Assembles the shell for one process: store, broker, service, hub and deadline timers.

The embedded default needs nothing outside the process (its sessions are written through
to a local SQLite file and loaded back at start); a Redis URL swaps in the Redis store,
broker and shared deadlines behind the same interfaces.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis

from app.config import AppSettings
from app.facilitation import engine
from app.facilitation.models import SessionState
from app.realtime.group_service import GroupService
from app.realtime.hub import Hub
from app.realtime.interfaces import Broker, Deadlines, SessionStore
from app.realtime.memory.broker import MemoryBroker
from app.realtime.memory.deadlines import LocalDeadlines
from app.realtime.memory.store import MemoryStore
from app.realtime.redis.broker import RedisBroker
from app.realtime.redis.deadlines import SharedDeadlines
from app.realtime.redis.groups import RedisGroupStore
from app.realtime.redis.pubsub import PubSubLoop
from app.realtime.redis.store import RedisStore
from app.realtime.service import SessionService
from app.realtime.sqlite.groups import SqliteGroupStore, default_groups_db
from app.realtime.sqlite.store import SessionFile

log = logging.getLogger("talkingpiece.runtime")


@dataclass
class Runtime:
    """The shell of one process, built once at start-up and closed at shutdown."""

    settings: AppSettings
    store: SessionStore
    broker: Broker
    service: SessionService
    hub: Hub
    deadlines: Deadlines
    groups: GroupService
    redis: Redis | None = None

    async def close(self) -> None:
        await self.groups.close()
        await self.deadlines.close()
        await self.hub.close()
        await self.broker.close()
        await self.store.close()
        if self.redis is not None:
            await self.redis.aclose()


async def build_runtime(settings: AppSettings, clock: Callable[[], float] = time.time,
                        on_unknown_code: Callable[[], None] = lambda: None) -> Runtime:
    """One implementation of each interface, chosen by ``settings.redis_url``.

    ``on_unknown_code`` is called when a request names a session that does not exist (the
    HTTP layer's guessing guard counts those).
    """
    if settings.redis_url:
        return await _redis_runtime(settings, clock, on_unknown_code)
    path = settings.sessions_path
    store = MemoryStore(clock=clock, closed_ttl_s=settings.closed_ttl_s, idle_ttl_s=settings.idle_ttl_s,
                        file=SessionFile(path) if path else None)
    broker = MemoryBroker()
    deadlines = LocalDeadlines(clock)
    service = SessionService(store, broker, deadlines, clock, max_sessions=settings.max_sessions,
                             on_unknown_code=on_unknown_code)
    await deadlines.start(service.expire)
    restored = store.restore()
    await service.resume([record.state.code for record in restored])
    if restored:
        log.info("%d sessions restored from %s", len(restored), path)
    store.start_sweeping(sweep_interval(settings))
    groups = GroupService(SqliteGroupStore(settings.groups_db or default_groups_db(settings.data_path)), service, clock)
    return Runtime(settings=settings, store=store, broker=broker, service=service, hub=Hub(broker, clock, service.load),
                   deadlines=deadlines, groups=groups)


def sweep_interval(settings: AppSettings) -> float:
    """Often enough that content outlives its time by a small fraction of it, at most a minute."""
    return max(0.5, min(60.0, min(settings.closed_ttl_s, settings.idle_ttl_s) / 10))


async def _redis_runtime(settings: AppSettings, clock: Callable[[], float],
                         on_unknown_code: Callable[[], None]) -> Runtime:
    """Several workers, one Redis: any worker serves any session."""
    assert settings.redis_url
    # A blocking pool: a burst of commands (a room of phones reconnecting at once) waits for a
    # free connection instead of failing with "Too many connections", redis-py's default.
    pool = BlockingConnectionPool.from_url(settings.redis_url, decode_responses=True, health_check_interval=15,
                                           max_connections=settings.redis_max_connections, timeout=10)
    redis = Redis.from_pool(pool)  # owns the pool: closing the client closes it
    await redis.ping()  # fail at start-up, not at the first facilitator's click
    prefix = settings.redis_prefix
    store = RedisStore(redis, prefix=prefix, clock=clock, closed_ttl_s=settings.closed_ttl_s,
                       idle_ttl_s=settings.idle_ttl_s, deadline_of=engine.next_deadline)

    async def reload(code: str) -> SessionState | None:
        record = await store.load(code)
        return record.state if record else None

    pubsub = PubSubLoop(settings.redis_url, name=f"{prefix}pubsub")  # the process's one subscriber
    broker = RedisBroker(pubsub, prefix=prefix, reload=reload)
    deadlines = SharedDeadlines(redis, store, pubsub, prefix=prefix, clock=clock)
    service = SessionService(store, broker, deadlines, clock, max_sessions=settings.max_sessions,
                             on_unknown_code=on_unknown_code)
    pubsub.start()
    await deadlines.start(service.expire)
    groups = GroupService(RedisGroupStore(redis, prefix=f"{prefix}group:"), service, clock)
    return Runtime(settings=settings, store=store, broker=broker, service=service, hub=Hub(broker, clock, service.load),
                   deadlines=deadlines, groups=groups, redis=redis)
