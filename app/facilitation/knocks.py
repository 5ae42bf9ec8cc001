"""The door: whether a session takes people in, and knocking at a locked one.

A locked room still lets people ask: a knock leaves a name at the door, which only the
facilitators see, and they admit or decline it. An admitted knock joins as anyone joins,
with the token the knocker already holds (its hash waits here), so the phone that knocked
opens the room by itself. The door's state is one rule (``door``), used by the join page
before anyone types, by joining and by admitting.
"""

from __future__ import annotations

from typing import Any, Literal

from . import commands as c
from .errors import Conflict, NotFound
from .models import MAX_PARTICIPANTS, Actor, Knock, SessionState, Status
from .transition import Event, Result

MAX_WAITING = 20  # at one door: enough for a late group, too few to flood the console

Door = Literal["open", "locked", "full", "closed"]


def door(state: SessionState) -> Door:
    """What someone arriving with the code finds: closed and full come before locked, since
    knocking at a full or closed room cannot get anyone in."""
    if state.status is Status.closed:
        return "closed"
    if sum(1 for p in state.participants if p.present) >= MAX_PARTICIPANTS:
        return "full"
    cap = state.format.max_participants
    if cap is not None and sum(1 for p in state.participants if not p.removed) >= cap:
        return "full"
    return "locked" if state.locked else "open"


def check_door(state: SessionState, *, admitting: bool = False) -> None:
    """Refuse a join the door does not allow; ``admitting``: the facilitator lets someone
    through the locked door, so only closed and full stop them."""
    found = door(state)
    if found == "closed":
        raise Conflict("this session has closed", "session_closed")
    if found == "full":
        cap = state.format.max_participants
        if cap is not None and sum(1 for p in state.participants if p.present) < MAX_PARTICIPANTS:
            raise Conflict(f"this session admits {cap} people, and they have joined", "session_full", limit=cap)
        raise Conflict(f"this session is full ({MAX_PARTICIPANTS} people)", "session_full", limit=MAX_PARTICIPANTS)
    if found == "locked" and not admitting:
        raise Conflict("the facilitator has locked this session: ask them to let you in", "session_locked")


def knock(state: SessionState, *, knock_id: str, name: str, token_hash: str, now: float) -> SessionState:
    """Leave a name at the locked door (the caller versions the state)."""
    found = door(state)
    if found == "open":
        raise Conflict("the room is open: join it", "door_open")
    check_door(state, admitting=True)
    if len(state.knocks) >= MAX_WAITING:
        raise Conflict(f"{MAX_WAITING} people are already waiting to be let in: ask the facilitator")
    return state.model_copy(update={"knocks": state.knocks + (Knock(id=knock_id, name=name, token_hash=token_hash,
                                                                      at=now),)})


def take(state: SessionState, knock_id: str) -> tuple[Knock, SessionState]:
    """The knock, and the state without it: it is answered either way."""
    for k in state.knocks:
        if k.id == knock_id:
            return k, state.model_copy(update={"knocks": tuple(x for x in state.knocks if x.id != knock_id)})
    raise NotFound("nobody with that id is waiting at the door")


def decline(state: SessionState, cmd: c.DeclineKnock, actor: Actor, now: float, fresh: Any) -> Result:
    _, state = take(state, cmd.knock_id)
    return state, [Event(type="knock_declined")], {}


def status_of(state: SessionState, token_hash: str) -> tuple[str, str | None]:
    """What the knocker's phone asks while it waits: waiting, admitted (with their id), or
    declined (their knock is gone and no participant holds their token). A removed participant's
    phone asks the same while it waits to be let back in: removed, until it is admitted again."""
    if any(k.token_hash == token_hash for k in state.knocks):
        return "waiting", None
    for p in state.participants:
        if p.token_hash == token_hash:
            return ("removed", None) if p.removed else ("admitted", p.id)
    return "declined", None


def waiting_view(state: SessionState) -> list[dict[str, Any]]:
    """For the facilitators' eyes only: who is at the door, first come first."""
    return [{"id": k.id, "name": k.name, "at": k.at} for k in state.knocks]
