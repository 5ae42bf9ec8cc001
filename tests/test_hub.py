"""The hub hands a new socket the session as the room now has it.

A socket's first state is read from the store before the socket joins the hub; in Redis mode
that read is a round trip, and a change published meanwhile reaches only the sockets already
there. A screen reloaded as the facilitator starts a round would show the moment before the
round until the next change.
"""

from __future__ import annotations

import asyncio

from app.facilitation.models import FACILITATOR, SessionState
from app.realtime.close_codes import REMOVED_FROM_SESSION
from app.realtime.connection import LiveConnection
from app.realtime.hub import Hub
from app.realtime.memory.broker import MemoryBroker
from tests.support import core


class _Socket:
    """What a connection writes to: frames wait for its sender, and a close is kept."""

    def __init__(self) -> None:
        self.closed: tuple[int, str] | None = None

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


def _connection(actor, shown: list[int]) -> LiveConnection:
    def render(state: SessionState, actor, now, cache) -> str:
        shown.append(state.version)
        return f"version {state.version}"
    return LiveConnection(_Socket(), actor, render)  # type: ignore[arg-type]


def _in_hub(steps):
    async def run():
        before = core.session(people=3)
        hub = Hub(MemoryBroker(), clock=lambda: 0.0, load=lambda code: asyncio.sleep(0, before))
        await steps(hub, before)
        await hub.close()
    asyncio.run(run())


def test_a_socket_whose_read_predates_a_change_starts_from_the_change():
    async def steps(hub: Hub, before: SessionState) -> None:
        console, screen = [], []
        hub.attach(before.code, _connection(FACILITATOR, console), before)
        after = core.send(before, {"type": "start"})
        assert after.version > before.version
        hub.deliver(after)  # the change reaches the sockets already here ...
        hub.attach(before.code, _connection(FACILITATOR, screen), before)  # ... while this one read
        assert console == [before.version, after.version]
        assert screen == [after.version]
    _in_hub(steps)


def test_a_person_removed_while_their_socket_opened_is_closed():
    async def steps(hub: Hub, before: SessionState) -> None:
        hub.attach(before.code, _connection(FACILITATOR, []), before)
        removed = core.send(before, {"type": "remove_participant", "participant_id": "p1"})
        hub.deliver(removed)
        shown: list[int] = []
        phone = _connection(core.person(1), shown)
        hub.attach(before.code, phone, before)
        await asyncio.wait_for(phone.pump(), 1)
        assert shown == []
        assert phone.ws.closed == REMOVED_FROM_SESSION
    _in_hub(steps)
