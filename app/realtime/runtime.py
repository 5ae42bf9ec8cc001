"""Assembles the shell for one process: store, broker, service, hub, deadline timers, presence.

The embedded default needs nothing outside the process; a Redis URL swaps in the
Redis store, broker, shared deadlines, limits and presence behind the same interfaces.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis

from app.config import AppSettings
from app.facilitation import engine
from app.facilitation.models import SessionState
from app.realtime.group_service import GroupService
from app.realtime.hub import Hub
from app.realtime.interfaces import (
    UNAVAILABLE,
    Broker,
    Deadlines,
    Presence,
    SessionStore,
    participant_of,
    seat_of,
)
from app.realtime.memory.broker import MemoryBroker
from app.realtime.memory.deadlines import LocalDeadlines
from app.realtime.memory.limits import LocalLimits
from app.realtime.memory.presence import LocalPresence
from app.realtime.memory.store import MemoryStore
from app.realtime.quotas import Quotas
from app.realtime.redis.broker import RedisBroker
from app.realtime.redis.deadlines import SharedDeadlines
from app.realtime.redis.groups import RedisGroupStore
from app.realtime.redis.limits import RedisLimits
from app.realtime.redis.options import packed_in_c, redis_options
from app.realtime.redis.presence import RedisPresence
from app.realtime.redis.pubsub import PubSubLoop
from app.realtime.redis.rewrites import Rewrites
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
    presence: Presence
    redis: Redis | None = None
    timer_redis: Redis | None = None  # the deadline timer's own connections
    rewrites: Rewrites | None = None  # Redis's append-only file rewritten after erases

    @property
    def quotas(self) -> Quotas | None:
        return self.service.quotas

    async def healthy(self) -> bool:
        """Ready to serve: always in embedded mode; in Redis mode, while Redis answers a PING."""
        client = self.timer_redis or self.redis  # the small pool: a busy main pool is not an outage
        if client is None:
            return True
        try:
            return bool(await asyncio.wait_for(client.ping(), self.settings.redis_timeout_s))
        except (*UNAVAILABLE, TimeoutError):
            return False

    async def close(self) -> None:
        await self.presence.close()  # first: it may still mark people as gone in the store
        if self.rewrites is not None:
            await self.rewrites.close()
        await self.groups.close()
        await self.deadlines.close()
        await self.hub.close()
        await self.broker.close()
        await self.store.close()
        for client in (self.redis, self.timer_redis):
            if client is not None:
                await client.aclose()


def presence_hooks(service: SessionService) -> tuple[Callable[[str], Awaitable[None]], Callable[[str], Awaitable[None]]]:
    """What presence learns (a worker died with people's sockets, or came back) reaches the session."""

    async def lost(key: str) -> None:
        found = participant_of(key)
        if found is not None:
            await service.set_connected(*found, False)
        seat = seat_of(key)
        if seat is not None:
            await service.set_seat_online(*seat, False)

    async def found(key: str) -> None:
        who = participant_of(key)
        if who is not None:
            await service.set_connected(*who, True)
        seat = seat_of(key)
        if seat is not None:
            await service.set_seat_online(*seat, True)

    return lost, found


async def build_runtime(settings: AppSettings, clock: Callable[[], float] = time.time,
                        on_unknown_code: Callable[[], None] = lambda: None,
                        client_address: Callable[[], str | None] = lambda: None) -> Runtime:
    """One implementation of each interface, chosen by ``settings.redis_url``.

    The two hooks come from the HTTP layer: ``on_unknown_code`` is called when a request
    names a session that does not exist (the guessing guard counts those), and
    ``client_address`` tells who is asking (the per-address fair shares).
    """
    if settings.redis_url:
        return await _redis_runtime(settings, clock, on_unknown_code, client_address)
    path = settings.sessions_path
    store = MemoryStore(clock=clock, closed_ttl_s=settings.closed_ttl_s, idle_ttl_s=settings.idle_ttl_s,
                        file=SessionFile(path) if path else None)
    broker = MemoryBroker()
    deadlines = LocalDeadlines(clock)
    quotas = Quotas(LocalLimits(), LocalLimits(), settings, clock, secrets.token_hex(16))
    service = SessionService(store, broker, deadlines, clock, max_sessions=settings.max_sessions, quotas=quotas,
                             batching=settings.batching,
                             on_unknown_code=on_unknown_code, client_address=client_address)
    await deadlines.start(service.expire)
    restored = store.restore()
    await service.resume([record.state.code for record in restored])
    if restored:
        log.info("%d sessions restored from %s", len(restored), path)
    store.start_sweeping(sweep_interval(settings))
    groups = GroupService(SqliteGroupStore(settings.groups_db or default_groups_db(settings.data_path)), service, clock)
    service.on_change(groups.session_changed)  # a closing session's carried actions reach the group
    presence = LocalPresence()
    await presence.start(*presence_hooks(service))
    return Runtime(settings=settings, store=store, broker=broker, service=service, hub=Hub(broker, clock, service.load),
                   deadlines=deadlines, groups=groups, presence=presence)


async def old_secret_deleted(redis: Redis, prefix: str, rewrites: Rewrites) -> None:
    """An older version kept the limits' key in Redis (``rl:secret``): delete it, and have the
    append-only file rewritten without it."""
    if await redis.delete(f"{prefix}rl:secret"):
        rewrites.erased()


def sweep_interval(settings: AppSettings) -> float:
    """Often enough that content outlives its time by a small fraction of it, at most a minute."""
    return max(0.5, min(60.0, min(settings.closed_ttl_s, settings.idle_ttl_s) / 10))


async def _redis_runtime(settings: AppSettings, clock: Callable[[], float], on_unknown_code: Callable[[], None],
                         client_address: Callable[[], str | None]) -> Runtime:
    """Several workers, one Redis: any worker serves any session."""
    assert settings.redis_url
    problem = settings.limits_secret_problem()
    if problem is not None:
        raise RuntimeError(problem)
    # A blocking pool: a burst of commands (a room of phones reconnecting at once) waits for a
    # free connection instead of failing with "Too many connections", redis-py's default.
    pool = packed_in_c(BlockingConnectionPool.from_url(settings.redis_url, decode_responses=True,
                                                       max_connections=settings.redis_max_connections, timeout=10,
                                                       **redis_options(settings)))
    redis = Redis.from_pool(pool)  # owns the pool: closing the client closes it
    await redis.ping()  # fail at start-up, not at the first facilitator's click
    prefix = settings.redis_prefix
    store = RedisStore(redis, prefix=prefix, clock=clock, closed_ttl_s=settings.closed_ttl_s,
                       idle_ttl_s=settings.idle_ttl_s, deadline_of=engine.next_deadline)

    async def reload(code: str) -> SessionState | None:
        record = await store.load(code)
        return record.state if record else None

    pubsub = PubSubLoop(settings.redis_url, name=f"{prefix}pubsub")  # the process's one subscriber
    quotas = Quotas(RedisLimits(redis, prefix=prefix), LocalLimits(), settings, clock, settings.limits_secret)
    # The deadline timer has connections of its own: a flood of commands holding every pooled
    # connection must not keep a turn's end waiting in the queue behind it.
    timer_redis = Redis.from_pool(packed_in_c(BlockingConnectionPool.from_url(
        settings.redis_url, decode_responses=True, max_connections=8, timeout=10, **redis_options(settings))))
    timer_store = RedisStore(timer_redis, prefix=prefix, clock=clock, closed_ttl_s=settings.closed_ttl_s,
                             idle_ttl_s=settings.idle_ttl_s, deadline_of=engine.next_deadline)
    deadlines = SharedDeadlines(timer_redis, timer_store, pubsub, prefix=prefix, clock=clock)

    def forget(code: str) -> None:  # an erased session's tombstone: both stores let go of it
        store.forget(code)
        timer_store.forget(code)

    # A change this process wrote (a command, or a turn's end on the timer's store) reaches its
    # sockets as the state it holds; only another worker's is read back and parsed.
    broker = RedisBroker(pubsub, prefix=prefix, reload=reload,
                         mine=lambda code, worker, revision: (store.published_here(code, worker, revision)
                                                              or timer_store.published_here(code, worker, revision)),
                         forget=forget)
    store.follows = timer_store.follows = broker.follows
    service = SessionService(store, broker, deadlines, clock, max_sessions=settings.max_sessions, quotas=quotas,
                             batching=settings.batching,
                             on_unknown_code=on_unknown_code, client_address=client_address)
    pubsub.start()
    await deadlines.start(lambda code: service.expire(code, timer_store))
    group_store = RedisGroupStore(redis, prefix=f"{prefix}group:")
    groups = GroupService(group_store, service, clock)
    service.on_change(groups.session_changed)  # a closing session's carried actions reach the group
    rewrites = Rewrites(redis, interval_s=settings.redis_rewrite_interval_s, expired=store.expired,
                        clock=time.monotonic)
    await rewrites.start()
    store.on_erased = group_store.on_erased = rewrites.erased
    await old_secret_deleted(redis, prefix, rewrites)
    presence = RedisPresence(redis, prefix=prefix, clock=clock, ttl_s=settings.presence_ttl_s,
                             heartbeat_s=settings.presence_heartbeat_s)
    runtime = Runtime(settings=settings, store=store, broker=broker, service=service,
                      hub=Hub(broker, clock, service.load), deadlines=deadlines, groups=groups, presence=presence,
                      redis=redis, timer_redis=timer_redis, rewrites=rewrites)
    await presence.start(*presence_hooks(service))
    return runtime
