"""Consent to share: what leaves the room in the summary is decided by the group.

Before closing, the facilitator proposes lines for the summary (``propose_summary``): a
theme, a revealed item, a practice or policy change to raise, or that names may appear
on the share-of-voice chart. Each participant agrees or objects once, from their phone
(``consent``). A proposal keeps counts, and apart from them marks of who answered
(keyed with each participant's own secret, see ``tallies.mark``), so no record says who
objected. The room sees the counts batched, like every anonymous counter (``tallies``). Only what no one objected to (and at least one person agreed to) is agreed
(``agreed``) and goes into the summary.

Who may send these commands and when is in the engine's one table, ``engine.RULES``.
"""

from __future__ import annotations

from typing import Any

from . import commands as c
from . import guard, tallies
from .transition import Event, Result
from .errors import Conflict, Invalid, NotFound
from .models import MAX_PROPOSALS, Actor, Proposal, SessionState

NAMES_TEXT = "Show names on the share-of-voice chart"


def answer_mark(state: SessionState, proposal_id: str, actor: Actor) -> str:
    return tallies.mark(actor, "consent", state.code, proposal_id)


def agreed(state: SessionState) -> list[Proposal]:
    """The proposals no one objected to and someone agreed to: silence alone does not let
    a line leave the room (a proposed item hidden since is left out too)."""
    shown = {i.id for i in state.items if i.revealed and not i.hidden}
    return [p for p in state.proposals
            if p.objected == 0 and p.agreed > 0 and (p.kind != "item" or p.item_id in shown)]


def names_agreed(state: SessionState) -> bool:
    return any(p.kind == "names" for p in agreed(state))


def view(state: SessionState) -> list[dict[str, Any]]:
    """Every role sees the proposals and their counts as last folded; never who answered what."""
    return [{"id": p.id, "kind": p.kind, "text": p.text, "item_id": p.item_id, "agreed": p.shown[0],
             "objected": p.shown[1], "answered": sum(p.shown)} for p in state.proposals]


def me_extras(state: SessionState, viewer: Actor) -> dict[str, Any]:
    if viewer.role != "participant" or viewer.participant_id is None:
        return {}
    if not viewer.key:
        return {"consent_answered": []}
    return {"consent_answered": [p.id for p in state.proposals
                                 if p.answered and answer_mark(state, p.id, viewer) in p.answered]}


# ---------------------------------------------------------------- handlers

def propose_summary(state: SessionState, cmd: c.ProposeSummary, actor: Actor, now: float, fresh: Any) -> Result:
    if len(state.proposals) >= MAX_PROPOSALS:
        raise Conflict(f"this session holds its maximum of {MAX_PROPOSALS} proposals", "proposal_cap", limit=MAX_PROPOSALS)
    item_id, text = None, cmd.text
    if cmd.kind == "item":
        if cmd.item_id is None:
            raise Invalid("item_id: a proposed item needs the id of a revealed item", "proposal_needs_item")
        item = next((i for i in state.items if i.id == cmd.item_id and i.revealed and not i.hidden), None)
        if item is None:
            raise NotFound(f"no revealed item {cmd.item_id!r}", "no_such_item")
        if any(p.item_id == item.id for p in state.proposals):
            raise Conflict("that item is proposed already", "already_proposed")
        item_id, text = item.id, item.text
    elif cmd.kind == "names":
        if any(p.kind == "names" for p in state.proposals):
            raise Conflict("showing names is proposed already", "already_proposed")
        text = NAMES_TEXT
    elif text is None:
        raise Invalid(f"text: a proposed {cmd.kind} needs its text", "proposal_needs_text", kind=cmd.kind)
    else:
        guard.require_confirmed(text, cmd.confirmed)
    proposal = Proposal(id=fresh.id, kind=cmd.kind, text=text, item_id=item_id)
    state = state.model_copy(update={"proposals": state.proposals + (proposal,)})
    return state, [Event(type="summary_proposed", data={"kind": cmd.kind})], {"proposal_id": proposal.id}


def withdraw_proposal(state: SessionState, cmd: c.WithdrawProposal, actor: Actor, now: float, fresh: Any) -> Result:
    if not any(p.id == cmd.proposal_id for p in state.proposals):
        raise NotFound(f"no proposal {cmd.proposal_id!r}", "no_such_proposal")
    kept = tuple(p for p in state.proposals if p.id != cmd.proposal_id)
    return state.model_copy(update={"proposals": kept}), [Event(type="proposal_withdrawn")], {}


def consent(state: SessionState, cmd: c.Consent, actor: Actor, now: float, fresh: Any) -> Result:
    proposal = next((p for p in state.proposals if p.id == cmd.proposal_id), None)
    if proposal is None:
        raise NotFound(f"no proposal {cmd.proposal_id!r}", "no_such_proposal")
    mark = answer_mark(state, proposal.id, actor)
    if mark in proposal.answered:
        raise Conflict("you have answered this proposal already", "already_answered")
    counted = proposal.model_copy(update={
        "agreed": proposal.agreed + (1 if cmd.agree else 0),
        "objected": proposal.objected + (0 if cmd.agree else 1),
        # Sorted, so the order of the marks says nothing about who answered when.
        "answered": tuple(sorted(proposal.answered + (mark,))),
    })
    proposals = tuple(counted if p.id == proposal.id else p for p in state.proposals)
    # The event says only that an answer came: not which, not whose.
    return tallies.scheduled(state.model_copy(update={"proposals": proposals}), now), [Event(type="consent_given")], {}
