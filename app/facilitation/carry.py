"""Action plans carried between a recurring group's sessions.

The rules, all here:

- each participant chooses, per action, whether it is carried to the group's next
  session (``carry_action``); nothing is carried unless its author chose it;
- a member who joins the next session brings in what they carried (``welcome``); in the
  check-in they hold the floor and say how it went (``review_action``: done, still going,
  dropped); "still going" carries it on again unless they say otherwise;
- who sees what: the owner's phone sees their own carried actions; the screen and the
  facilitator see only the current speaker's, and only in the phase that reviews them;
  no other phone ever sees them (``me_extras``, called from views.me_view);
- at close, ``carried_forward`` is the whole of what the group keeps from the session.

Who may send these commands and when is in the engine's one table, ``engine.RULES``.
"""

from __future__ import annotations

from typing import Any

from . import commands as c
from .transition import Event, Result
from .errors import Conflict, Forbidden, NotFound
from .models import (
    MAX_CARRIED,
    Action,
    Actor,
    CarriedAction,
    Participant,
    SessionState,
    Status,
)


def welcome(state: SessionState, participant_id: str, member_id: str,
            carried: tuple[CarriedAction, ...], heard_least: bool = False, cpd_key: str | None = None,
            joins_group: str | None = None, brought_at_door: bool = False) -> SessionState:
    """Mark a participant as a member of the session's group, with what they carried in (and
    whether they were in the quieter half at their last meeting: see ``quieter_half``)."""
    person = state.participant(participant_id)
    if person is None:
        raise NotFound(f"no participant {participant_id!r} in this session", "no_such_participant")
    person = person.model_copy(update={"member_id": member_id, "carried_in": tuple(carried[:MAX_CARRIED]),
                                       "heard_least": heard_least, "cpd_key": cpd_key,
                                       "joins_group": joins_group, "brought_at_door": brought_at_door})
    return state.model_copy(update={"participants": tuple(
        person if p.id == participant_id else p for p in state.participants)})


def carried_forward(state: SessionState) -> dict[str, list[dict[str, Any]]]:
    """What the group keeps, per member who took part: the actions they chose to carry.

    A member who took part and carried nothing maps to an empty list, so what they carried
    before is not kept any longer. Removed participants carry nothing and change nothing.
    """
    kept: dict[str, list[dict[str, Any]]] = {}
    for person in state.participants:
        if person.member_id is None or person.removed:
            continue
        mine = kept.setdefault(person.member_id, [])
        mine += [{"id": a.id, "text": a.text, "due": a.due} for a in person.carried_in if a.carry]
        mine += [{"id": a.id, "text": a.text, "due": a.due} for a in state.actions
                 if a.participant_id == person.id and a.carry]
    unique = {mid: list({a["id"]: a for a in actions}.values()) for mid, actions in kept.items()}  # one per id
    return {mid: actions[:MAX_CARRIED] for mid, actions in unique.items()}


def quieter_half(state: SessionState) -> dict[str, bool]:
    """Per member who took part: whether their floor time was below the median of everyone
    who took part (the quieter half; ties at the median are not). Nobody, when nobody spoke.
    The group keeps only this flag, per member, until their next meeting."""
    people = [p for p in state.participants if not p.removed]
    times = sorted(p.spoken_s for p in people)
    if not times or times[-1] <= 0:
        return {p.member_id: False for p in people if p.member_id is not None}
    n = len(times)
    median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    return {p.member_id: p.spoken_s < median for p in people if p.member_id is not None}


def reviewing_phase(state: SessionState) -> bool:
    """Whether the current phase reviews carried actions: one marked ``review_actions``,
    or the first phase when the format marks none."""
    if state.phase is None or state.status not in (Status.running, Status.paused):
        return False
    phases = state.format.phases
    if any(p.review_actions for p in phases):
        return phases[state.phase.index].review_actions
    return state.phase.index == 0


def _shown(actions: tuple[CarriedAction, ...]) -> list[dict[str, Any]]:
    return [{"id": a.id, "text": a.text, "due": a.due, "status": a.status, "carry": a.carry} for a in actions]


def me_extras(state: SessionState, viewer: Actor) -> dict[str, Any]:
    """The per-viewer fields about carried actions (see the module's rules on who sees what)."""
    extras: dict[str, Any] = {}
    if state.group_id is None:
        return extras
    if viewer.role == "participant":
        person = state.participant(viewer.participant_id or "")
        if person is not None:
            on_floor = state.turn is not None and state.turn.participant_id == person.id
            extras["member"] = person.member_id is not None
            extras["carried"] = _shown(person.carried_in)
            extras["reviewing"] = on_floor and reviewing_phase(state) and bool(person.carried_in)
            extras["carry_action_ids"] = [a.id for a in state.actions if a.participant_id == person.id and a.carry]
    elif viewer.role in ("screen", "facilitator"):
        extras["floor_carried"] = None
        if state.turn is not None and reviewing_phase(state):
            speaker = state.participant(state.turn.participant_id)
            if speaker is not None and speaker.carried_in:
                extras["floor_carried"] = {"participant_id": speaker.id, "name": speaker.name,
                                           "actions": _shown(speaker.carried_in)}
    return extras


# ---------------------------------------------------------------- handlers

def _me(state: SessionState, actor: Actor) -> Participant:
    me = state.participant(actor.participant_id or "")
    assert me is not None  # engine.apply has checked the participant
    return me


def _with_carried(state: SessionState, me: Participant, changed: CarriedAction) -> SessionState:
    me = me.model_copy(update={"carried_in": tuple(changed if a.id == changed.id else a for a in me.carried_in)})
    return state.model_copy(update={"participants": tuple(me if p.id == me.id else p for p in state.participants)})


def _group_only(state: SessionState) -> None:
    if state.group_id is None:
        raise Conflict("this session is not part of a recurring group: there is no next session to carry to",
                       "not_a_group")


def carry_action(state: SessionState, cmd: c.CarryAction, actor: Actor, now: float, fresh: Any) -> Result:
    _group_only(state)
    me = _me(state, actor)
    for carried in me.carried_in:
        if carried.id == cmd.action_id:
            if cmd.carry and carried.status in ("done", "dropped"):
                raise Conflict(f"that action is marked {carried.status}: mark it still going to carry it on",
                               "action_settled", status=carried.status)
            if carried.carry == cmd.carry:
                return state, [], {}
            return (_with_carried(state, me, carried.model_copy(update={"carry": cmd.carry})),
                    [Event(type="action_carried" if cmd.carry else "action_uncarried")], {})
    for action in state.actions:
        if action.id == cmd.action_id:
            if action.participant_id != me.id:
                raise Forbidden("only its author may carry an action forward", "not_your_action")
            if action.carry == cmd.carry:
                return state, [], {}
            changed: Action = action.model_copy(update={"carry": cmd.carry})
            actions = tuple(changed if a.id == action.id else a for a in state.actions)
            return (state.model_copy(update={"actions": actions}),
                    [Event(type="action_carried" if cmd.carry else "action_uncarried")], {})
    raise NotFound(f"no action {cmd.action_id!r} of yours", "no_such_action")


def review_action(state: SessionState, cmd: c.ReviewAction, actor: Actor, now: float, fresh: Any) -> Result:
    me = _me(state, actor)
    for carried in me.carried_in:
        if carried.id == cmd.action_id:
            if carried.status == cmd.status:
                return state, [], {}
            changed = carried.model_copy(update={"status": cmd.status, "carry": cmd.status == "going"})
            return _with_carried(state, me, changed), [Event(type="action_reviewed", data={"status": cmd.status})], {}
    raise NotFound(f"no carried action {cmd.action_id!r} of yours", "no_such_action")
