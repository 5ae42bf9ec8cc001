"""Commands as typed values: what a client may ask for, and who may ask.

Parsing happens once, here, so the engine only ever sees well-formed commands; a
malformed one becomes ``Invalid`` with a message that names the field.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Union

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError

from .errors import Invalid
from .models import (
    MAX_ACTION_TEXT,
    MAX_BREAKOUT_SIZE,
    MAX_PARTICIPANTS,
    BreakoutMethod,
    MAX_ITEM_TEXT,
    MAX_EVALUATION_NOTE,
    MAX_STATEMENTS,
    MAX_PHASE_S,
    MAX_PROPOSAL_TEXT,
    MAX_TURN_S,
    MIN_TURN_S,
    Frozen,
    ItemKind,
    ProposalKind,
)

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Seconds = Annotated[float, Field(ge=MIN_TURN_S, le=MAX_TURN_S, allow_inf_nan=False)]
ItemText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ITEM_TEXT)]
ProposalText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PROPOSAL_TEXT)]
ActionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ACTION_TEXT)]


class Command(Frozen):
    type: str
    # While breakouts run: the group a command addresses (see breakouts.py; the engine
    # refuses it on commands that are for the whole room).
    breakout_id: Id | None = None


# Facilitator
class Start(Command):
    type: Literal["start"]


class NextPhase(Command):
    type: Literal["next_phase"]


class GotoPhase(Command):
    type: Literal["goto_phase"]
    phase_id: Id


class StartRound(Command):
    type: Literal["start_round"]
    seconds_per_turn: Seconds | None = None


class NextTurn(Command):
    type: Literal["next_turn"]


class GiveTurn(Command):
    type: Literal["give_turn"]
    participant_id: Id


class Pause(Command):
    type: Literal["pause"]


class Resume(Command):
    type: Literal["resume"]


class Extend(Command):
    type: Literal["extend"]
    seconds: Seconds


class SetPresenter(Command):
    type: Literal["set_presenter"]
    participant_id: Id


class RevealItems(Command):
    type: Literal["reveal_items"]
    kind: ItemKind
    force: bool = False


class HideItem(Command):
    type: Literal["hide_item"]
    item_id: Id


class RemoveParticipant(Command):
    type: Literal["remove_participant"]
    participant_id: Id


class Close(Command):
    type: Literal["close"]


class ReadmitParticipant(Command):
    """Let a removed participant back in: their phone's token works again (undo.py)."""

    type: Literal["readmit_participant"]
    participant_id: Id


# Participant
class Leave(Command):
    type: Literal["leave"]


class RaiseHand(Command):
    type: Literal["raise_hand"]


class LowerHand(Command):
    type: Literal["lower_hand"]


class Pass(Command):
    type: Literal["pass"]


class UndoPass(Command):
    """Take back my pass within a few seconds of passing (undo.py)."""

    type: Literal["undo_pass"]


class YieldTurn(Command):
    type: Literal["yield_turn"]


# Someone in the room without a phone: the facilitator adds them by name, raises their hand
# for them, and anyone may type in what they wrote on paper (it goes in as anonymous as any).
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class AddWithoutPhone(Command):
    type: Literal["add_without_phone"]
    name: PersonName


class RaiseHandFor(Command):
    """The facilitator raises the hand of someone without a phone (who raised it in the room)."""

    type: Literal["raise_hand_for"]
    participant_id: Id


class SubmitPaperItem(Command):
    """What someone wrote on paper, typed in at the console: anonymous like any item."""

    type: Literal["submit_paper_item"]
    kind: ItemKind
    text: ItemText
    confirmed: bool = False


class SubmitItem(Command):
    type: Literal["submit_item"]
    kind: ItemKind
    text: ItemText
    confirmed: bool = False  # the writer saw the identifier guard's warning and sends it anyway


class RetractItem(Command):
    type: Literal["retract_item"]
    receipt: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class VoteItem(Command):
    type: Literal["vote_item"]
    item_id: Id


class AddAction(Command):
    type: Literal["add_action"]
    text: ActionText
    due: date | None = None
    confirmed: bool = False


class EditAction(Command):
    type: Literal["edit_action"]
    action_id: Id
    text: ActionText | None = None
    due: date | None = None
    confirmed: bool = False


class RemoveAction(Command):
    type: Literal["remove_action"]
    action_id: Id


class RateWellbeing(Command):
    type: Literal["rate_wellbeing"]
    score: Annotated[int, Field(ge=1, le=5, strict=True)]


class Evaluate(Command):
    """Answer the session's evaluation, once: a score 1-5 for each statement, in order, and
    optionally one line of free text (refused if it looks like it names someone, unless confirmed)."""

    type: Literal["evaluate"]
    scores: Annotated[tuple[Annotated[int, Field(ge=1, le=5, strict=True)], ...], Field(min_length=1, max_length=MAX_STATEMENTS)]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_EVALUATION_NOTE)] = ""
    confirmed: bool = False


class ShowEvaluation(Command):
    """Show the room the evaluation's spread as counted so far (it also shows when the check-out ends)."""

    type: Literal["show_evaluation"]


class RequestWord(Command):
    """Privately ask the facilitator for a word after the session."""

    type: Literal["request_word"]


class WithdrawWord(Command):
    type: Literal["withdraw_word"]


# Recurring groups: see carry.py, consent.py and lobby.py.
class PhasePick(Frozen):
    id: Id
    duration_s: Annotated[int, Field(ge=1, le=MAX_PHASE_S, strict=True)] | None = None


class SetPhases(Command):
    """Lobby only: reorder, skip and re-time the format's phases before starting."""

    type: Literal["set_phases"]
    phases: Annotated[tuple[PhasePick, ...], Field(min_length=1, max_length=50)]


class ProposeSummary(Command):
    """Propose a line for the summary: a theme, a revealed item, a change to raise, or names."""

    type: Literal["propose_summary"]
    kind: ProposalKind
    text: ProposalText | None = None
    item_id: Id | None = None
    confirmed: bool = False  # the facilitator saw the identifier guard's warning and proposes it anyway


class WithdrawProposal(Command):
    type: Literal["withdraw_proposal"]
    proposal_id: Id


class Consent(Command):
    """Agree or object to a proposed summary line, anonymously, once."""

    type: Literal["consent"]
    proposal_id: Id
    agree: Annotated[bool, Field(strict=True)]


class CarryAction(Command):
    """Carry one of my actions (or one I carried in) to the group's next session, or not."""

    type: Literal["carry_action"]
    action_id: Id
    carry: Annotated[bool, Field(strict=True)]


class ReviewAction(Command):
    """Say how an action I carried in went: done, still going, or dropped."""

    type: Literal["review_action"]
    action_id: Id
    status: Literal["done", "going", "dropped"]


class LockRoom(Command):
    """Everyone is in: nobody else may join until ``unlock_room``."""

    type: Literal["lock_room"]


class UnlockRoom(Command):
    type: Literal["unlock_room"]


class AdmitKnock(Command):
    """Let someone waiting at the locked door in."""

    type: Literal["admit_knock"]
    knock_id: Id


class DeclineKnock(Command):
    """Turn someone waiting at the locked door away."""

    type: Literal["decline_knock"]
    knock_id: Id


class ReissueKey(Command):
    """The facilitator's own key, new: the old one (and every console holding it) stops working."""

    type: Literal["reissue_key"]


class ScreenLink(Command):
    """Another link to the screen view, for a facilitator's seat that has none."""

    type: Literal["screen_link"]


class ShowWellbeing(Command):
    """Show the room the spread of a phase's wellbeing answers counted so far (default: this phase)."""

    type: Literal["show_wellbeing"]
    phase_id: Id | None = None


# Breakouts (breakouts.py): small groups inside the session.
class StartBreakouts(Command):
    """Split the present participants into groups of about ``size``: at random, balanced by
    who has spoken least, or by hand (``groups``: lists of participant ids)."""

    type: Literal["start_breakouts"]
    size: Annotated[int, Field(ge=2, le=MAX_BREAKOUT_SIZE, strict=True)]
    method: BreakoutMethod = "random"
    groups: Annotated[tuple[tuple[Id, ...], ...], Field(min_length=1, max_length=MAX_PARTICIPANTS)] | None = None


class MoveToBreakout(Command):
    type: Literal["move_to_breakout"]
    participant_id: Id
    breakout_id: Id  # the group they move to


class BreakoutNotice(Command):
    """Tell every group how many minutes are left ("two minutes left")."""

    type: Literal["breakout_notice"]
    minutes: Annotated[int, Field(ge=1, le=60, strict=True)] = 2


class EndBreakouts(Command):
    """Bring everyone back to the whole room."""

    type: Literal["end_breakouts"]


# System: the shell's clock reporting that a deadline has passed.
# Co-facilitation (cofacilitation.py): the lead invites, revokes and hands over.
CoName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class InviteCofacilitator(Command):
    type: Literal["invite_cofacilitator"]
    name: CoName


class RevokeCofacilitator(Command):
    type: Literal["revoke_cofacilitator"]
    cofacilitator_id: Id


class HandOver(Command):
    """Make another the lead: "host", a co-facilitator's id, or a participant's id (peer-led)."""

    type: Literal["hand_over"]
    to: Id


class SetRota(Command):
    """A recurring group's rota: the participants (members) in the order they facilitate, from next time."""

    type: Literal["set_rota"]
    participant_ids: Annotated[tuple[Id, ...], Field(max_length=50)]


class TakeBack(Command):
    """The host takes the facilitation back from the participant it was handed to."""

    type: Literal["take_back"]


class Erase(Command):
    """End and erase now: the lead deletes the session from the store (the shell does it once
    ``engine.permit`` says the table allows it; the live sockets take it as a frame of its own)."""

    type: Literal["erase"]


class ExpireTurn(Command):
    type: Literal["expire_turn"]


class FlushTallies(Command):
    """The fold timer fired: move the anonymous counters and presence the room sees on."""

    type: Literal["flush_tallies"]


# Every command a client may send. Which role may send which, and when, is ``engine.RULES``.
ClientCommand = Union[
    Start, NextPhase, GotoPhase, StartRound, NextTurn, GiveTurn, Pause, Resume, Extend,
    SetPresenter, RevealItems, HideItem, RemoveParticipant, Close,
    SetPhases, ProposeSummary, WithdrawProposal, ReadmitParticipant, LockRoom, UnlockRoom, ShowWellbeing, ShowEvaluation,
    AdmitKnock, DeclineKnock, ReissueKey, ScreenLink, Leave, RaiseHand, LowerHand, Pass, YieldTurn, SubmitItem, RetractItem, VoteItem,
    AddAction, EditAction, RemoveAction, RateWellbeing, Evaluate, RequestWord, WithdrawWord,
    Consent, CarryAction, ReviewAction, UndoPass, AddWithoutPhone, RaiseHandFor, SubmitPaperItem,
    StartBreakouts, MoveToBreakout, BreakoutNotice, EndBreakouts,
    InviteCofacilitator, RevokeCofacilitator, HandOver, TakeBack, SetRota,
]
CLIENT_TYPES = frozenset(c.model_fields["type"].annotation.__args__[0] for c in ClientCommand.__args__)
AnyCommand = Annotated[ClientCommand, Field(discriminator="type")]

_adapter: TypeAdapter[Command] = TypeAdapter(AnyCommand)


def parse_command(data: object) -> Command:
    """Turn client JSON into a command, or raise ``Invalid`` naming the problem."""
    if not isinstance(data, dict):
        raise Invalid("a command must be a JSON object with a 'type'", "not_a_command")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        shown = kind if isinstance(kind, str) and len(kind) <= 40 else "…"
        raise Invalid(f"unknown command type {shown!r}", "unknown_command")
    try:
        return _adapter.validate_python(data)
    except ValidationError as exc:
        raise Invalid(describe_validation(exc), "invalid_field", **field_problem(exc)) from None


# What was wrong with a field, as a word a page can say in the reader's language.
PROBLEMS = {"string_too_short": "empty", "missing": "empty", "string_too_long": "too_long", "too_long": "too_long",
            "greater_than_equal": "out_of_range", "less_than_equal": "out_of_range", "greater_than": "out_of_range",
            "less_than": "out_of_range"}


def field_problem(exc: ValidationError) -> dict[str, object]:
    """The first problem's field, what is wrong with it, and the limit it broke (if any)."""
    err = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(x) for x in err["loc"][1:] if x != err.get("type")) or "command"
    ctx = err.get("ctx") or {}
    values: dict[str, object] = {"field": field, "problem": PROBLEMS.get(err["type"], "wrong")}
    for key in ("max_length", "ge", "le", "gt", "lt"):
        if isinstance(ctx.get(key), (int, float)):
            values[key] = ctx[key]
    return values


def describe_validation(exc: ValidationError) -> str:
    """One readable line per problem, without echoing the (possibly huge) input back."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(x) for x in err["loc"][1:] if x != err.get("type")) or "command"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
