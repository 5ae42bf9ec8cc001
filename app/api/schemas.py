"""What the JSON API takes and gives: one model per body, strict on the way in."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.facilitation.commands import PhasePick
from app.facilitation.models import MAX_NAME, MAX_PHASE_S, MAX_TITLE

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_NAME)]
PhaseSeconds = Annotated[int, Field(ge=1, le=MAX_PHASE_S)]
ShortId = Annotated[str, StringConstraints(max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PhaseOut(BaseModel):
    id: str
    title: str
    kind: str
    duration_s: int


class FormatOut(BaseModel):
    id: str
    title: str
    summary: str
    phases: list[PhaseOut]


class SessionSetup(Strict):
    """A session's title and format: built-in or a custom format file (docs/formats.md), re-timed,
    and the phases in the order to run them (a phase left out is skipped)."""

    title: Title
    format: ShortId | None = None
    durations: Annotated[dict[ShortId, PhaseSeconds], Field(max_length=50)] | None = None
    format_toml: Annotated[str, StringConstraints(max_length=32_000)] | None = None
    phases: Annotated[list[PhasePick], Field(min_length=1, max_length=50)] | None = None


class CreateSession(SessionSetup):
    """``POST /api/sessions``: optionally in a recurring group, named with its key (docs/groups.md)."""

    group: ShortId | None = None
    group_key: Annotated[str, StringConstraints(max_length=128)] | None = None


class SessionCreated(BaseModel):
    code: str
    facilitator_token: str
    screen_token: str
    join_url: str
    console_url: str
    screen_url: str
    group: str | None = None


class JoinSession(Strict):
    name: Name
    member_code: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class Joined(BaseModel):
    participant_id: str
    token: str
    member_code: str | None = None  # a group member's personal code: shown once, on first join


class Knock(Strict):
    name: Name
    member_code: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class Knocked(BaseModel):
    knock_id: str
    token: str  # the knocker's: it opens the session once a facilitator admits them
    member_code: str | None = None  # a group's new member's personal code, as at a first join: shown once


class KnockStatus(BaseModel):
    status: Literal["waiting", "admitted", "declined", "removed"]
    participant_id: str | None = None  # once admitted


class Ack(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: int


class CreateGroup(Strict):
    name: Title


class GroupCreated(BaseModel):
    group_id: str
    group_key: str
    name: str


class GroupOut(BaseModel):
    id: str
    name: str
    created_at: float
    members: int
    statements: list[str] | None = None  # the group's own evaluation statements (None: each format's)
    least_heard_first: bool = False
    report_link: bool = False  # whether a read-only report link exists
    rota: list[str] = []  # the names on the group's rota of who facilitates, in order
    next_facilitator: str | None = None  # who facilitates the group's next session, by the rota
    next_at: float | None = None  # when the group meets next (epoch seconds), if it keeps a schedule


class GroupOptions(Strict):
    """Rounds and the queue start with the members least heard at their last meeting."""

    least_heard_first: bool


class GroupStatements(Strict):
    """The group's own evaluation statements for its next sessions; null goes back to each format's."""

    statements: list[str] | None


# ------------------------------------------------------------------ between meetings

Text = Annotated[str, StringConstraints(max_length=8000)]


class AgreementDraft(Strict):
    """The group's agreement, as drafted or edited: a new version everyone agrees to again."""

    text: Text


class AgreementAnswer(Strict):
    """I agree to this version of the agreement (or take my agreement back)."""

    version: int
    agree: bool = True


class TopicOffer(Strict):
    """A topic for the next meeting, or a case to bring: named to the group (``name``) or anonymous."""

    kind: Annotated[str, StringConstraints(max_length=8)]
    text: Annotated[str, StringConstraints(max_length=1000)]
    name: Annotated[str, StringConstraints(max_length=200)] | None = None


class TopicMark(Strict):
    like: bool = True


class Settle(Strict):
    topic_id: ShortId


class PresenterConsent(Strict):
    agree: bool


class ScheduleIn(Strict):
    """``{every, interval, weekday, nth, time, minutes, tz, starts}``, or null for none."""

    schedule: dict[ShortId, int | str | None] | None


class MoveIn(Strict):
    """One meeting the schedule puts on ``date`` moves to ``to`` (local date and time), or null: cancelled."""

    date: ShortId
    to: ShortId | None = None


class JournalWrite(Strict):
    text: Text
    bring: bool = False
    cpd: bool = False


class JournalChoice(Strict):
    bring: bool | None = None
    cpd: bool | None = None
