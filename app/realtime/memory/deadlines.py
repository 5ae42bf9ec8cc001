"""Turn deadlines enforced by one timer per session, set for the deadline itself.

No polling loop and no per-second messages: when a change moves a session's next
deadline, its timer is replaced; when the timer fires it asks the service to expire the
turn, which the core ignores if the deadline has moved on meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("talkingpiece.deadlines")


class LocalDeadlines:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._expire: Callable[[str], Awaitable[None]] | None = None
        self._clock = clock
        self._timers: dict[str, tuple[float, asyncio.TimerHandle]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def start(self, expire: Callable[[str], Awaitable[None]]) -> None:
        """From now on, a passed deadline calls ``expire(code)`` (the service's)."""
        self._expire = expire

    def schedule(self, code: str, when: float | None) -> None:
        current = self._timers.get(code)
        if current is not None and current[0] == when:
            return
        if current is not None:
            current[1].cancel()
            del self._timers[code]
        if when is None:
            return
        loop = asyncio.get_running_loop()
        handle = loop.call_later(max(0.0, when - self._clock()), self._fire, code, when)
        self._timers[code] = (when, handle)

    def _fire(self, code: str, when: float) -> None:
        early = when - self._clock()
        if early > 0:
            # The loop's monotonic timer can fire a hair before the wall clock reaches the
            # deadline; the core ignores an early expiry, and nothing would re-arm the timer.
            if self._timers.get(code, (None,))[0] == when:
                handle = asyncio.get_running_loop().call_later(early + 0.005, self._fire, code, when)
                self._timers[code] = (when, handle)
            return
        if self._timers.get(code, (None,))[0] == when:
            del self._timers[code]
        assert self._expire is not None, "schedule() before start()"
        task = asyncio.get_running_loop().create_task(self._expire(code))
        self._running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("expiring a turn failed", exc_info=task.exception())

    @property
    def pending(self) -> int:
        return len(self._timers)

    async def close(self) -> None:
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for task in list(self._running):
            task.cancel()
