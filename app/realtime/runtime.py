"""Assembles the shell for one process: store, broker, service, hub and deadline timers.

The embedded default needs nothing outside the process; a Redis URL swaps in the
Redis store, broker and shared deadlines behind the same interfaces.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..config import AppSettings
from .broker import Broker, MemoryBroker
from .deadlines import LocalDeadlines
from .group_service import GroupService, group_store
from .hub import Hub
from .service import SessionService
from .store import MemoryStore, SessionStore


@dataclass
class Runtime:
    settings: AppSettings
    store: SessionStore
    broker: Broker
    service: SessionService
    hub: Hub
    deadlines: LocalDeadlines
    groups: GroupService | None = None

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


async def build_runtime(settings: AppSettings, clock: Callable[[], float] = time.time) -> Runtime:
    store: SessionStore = MemoryStore(clock=clock, closed_ttl_s=settings.closed_ttl_s, idle_ttl_s=settings.idle_ttl_s)
    broker: Broker = MemoryBroker()
    service = SessionService(store, broker, clock, max_sessions=settings.max_sessions)
    deadlines = LocalDeadlines(service.expire, clock)
    service.deadlines = deadlines
    hub = Hub(broker, clock, service.load)
    return Runtime(settings=settings, store=store, broker=broker, service=service, hub=hub, deadlines=deadlines)
