"""Assembles the shell for one process: store, broker, service, hub and deadline timers.

The embedded default needs nothing outside the process; a Redis URL swaps in the
Redis store, broker and shared deadlines behind the same interfaces.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis

from app.config import AppSettings
from app.facilitation import engine
from app.facilitation.models import SessionState
from app.realtime.group_service import GroupService, group_store
from app.realtime.hub import Hub
from app.realtime.interfaces import Broker, Deadlines, SessionStore
from app.realtime.memory.broker import MemoryBroker
from app.realtime.memory.deadlines import LocalDeadlines
from app.realtime.memory.store import MemoryStore
from app.realtime.redis.broker import RedisBroker
from app.realtime.redis.deadlines import SharedDeadlines
from app.realtime.redis.pubsub import PubSubLoop
from app.realtime.redis.store import RedisStore
from app.realtime.service import SessionService


@dataclass
class Runtime:
    settings: AppSettings
    store: SessionStore
    broker: Broker
    service: SessionService
    hub: Hub
    deadlines: Deadlines
    groups: GroupService | None = None
    redis: Redis | None = None

    def __post_init__(self) -> None:
        if self.groups is None:  # recurring groups: a SQLite file, or Redis when redis_url is set
            self.groups = GroupService(group_store(self.settings), self.service, self.service.clock)

    async def close(self) -> None:
        if self.groups is not None:
            await self.groups.close()
        await self.deadlines.close()
        await self.hub.close()
        await self.broker.close()
        await self.store.close()
        if self.redis is not None:
            await self.redis.aclose()


async def build_runtime(settings: AppSettings, clock: Callable[[], float] = time.time) -> Runtime:
    if settings.redis_url:
        return await _redis_runtime(settings, clock)
    store: SessionStore = MemoryStore(clock=clock, closed_ttl_s=settings.closed_ttl_s, idle_ttl_s=settings.idle_ttl_s)
    broker: Broker = MemoryBroker()
    service = SessionService(store, broker, clock, max_sessions=settings.max_sessions)
    deadlines = LocalDeadlines(service.expire, clock)
    service.deadlines = deadlines
    hub = Hub(broker, clock, service.load)
    return Runtime(settings=settings, store=store, broker=broker, service=service, hub=hub, deadlines=deadlines)


async def _redis_runtime(settings: AppSettings, clock: Callable[[], float]) -> Runtime:
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
    broker = RedisBroker(pubsub, prefix=prefix, reload=reload, mine=store.published_here)
    service = SessionService(store, broker, clock, max_sessions=settings.max_sessions)
    deadlines = SharedDeadlines(redis, store, pubsub, prefix=prefix, clock=clock, expire=service.expire)
    service.deadlines = deadlines
    pubsub.start()
    await deadlines.start()
    hub = Hub(broker, clock, service.load)
    runtime = Runtime(settings=settings, store=store, broker=broker, service=service, hub=hub, deadlines=deadlines)
    runtime.redis = redis
    return runtime
