"""Open sockets counted in this process: the embedded default's ``Presence``.

One process holds every socket, so a count is simply a number; nothing can die and
leave counts behind (a restart starts from nothing, and so do the sockets).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable


class LocalPresence:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self.on_lost: Callable[[str], Awaitable[None]] | None = None
        self.on_found: Callable[[str], Awaitable[None]] | None = None

    async def arrive(self, key: str, cap: int | None = None) -> tuple[bool, bool]:
        if cap is not None and self._counts[key] >= cap:
            return False, False
        self._counts[key] += 1
        return True, self._counts[key] == 1

    async def depart(self, key: str) -> bool:
        self._counts[key] -= 1
        if self._counts[key] <= 0:
            del self._counts[key]
            return True
        return False

    async def start(self, on_lost: Callable[[str], Awaitable[None]], on_found: Callable[[str], Awaitable[None]]) -> None:
        self.on_lost, self.on_found = on_lost, on_found  # one process: nobody else's sockets to lose

    async def close(self) -> None:
        self._counts.clear()
