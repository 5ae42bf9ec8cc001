"""The session's state as immutable values.

Every model is frozen and every collection a tuple: a transition builds a new state and
leaves the old one untouched, so the shell can compare, store and retry freely.

Privacy is structural here: ``Item`` has no field that could hold an author, and the
only traces a participant leaves on an item are marks (of a vote, of a receipt) that
cannot be turned back into a participant: a vote's mark is keyed with a secret derived
from the voter's own token (``Actor.key``), which the store never holds.

Anonymous counters are kept twice: the true tally (what the rules check against) and
what the room is shown, which ``batching`` folds in on a jittered timer, a stage behind,
so that no count moves the moment one person acts. Presence is kept twice for the same
reason: ``online`` is what the shell reports, ``connected`` what the room sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

PhaseKind = Literal["round", "presentation", "queue", "writing"]
# What a phase is for: the pages put first what this purpose asks of each person.
Purpose = Literal["check-in", "case", "questions", "discussion", "round", "feedback", "actions",
                  "response", "preparation", "check-out"]
# A phase that names no purpose gets the one its kind implies.
KIND_PURPOSE: dict[str, str] = {"round": "round", "presentation": "case", "queue": "discussion",
                                "writing": "feedback"}
MAX_PROMPT = 300
ItemKind = Literal["question", "feedback"]
ITEM_KINDS: tuple[ItemKind, ...] = ("question", "feedback")

MAX_TITLE = 120
MAX_NAME = 60
MAX_ITEM_TEXT = 1000
MAX_ACTION_TEXT = 500
MAX_PARTICIPANTS = 200
MAX_ITEMS = 500
MAX_ACTIONS = 500
# Fair shares within a session: what one person may write, and how large the shared view
# (sent to every socket on every change) may grow. Items are anonymous, so their cap per
# person is counted by the shell under a key derived from the writer's token (service.py).
MAX_ACTIONS_PER_PERSON = 20
MAX_ITEMS_PER_PERSON = 20
MAX_VIEW_BYTES = 256 * 1024
# The record of phase visits (for the summary's actual times) keeps the first visit and the
# latest ones: a facilitator jumping between phases all day cannot grow the session's record.
# A breakout group's own record, which nothing shows, keeps fewer.
MAX_PHASE_LOG = 100
MAX_GROUP_PHASE_LOG = 10
MIN_TURN_S = 1.0
MAX_TURN_S = 3600.0
MAX_PHASE_S = 6 * 3600


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """pydantic's ``model_copy``, without its general path: a frozen model with no extra
        fields and no private attributes is its fields and the names of those set. The core
        makes every new state by copying (a turn change copies a dozen models, and the
        views and the stores more), so the copy is most of what a change costs to decide.
        Held to pydantic's own by tests/test_engine_invariants.py."""
        if deep or not update:
            return super().model_copy(update=update, deep=deep)
        copied = type(self).__new__(type(self))
        _set(copied, "__dict__", {**self.__dict__, **update})
        _set(copied, "__pydantic_extra__", None)
        _set(copied, "__pydantic_fields_set__", self.__pydantic_fields_set__ | update.keys())
        _set(copied, "__pydantic_private__", None)
        return copied


_set = object.__setattr__


class Status(str, Enum):
    lobby = "lobby"
    running = "running"
    paused = "paused"
    closed = "closed"


ListenerRole = Literal["presenter"]


class PhaseSpec(Frozen):
    id: str
    title: str
    kind: PhaseKind
    duration_s: int = Field(ge=1, le=MAX_PHASE_S)
    # Roles that may not take the floor in this phase (e.g. the Balint presenter sits back).
    listens_only: tuple[ListenerRole, ...] = ()
    # Roles that answer each question in this phase: after each asker, the floor goes to them
    # (the presenter in Balint's factual questions and an Action Learning Set's questions).
    answers: tuple[ListenerRole, ...] = ()
    # Whether the anonymous 1-5 wellbeing scale is offered in this phase.
    wellbeing: bool = False
    # Whether a recurring group reviews the actions its members carried in (the check-in).
    review_actions: bool = False
    # What the phase is for (see KIND_PURPOSE for the default) and an optional prompt the
    # screen projects and the phones show, e.g. a check-in question.
    purpose: Purpose | None = None
    prompt: str = Field(default="", max_length=MAX_PROMPT)
    # Breakouts: whether each small group runs this phase by itself, and who is given the
    # floor for the phase's whole time when a group enters it (the Troika client explains).
    breakout: bool = False
    speaker: ListenerRole | None = None

    @model_validator(mode="after")
    def _default_purpose(self) -> PhaseSpec:
        if self.purpose is None:
            object.__setattr__(self, "purpose", KIND_PURPOSE[self.kind])
        return self


MAX_STATEMENTS = 8
MAX_STATEMENT = 200
MAX_EVALUATION_NOTE = 300
Statement = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_STATEMENT)]


class FormatSpec(Frozen):
    id: str
    title: str
    summary: str = ""
    phases: tuple[PhaseSpec, ...]
    # The anonymous evaluation answered on the phones during the check-out: statements rated
    # 1 (disagree) to 5 (agree). A recurring group may replace them with its own.
    evaluation: tuple[Statement, ...] = Field(default=(), max_length=MAX_STATEMENTS)
    # How many people the session admits (a one-to-one admits two); None: no limit of its own.
    max_participants: int | None = Field(default=None, ge=2, le=500)
    # How the format's breakout phases run in each small group (None: the format has none).
    breakouts: BreakoutSpec | None = None


class BreakoutSpec(Frozen):
    """A format's breakouts: the group size it suggests, and a role each member takes once
    (``rotate = "presenter"``: the breakout phases run once per member, each the client once)."""

    size: int = Field(default=3, ge=2, le=50)
    rotate: ListenerRole | None = None


FormatSpec.model_rebuild()


class Settings(Frozen):
    """Per-session knobs a facilitator may tune; defaults follow the formats' practice (docs/formats.md).

    The last three are the operator's (AppSettings), copied in when the session is made so
    that every worker batches it alike: the mean time between two folds of the anonymous
    counters, and how long a socket must stay open (closed) before the room sees the
    participant connected (disconnected).
    """

    queue_turn_s: float = Field(default=90.0, ge=MIN_TURN_S, le=MAX_TURN_S)
    reveal_threshold: int = Field(default=3, ge=1, le=50)
    tally_interval_s: float = Field(default=6.0, gt=0, le=60)
    presence_on_s: float = Field(default=15.0, ge=0, le=600)
    presence_off_s: float = Field(default=20.0, ge=0, le=600)
    # The evaluation's spread is shown only once at least this many have answered (since it
    # was last shown), and a group's record suppresses every cell below it.
    evaluation_k: int = Field(default=3, ge=2, le=50)
    # A recurring group's option: rounds and the queue start with the members who were in
    # the quieter half of floor time at their last meeting (``Participant.heard_least``).
    least_heard_first: bool = False
    # The language the facilitator chose for the room: the screen's, unless its own picker is
    # used (a language tag such as "cy"; "" for the viewer's own). Each phone picks its own.
    language: str = Field(default="", max_length=20, pattern=r"^[A-Za-z0-9-]*$")


class Phase(Frozen):
    """The phase in progress. ``ends_at`` is advisory: a phase never ends by itself."""

    index: int
    started_at: float
    ends_at: float
    held: int = 0  # rounds run, or floors given to the presenter, in this phase so far


class Participant(Frozen):
    id: str
    name: str
    token_hash: str
    joined_at: float
    present: bool = True
    removed: bool = False
    connected: bool = False  # what the room sees: follows ``online`` after a debounce
    online: bool = False  # whether a socket of theirs is open now (never shown)
    online_changed_at: float = 0.0
    shown_once: bool = False  # shown connected before: from then on a reconnect waits ``presence_on_s``
    spoken_s: float = 0.0  # floor time settled so far; the live share is added by the view
    hand_raised_at: float | None = None
    hand_lowered: bool = False  # their hand was up when the phase changed, and was lowered with it
    # A private reflection, sealed with a key only the participant's token yields.
    reflection: str | None = None
    # A recurring group's member (opaque id, never shown) and what they carried in.
    member_id: str | None = None
    carried_in: tuple["CarriedAction", ...] = ()
    heard_least: bool = False  # a member in the quieter half of floor time at their last meeting
    # A member's CPD key (public: it seals, never opens) and their reflection sealed to it.
    cpd_key: str | None = None
    cpd_reflection: str | None = None
    # Journal entries the member chose to bring to this meeting's check-in, in their own words.
    brought: tuple[str, ...] = ()
    # A newcomer let in at a locked group session's door: the lookup of the member code they
    # were given at the door, which the group learns only now that they are in (the shell adds
    # them; a knocker turned away never becomes a member). Never in any view.
    joins_group: str | None = None
    # A member let in at the locked door with journal entries to bring: the shell marks those
    # entries used once they are in (turned away, they keep them for another meeting).
    brought_at_door: bool = False
    # Added by the facilitator, in the room without a phone: no token, never online; their turns
    # and floor time count like anyone's.
    phoneless: bool = False


# "answer": the presenter answering a question, in a phase where they answer (``PhaseSpec.answers``).
TurnSource = Literal["round", "queue", "presentation", "answer"]


class Turn(Frozen):
    """Who holds the floor. ``counted_from`` is when the unsettled stretch of speaking began."""

    participant_id: str
    source: TurnSource
    started_at: float
    ends_at: float
    duration_s: float
    counted_from: float


RoundMark = Literal["spoke", "passed", "skipped"]


class Round(Frozen):
    order: tuple[str, ...]
    position: int
    duration_s: float
    marks: tuple[tuple[str, RoundMark], ...] = ()
    reoffered: tuple[str, ...] = ()  # who passed and was offered the turn again at the end

    def mark_of(self, participant_id: str) -> RoundMark | None:
        return dict(self.marks).get(participant_id)


UNDO_PASS_S = 8.0  # how long a pass can be taken back


class PassUndo(Frozen):
    """Enough to take a pass back for a few seconds: the round as it was, and my turn if I
    passed it while speaking. ``at`` is the server's clock, ``clock_at`` session time."""

    participant_id: str
    at: float
    clock_at: float
    round_before: Round
    turn_before: Turn | None = None
    turn_after_started: float | None = None  # the turn the pass started; anything since makes it too late
    rounds_run: int
    phases_entered: int


Stage = Literal[0, 1, 2]  # 0 new, 1 staged at the last fold, 2 shown


class Item(Frozen):
    """An anonymous question or feedback. There is deliberately no author field.

    ``id`` is random, so sorting a batch by id gives an order unrelated to submission.
    ``receipt_hash`` lets the author (who alone holds the receipt) retract it.
    ``voter_hashes`` are keyed with each voter's own secret, to count one vote per person
    without storing anything that says who voted.
    ``stage`` is how far a new item has come towards the pending count the room sees
    (only shown items are revealed); ``votes_staged`` and ``votes_shown`` the same for votes;
    ``retracted`` an item its author withdrew, which leaves the views at a later fold.
    """

    id: str
    kind: ItemKind
    text: str
    receipt_hash: str
    revealed: bool = False
    hidden: bool = False
    voter_hashes: tuple[str, ...] = ()
    stage: Stage = 0
    votes_staged: int = 0
    votes_shown: int = 0
    retracted: Stage = 0  # 0 not retracted; 1 retracted, not yet staged; 2 staged


Counts = tuple[int, int, int, int, int]


class WellbeingTally(Frozen):
    """Answers to the 1-5 scale in one phase: counts per score, and marks of who answered
    (keyed with each one's own secret), kept apart so that no record says who gave which
    score. ``staged``/``shown`` are the counts a fold behind and two folds behind; the room
    sees how many are ``shown``, and the spread only as ``spread``, a snapshot taken when
    the facilitator shows it or the phase ends."""

    phase_id: str
    counts: Counts = (0, 0, 0, 0, 0)
    answered: tuple[str, ...] = ()
    staged: Counts = (0, 0, 0, 0, 0)
    shown: Counts = (0, 0, 0, 0, 0)
    spread: Counts | None = None


class Evaluation(Frozen):
    """Answers to the session's evaluation: one tally per statement (the wellbeing scale's
    kind, keyed ``s0``, ``s1``, … in ``phase_id``), folded and shown as those are. The marks of
    who answered are kept once, apart from every count; the free-text lines (each passed
    by the identifier guard) are kept sorted, so their order says nothing of who wrote
    when, and the room sees them only as snapshotted with the spread (``notes_shown``)."""

    tallies: tuple[WellbeingTally, ...] = ()
    answered: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    notes_staged: tuple[str, ...] = ()  # the notes a fold behind, and two folds behind: as the counts
    notes_folded: tuple[str, ...] = ()
    notes_shown: tuple[str, ...] | None = None


class Action(Frozen):
    id: str
    participant_id: str
    text: str
    due: str | None = None
    carry: bool = False  # its author chose to carry it to the group's next session


# ---------------------------------------------------------------- recurring groups
# What a recurring group carries between sessions, and what a session records for
# its summary. See carry.py, consent.py and summary.py for the rules.

MAX_CARRIED = 20
MAX_PROPOSALS = 50
MAX_PROPOSAL_TEXT = 500
ReviewStatus = Literal["open", "done", "going", "dropped"]
ProposalKind = Literal["theme", "item", "change", "names"]


class CarriedAction(Frozen):
    """An action a member carried in from the group's previous session, and how it went."""

    id: str
    text: str
    due: str | None = None
    status: ReviewStatus = "open"
    carry: bool = False  # carried on again to the next session


class PhaseVisit(Frozen):
    """When a phase was actually entered and left (session clock, pauses included)."""

    phase_id: str
    entered_at: float
    left_at: float | None = None
    dropped_before: int = 0  # visits between the first one and this one that the log no longer keeps


class Proposal(Frozen):
    """A line the facilitator proposes for the summary. Answers are counted apart from
    the salted marks of who answered, so no record says who objected."""

    id: str
    kind: ProposalKind
    text: str
    item_id: str | None = None
    agreed: int = 0
    objected: int = 0
    answered: tuple[str, ...] = ()
    staged: tuple[int, int] = (0, 0)  # (agreed, objected) at the last fold
    shown: tuple[int, int] = (0, 0)  # what the room sees


# ---------------------------------------------------------------- breakouts
# Small groups inside one session (breakouts.py). A group holds its own copy of the fields
# the room's floor and writing live in (``GROUP_FIELDS``); the engine runs the room's own
# handlers on the group's copy, so its rules hold in each group exactly as in the room.

MAX_BREAKOUT_SIZE = 50


class Breakout(Frozen):
    id: str
    number: int
    members: tuple[str, ...]
    step: int = 0  # which of the format's breakout phases, in order
    presented: tuple[str, ...] = ()  # who has taken the rotating role so far (the last one: now)
    done: bool = False
    phase: Phase | None = None
    turn: Turn | None = None
    round: Round | None = None
    presenter_id: str | None = None
    items: tuple[Item, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    rounds_run: int = 0
    last_pass: PassUndo | None = None
    phase_log: tuple[PhaseVisit, ...] = ()


BreakoutMethod = Literal["random", "balanced", "manual"]


class Breakouts(Frozen):
    groups: tuple[Breakout, ...]
    size: int
    method: BreakoutMethod
    started_at: float
    notice_minutes: int | None = None  # "two minutes left", sent to every group
    notice_at: float | None = None


class CoFacilitator(Frozen):
    """A second facilitator the lead invited: their own console link, revocable (cofacilitation.py)."""

    id: str
    name: str
    token_hash: str
    invited_at: float
    by: str = "host"  # the seat that invited them: their seat ends with that one's


class Welcome(Frozen):
    """A recurring group's member as they come in, whether they join through the open door or
    are admitted at the locked one: who they are in the group and what they bring, as the shell
    recognised them by their member code (which is never kept)."""

    member_id: str
    carried: tuple[CarriedAction, ...] = ()
    heard_least: bool = False
    cpd_key: str | None = None
    brought: tuple[str, ...] = ()
    joins_group: str | None = None  # a newcomer at the locked door: see ``Participant.joins_group``
    at_door: bool = False  # knocked at the locked door: what they bring is used up once they are in


class Knock(Frozen):
    """Someone at a locked door asking to be let in: the name they gave and the hash of the
    token that becomes theirs if the facilitator admits them (the token itself is never kept),
    and, for a member of the session's group, how they are welcomed once in."""

    id: str
    name: str
    token_hash: str
    at: float
    welcome: Welcome | None = None


class RotaEntry(Frozen):
    """A recurring group's member in its rota of who facilitates (the member id is never shown)."""

    member_id: str
    name: str


class GroupPlan(Frozen):
    """What a recurring group agreed between meetings, copied in when its session starts:
    its agreement (text, how many agreed, when it last changed), the case or topic it settled
    for this meeting (the presenter's member id only once they consented; a name only when
    the case was offered named), and when the group meets next (epoch seconds, and the
    schedule's time zone for the pages to show it in)."""

    agreement: str | None = None
    agreement_agreed: int = 0
    agreement_revised_at: float | None = None
    plan_id: str | None = None
    plan_kind: Literal["topic", "case"] | None = None
    plan_text: str | None = None
    plan_name: str | None = None
    presenter_member: str | None = None
    next_at: float | None = None
    next_minutes: int | None = None
    tz: str | None = None


class SeatPresence(Frozen):
    """Whether a facilitation seat's console is open (the shell counts its sockets), and since when."""

    seat: str
    online: bool
    changed_at: float


class SessionState(Frozen):
    code: str
    title: str
    format: FormatSpec
    settings: Settings = Settings()
    status: Status = Status.lobby
    version: int = 0
    created_at: float
    closed_at: float | None = None
    salt: str  # secret per session: keys receipts and the fold timer's jitter; never in a view
    facilitator_token_hash: str
    screen_token_hash: str
    phase: Phase | None = None
    paused_at: float | None = None
    turn: Turn | None = None
    round: Round | None = None
    presenter_id: str | None = None
    participants: tuple[Participant, ...] = ()
    items: tuple[Item, ...] = ()
    actions: tuple[Action, ...] = ()
    guest_count: int = 0
    rounds_run: int = 0  # rotates who starts each new round, and its direction
    wellbeing: tuple[WellbeingTally, ...] = ()
    evaluation: Evaluation = Evaluation()
    word_requests: tuple[str, ...] = ()  # participants who would like a word afterwards
    group_id: str | None = None  # the recurring group this session belongs to
    phase_log: tuple[PhaseVisit, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    last_pass: PassUndo | None = None  # the latest pass, undoable for UNDO_PASS_S
    locked: bool = False  # the facilitator has closed the door: joining is refused
    knocks: tuple[Knock, ...] = ()  # who is waiting at the locked door (knocks.py)
    screen_keys: tuple[str, ...] = ()  # hashes of screen links made since (recovery.py); never in a view
    flush_at: float | None = None  # when the anonymous counters and presence fold next (never shown)
    entry_changed: tuple[int, float] = (0, 0.0)  # (version, time) someone's entry last changed
    breakouts: Breakouts | None = None  # small groups running inside the session
    breakouts_held: bool = False  # the groups ran the breakout phases: the room's next phase skips them
    # Co-facilitation (cofacilitation.py): the seats that may run the session, and which one leads.
    # "host" is whoever holds the facilitator token; a co-facilitator's seat is their id; a
    # participant handed the facilitation holds the seat "p-" + their id.
    cofacilitators: tuple[CoFacilitator, ...] = ()
    lead: str = "host"
    peer_id: str | None = None  # the participant the facilitation was handed to, for this session
    peer_by: str = "host"  # the seat that handed it to them (their seat ends with that one's), and when
    peer_at: float | None = None
    # The seat the host handed the lead to, while the host's word stands: until the lead is the host's again.
    lead_granted: str | None = None
    seats_online: tuple[SeatPresence, ...] = ()
    # A recurring group's rota of who facilitates, copied in from the group's options when the
    # session starts; ``rota_now`` is who facilitates this session (-1: nobody on the rota),
    # so the one after them facilitates next time. The group keeps it when the session closes.
    rota: tuple[RotaEntry, ...] = ()
    rota_now: int = -1
    group_plan: GroupPlan | None = None  # the group's agreement, settled case and next date

    def participant(self, participant_id: str) -> Participant | None:
        for p in self.participants:
            if p.id == participant_id:
                return p
        return None


Role = Literal["facilitator", "participant", "screen", "system"]


class Actor(Frozen):
    """Who sent a command. ``system`` is the shell's own clock (deadlines).

    ``key`` is a participant's marking secret, derived by the shell from their token (which
    the store never holds): their vote, wellbeing and consent marks are keyed with it, so
    nobody without the token can recompute whose mark is whose.
    """

    role: Role
    participant_id: str | None = None
    key: str | None = None
    # A facilitator's seat: None for the host (the facilitator token), a co-facilitator's id,
    # or "p-" + a participant's id for the participant handed the facilitation.
    seat: str | None = None


FACILITATOR = Actor(role="facilitator")
SCREEN = Actor(role="screen")
SYSTEM = Actor(role="system")


class Fresh(Frozen):
    """Randomness the shell draws for a command, so the core stays deterministic."""

    id: str
    secret: str
