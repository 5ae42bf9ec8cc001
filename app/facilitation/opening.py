"""How a group's session opens with what its members agreed between meetings.

The rules, all here:

- when the session is created it copies in the group's agreement (text, how many agreed,
  when it last changed), the case or topic settled for it (a case only once its author
  consented to present it), and when the group meets next (``plan_for_session``);
- every view of a group session shows these (``view``): the check-in shows the agreement
  briefly, the session opens with the settled case;
- the member who consented to present becomes the session's presenter when they join with
  their code (``arrive``), so the session opens with that presenter set;
- a member's journal entries brought to the check-in are their own words, never anonymous:
  their phone sees them always, the screen and the facilitator while they hold the floor in
  the check-in, and no other phone (``me_extras``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import carry
from .between import Between
from .models import Actor, GroupPlan, SessionState


def plan_for_session(b: Between, next_at: float | None, minutes: int | None, tz: str | None) -> GroupPlan:
    a, p = b.agreement, b.plan
    ready = p is not None and (p.kind == "topic" or p.consent == "agreed")
    return GroupPlan(
        agreement=a.text if a else None, agreement_agreed=a.agreed if a else 0,
        agreement_revised_at=a.revised_at if a else None,
        plan_id=p.id if p is not None and ready else None, plan_kind=p.kind if p is not None and ready else None,
        plan_text=p.text if p is not None and ready else None, plan_name=p.name if p is not None and ready else None,
        presenter_member=p.presenter if p is not None and ready else None,
        next_at=next_at, next_minutes=minutes, tz=tz)


def arrive(state: SessionState, participant_id: str, member_id: str, brought: tuple[str, ...]) -> SessionState:
    """A member joined with their code: the consented presenter takes the presenter's place."""
    person = state.participant(participant_id)
    if person is None:
        return state
    update: dict[str, Any] = {}
    if brought:
        person = person.model_copy(update={"brought": brought})
        update["participants"] = tuple(person if p.id == participant_id else p for p in state.participants)
    plan = state.group_plan
    if plan is not None and plan.presenter_member == member_id and state.presenter_id is None:
        update["presenter_id"] = participant_id
    return state.model_copy(update=update) if update else state


def view(state: SessionState) -> dict[str, Any] | None:
    plan = state.group_plan
    if state.group_id is None or plan is None:
        return None
    return {
        "agreement": ({"text": plan.agreement, "agreed": plan.agreement_agreed,
                       "revised_at": plan.agreement_revised_at} if plan.agreement else None),
        "case": ({"kind": plan.plan_kind, "text": plan.plan_text, "name": plan.plan_name}
                 if plan.plan_text else None),
        "next_at": plan.next_at, "next_minutes": plan.next_minutes, "tz": plan.tz,
        "next_local": local_time(plan.next_at, plan.tz),
        "at_check_in": carry.reviewing_phase(state),  # the check-in shows the agreement
    }


def local_time(at: float | None, tz: str | None) -> str | None:
    """``2030-01-10 14:00`` in the group's time zone (the schedule's), for the pages."""
    if at is None or tz is None:
        return None
    return datetime.fromtimestamp(at, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def me_extras(state: SessionState, viewer: Actor) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if state.group_id is None:
        return extras
    if viewer.role == "participant":
        person = state.participant(viewer.participant_id or "")
        if person is not None:
            extras["brought"] = list(person.brought)
    elif viewer.role in ("screen", "facilitator"):
        extras["floor_brought"] = None
        if state.turn is not None and carry.reviewing_phase(state):
            speaker = state.participant(state.turn.participant_id)
            if speaker is not None and speaker.brought:
                extras["floor_brought"] = {"participant_id": speaker.id, "name": speaker.name,
                                           "words": list(speaker.brought)}
    return extras
