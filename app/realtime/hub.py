"""This process's live sockets, grouped by session, fed from the broker.

The hub subscribes to a session's states when its first local socket arrives and
unsubscribes after the last one leaves. Each new state is handed to ``deliver`` as it
arrives, rendered once per distinct viewer (the render cache) and offered to every
socket of the session, which writes it at once or leaves it to its sender (see
connection.py). What a session's frames share
between versions (the pages' rendered regions) lives as long as its sockets here do.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

from app.facilitation import cofacilitation
from app.facilitation.models import SessionState
from app.realtime import close_codes, metrics
from app.realtime.connection import LiveConnection
from app.realtime.frames import SESSION, SETTLE, Cache
from app.realtime.interfaces import Broker

log = logging.getLogger("talkingpiece.hub")


class Hub:
    def __init__(self, broker: Broker, clock: Callable[[], float],
                 load: Callable[[str], Awaitable[SessionState]]) -> None:
        self._broker = broker
        self._clock = clock
        self._load = load
        self._sockets: dict[str, set[LiveConnection]] = {}
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._lasting: dict[str, dict[str, object]] = {}
        self._present: Counter[tuple[str, str]] = Counter()
        self._newest: dict[str, SessionState] = {}

    def attach(self, code: str, conn: LiveConnection, state: SessionState) -> bool:
        """Add a socket and send it the current state. True when it is this participant's first socket here.

        ``state`` was read before the socket got here; a change delivered to the session's
        other sockets meanwhile is newer, and the newcomer starts from that (a screen reloaded
        as a round starts shows the round, not the moment before it)."""
        newest = self._newest.get(code)
        if newest is not None and newest.version > state.version:
            state = newest
        self._sockets.setdefault(code, set()).add(conn)
        metrics.socket_opened(conn.kind, conn.actor.role, first_of_session=code not in self._followers)
        if code not in self._followers:
            self._followers[code] = asyncio.get_running_loop().create_task(self._follow(code))
        refused = self._refusal(conn, state)  # removed (or the key re-issued) while it was let in
        if refused is not None:
            conn.kick(*refused)
        else:
            conn.offer(state, self._clock(), self._cache(code))
        pid = conn.actor.participant_id
        if pid is None:
            return False
        self._present[(code, pid)] += 1
        return self._present[(code, pid)] == 1

    def detach(self, code: str, conn: LiveConnection) -> bool:
        """Remove a socket. True when it was this participant's last socket here."""
        sockets = self._sockets.get(code)
        if sockets is not None and conn in sockets:
            sockets.discard(conn)
            metrics.socket_closed(conn.kind, conn.actor.role, last_of_session=not sockets)
            if not sockets:
                del self._sockets[code]
                self._lasting.pop(code, None)
                self._newest.pop(code, None)
                follower = self._followers.pop(code, None)
                if follower is not None:
                    follower.cancel()
                    # Its unsubscribe still has to run: keep the task alive until it has, or
                    # the collector may destroy it halfway (and the channel stays subscribed).
                    self._stopping.add(follower)
                    follower.add_done_callback(self._stopping.discard)
        pid = conn.actor.participant_id
        if pid is None:
            return False
        self._present[(code, pid)] -= 1
        if self._present[(code, pid)] <= 0:
            del self._present[(code, pid)]
            return True
        return False

    def deliver(self, state: SessionState) -> None:
        sockets = self._sockets.get(state.code)
        if not sockets:
            return
        newest = self._newest.get(state.code)
        if newest is None or state.version > newest.version:
            self._newest[state.code] = state
        now, cache = self._clock(), self._cache(state.code)
        for conn in list(sockets):
            refused = self._refusal(conn, state)
            if refused is not None:
                conn.kick(*refused)
                continue
            conn.offer(state, now, cache)
        for settle in cache.get(SETTLE, ()):
            settle()
        metrics.fanned_out(state.code, state.version)

    @staticmethod
    def _refusal(conn: LiveConnection, state: SessionState) -> tuple[int, str] | None:
        """Why this socket may no longer follow the session (its person removed, the key
        re-issued, the seat gone), as the close it gets; None while it may."""
        pid = conn.actor.participant_id
        if pid is not None:
            person = state.participant(pid)
            if person is None or person.removed:
                return close_codes.REMOVED_FROM_SESSION
        if conn.host_key is not None and conn.host_key != state.facilitator_token_hash:
            return close_codes.BAD_TOKEN, "the facilitator's key was re-issued"
        seat = conn.actor.seat
        if seat is not None and not cofacilitation.is_seat(state, seat):
            return close_codes.NO_LONGER_FACILITATING
        return None

    def _cache(self, code: str) -> Cache:
        """A fresh cache for one state, holding the session's lasting one."""
        return {SESSION: self._lasting.setdefault(code, {})}

    async def _follow(self, code: str) -> None:
        """Keep this process subscribed to the session while it has sockets for it here."""
        try:
            gone = lambda reason: self.kick_session(code, close_codes.GONE, reason)  # noqa: E731
            async with self._broker.subscribe(code, self.deliver, gone):
                # Anything published between the socket's first state and the subscription
                # is caught by one fresh read; versions make repeats harmless.
                try:
                    self.deliver(await self._load(code))
                except Exception:
                    pass
                await asyncio.get_running_loop().create_future()  # until the last socket leaves
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("following session %s failed", code)

    @property
    def socket_count(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    def kick_session(self, session: str, code: int, reason: str) -> None:
        """Close every local socket of one session (e.g. it was erased)."""
        for conn in list(self._sockets.get(session, ())):
            conn.kick(code, reason)

    def kick_all(self, code: int, reason: str) -> None:
        for sockets in self._sockets.values():
            for conn in sockets:
                conn.kick(code, reason)

    async def close(self) -> None:
        for task in self._followers.values():
            task.cancel()
        self._followers.clear()
