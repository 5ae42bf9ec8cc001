"""Second chances: taking back a pass, and letting a removed participant back in.

A pass is undone only within ``UNDO_PASS_S`` of passing and only while nothing else has
moved the floor since (no other turn, round or phase): the round goes back to how it was,
and whoever passed while speaking gets the floor back with the time they had left. The
few seconds the next speaker held the floor count as theirs. A removed participant stays
out, however often their phone tries, until the facilitator lets them back in; then the
same person (name, actions, token) is present again. The handlers join the engine's
tables when this module is imported.
"""

from __future__ import annotations

from typing import Any

from . import commands as c
from . import engine
from .engine import Event, Result, _clock, _end_turn, _with_participant
from .errors import Conflict, NotFound
from .models import UNDO_PASS_S, Actor, SessionState


def undo_pass_until(state: SessionState, participant_id: str | None) -> float | None:
    """Until when (server clock) this participant may take back their latest pass."""
    last = state.last_pass
    if last is None or participant_id is None or last.participant_id != participant_id:
        return None
    return last.at + UNDO_PASS_S


def _undo_pass(state: SessionState, cmd: c.UndoPass, actor: Actor, now: float, fresh: Any) -> Result:
    last = state.last_pass
    until = undo_pass_until(state, actor.participant_id)
    if last is None or until is None:
        raise Conflict("there is no pass of yours to undo")
    moved = (state.rounds_run != last.rounds_run or len(state.phase_log) != last.phases_entered
             or (state.turn.started_at if state.turn is not None else None) != last.turn_after_started)
    if now > until or moved:
        raise Conflict("too late to undo the pass: the round has moved on")
    events: list[Event] = [Event(type="pass_undone")]
    clear = {"last_pass": None}
    if last.turn_before is None:  # passed ahead of my turn: my place comes back
        rnd = state.round
        if rnd is None or rnd.mark_of(last.participant_id) != "passed":
            raise Conflict("too late to undo the pass: the round has moved on")
        marks = tuple((pid, m) for pid, m in rnd.marks if pid != last.participant_id)
        return state.model_copy(update={"round": rnd.model_copy(update={"marks": marks}), **clear}), events, {}
    state = _end_turn(state, now, events)
    clock = _clock(state, now)
    left = max(1.0, last.turn_before.ends_at - last.clock_at)
    turn = last.turn_before.model_copy(update={"ends_at": clock + left, "counted_from": clock})
    events.append(Event(type="turn_started", data={"participant_id": last.participant_id, "source": "round"}))
    return state.model_copy(update={"round": last.round_before, "turn": turn, **clear}), events, {}


def _readmit(state: SessionState, cmd: c.ReadmitParticipant, actor: Actor, now: float, fresh: Any) -> Result:
    person = state.participant(cmd.participant_id)
    if person is None or not person.removed:
        raise NotFound(f"no removed participant {cmd.participant_id!r} in this session")
    state = _with_participant(state, person.model_copy(update={"removed": False, "present": True}))
    return state, [Event(type="participant_readmitted", data={"participant_id": person.id})], {}


def removed_people(state: SessionState) -> list[dict[str, str]]:
    """For the facilitator's eyes: who was removed, so they can let someone back in."""
    return [{"participant_id": p.id, "name": p.name} for p in state.participants if p.removed]


engine.HANDLERS.update({c.UndoPass: _undo_pass, c.ReadmitParticipant: _readmit})
