"""The core as the tests drive it, without a server: a session with people in it, a
participant, a command sent at a given time, and the shell's two clocks (the fold timer and
a turn's end). Time is always passed in: no test of the core sleeps.

Ids and secrets come from a counter, never from the time a command was sent, so two items
written at the same moment are two items, and no test depends on another having run first.
"""

from __future__ import annotations

import itertools

from app.facilitation import commands, engine
from app.facilitation.formats import resolve_format
from app.facilitation.models import FACILITATOR, SYSTEM, Actor, Fresh, SessionState, Settings

_ids = itertools.count(1)


def fresh() -> Fresh:
    """Fresh ids in no order (as the shell's random ones), and a secret of their own."""
    n = next(_ids)
    return Fresh(id=f"{(n * 7919) % 10007:05d}x{n}", secret=f"secret-{n}")


def session(format_id: str = "check-in-out", people: int = 3, *, code: str = "ROOM22", title: str = "Team",
            durations: dict[str, int] | None = None, settings: Settings | None = None,
            group: str | None = None) -> SessionState:
    """A session in the lobby with ``people`` joined: ids p0, p1, …, names "Person 0", …"""
    state = engine.new_session(code=code, title=title, format=resolve_format(format_id, durations), now=0.0,
                               salt="salt", facilitator_token_hash="f", screen_token_hash="s", settings=settings)
    if group is not None:
        state = state.model_copy(update={"group_id": group})
    for i in range(people):
        state = engine.join(state, participant_id=f"p{i}", name=f"Person {i}", token_hash=f"t{i}", now=0.0).state
    return state


def person(who: int | str) -> Actor:
    """Participant ``p{who}`` (or the id given), with the marking secret their token would yield."""
    pid = f"p{who}" if isinstance(who, int) else who
    return Actor(role="participant", participant_id=pid, key=f"secret of {pid}")


def apply(state: SessionState, command: dict, actor: Actor = FACILITATOR, now: float = 0.0) -> engine.Transition:
    return engine.apply(state, commands.parse_command(command), actor, now, fresh())


def send(state: SessionState, command: dict, actor: Actor = FACILITATOR, now: float = 0.0) -> SessionState:
    return apply(state, command, actor, now).state


def folded(state: SessionState, until: float) -> SessionState:
    """Let the fold timer tick (as the shell would) until ``until``: anonymous counts reach the views."""
    while state.flush_at is not None and state.flush_at <= until:
        state = engine.apply(state, commands.FlushTallies(type="flush_tallies"), SYSTEM, state.flush_at,
                             Fresh(id="tick", secret="")).state
    return state


def settled(state: SessionState) -> SessionState:
    """Let the fold timer tick until nothing is left to fold."""
    return folded(state, float("inf"))


def expired(state: SessionState, now: float) -> SessionState:
    """The shell's clock reporting a deadline at ``now`` (a turn's or a group's phase's end)."""
    return engine.apply(state, commands.ExpireTurn(type="expire_turn"), SYSTEM, now, fresh()).state


def speaker(state: SessionState) -> str | None:
    return state.turn.participant_id if state.turn else None
