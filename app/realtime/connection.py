"""One live socket: a bounded outbox drained by a single sender.

States are coalesced (a phone that falls behind only needs the newest one); replies
(acks and errors) queue up to a limit, past which the client is too slow and is closed
rather than allowed to grow memory or stall the room.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from starlette.websockets import WebSocket

from app.facilitation.models import Actor, SessionState
from app.realtime.frames import Cache

Render = Callable[[SessionState, Actor, float, Cache], str]

CLOSE_TOO_SLOW = 1013
CLOSE_REVOKED = 4401
CLOSE_ERASED = 4404  # the session is gone, exactly as if it had never existed


class LiveConnection:
    __slots__ = ("ws", "actor", "render", "version", "_limit", "_replies", "_state", "_closing", "_wake")

    def __init__(self, ws: WebSocket, actor: Actor, render: Render, limit: int = 64) -> None:
        self.ws = ws
        self.actor = actor
        self.render = render
        self.version = -1
        self._limit = limit
        self._replies: deque[str] = deque()
        self._state: str | None = None
        self._closing: tuple[int, str] | None = None
        self._wake = asyncio.Event()

    def offer(self, state: SessionState, now: float, cache: Cache) -> None:
        if state.version <= self.version or self._closing:
            return
        self.version = state.version
        self._state = self.render(state, self.actor, now, cache)
        self._wake.set()

    def reply(self, text: str) -> None:
        if len(self._replies) >= self._limit:
            self.kick(CLOSE_TOO_SLOW, "too many unread replies")
            return
        self._replies.append(text)
        self._wake.set()

    def kick(self, code: int, reason: str) -> None:
        if self._closing is None:
            self._closing = (code, reason)
            self._wake.set()

    async def pump(self) -> None:
        """Send until the connection is kicked; the caller cancels it when the peer goes."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._replies:
                await self.ws.send_text(self._replies.popleft())
            if self._state is not None:
                await self._send_state()
            if self._closing is not None:
                await self.ws.close(*self._closing)
                return

    async def _send_state(self) -> None:
        # Its own frame, so that no local keeps the last frame (a few KB) alive while the
        # socket idles: thousands of idle phones would each hold one.
        text, self._state = self._state, None
        assert text is not None
        await self.ws.send_text(text)
