"""The session's rules: ``apply(state, command, actor, now, fresh) -> Transition``.

Who may send which command in which status, and which handler applies it, is one table at
the end of this module (``RULES``). The session's own rules are here; the lobby's, carried
actions' and consent's are in ``lobby``, ``carry`` and ``consent``. Invariants kept:

- at most one person holds the floor (``state.turn``), and in each breakout group at most
  one of its members (``breakouts``: the same handlers run on the group's own state);
- ``spoken_s`` only grows, and only while the session runs (a pause freezes every clock);
- every turn of a round has the round's ``duration_s``, fixed when the round starts;
- the room's phase never ends by itself; a turn does, when the shell reports ``expire_turn``,
  and so does a breakout group's phase (a group runs by itself: ``_tick_groups``);
- an item never records its author; votes are marks keyed with the voter's own secret,
  receipts salted hashes;
- anonymous counters and presence change for the room only at the fold timer's ticks
  (``tallies``): an anonymous act changes the true tallies quietly, without a version;
- a refused command raises a ``FacilitationError`` and changes nothing;
- no change grows the session's content (what its views would show, pending items
  included) past ``MAX_VIEW_BYTES``, and one person writes at most
  ``MAX_ACTIONS_PER_PERSON`` actions: a flood from one phone cannot make every frame of
  the room huge. A locked session takes no new participants.

Who holds the floor and who has it next is decided in ``floor``, for the room and every
breakout group: how a round starts (rotation, least heard first), where the floor goes
when a turn ends (the next person, never one who left; a second chance for those who
passed; the presenter's answer after each question where the phase has them answer), and
who listens only. The handlers here act on what it decides. Text that looks like
it identifies someone (see ``guard``) is refused unless the writer confirms it.

The shell supplies ``now`` (its clock) and ``fresh`` (random ids), so this module is
deterministic. A transition that changed nothing returns the state unchanged, with
no events and the same version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from . import commands as c
from . import breakouts, carry, cofacilitation, evaluation, floor, guard, knocks, opening, recovery, tallies
from .carry import carry_action, review_action
from .consent import consent, propose_summary, withdraw_proposal
from .lobby import set_phases
from .errors import Conflict, FacilitationError, Forbidden, Invalid, NotFound
from .formats import is_one_to_one, shown_bytes, shown_size
from .transition import Event, Handler, Result, Transition, salted_hash
from .models import (
    MAX_ACTIONS,
    MAX_ACTIONS_PER_PERSON,
    MAX_GROUP_PHASE_LOG,
    MAX_ITEMS_PER_PERSON,
    MAX_ITEMS,
    MAX_PHASE_LOG,
    MAX_TURN_S,
    MAX_VIEW_BYTES,
    MIN_TURN_S,
    UNDO_PASS_S,
    Action,
    Actor,
    Breakout,
    FormatSpec,
    Fresh,
    Item,
    Participant,
    PassUndo,
    Phase,
    PhaseVisit,
    Round,
    RoundMark,
    SessionState,
    Settings,
    Status,
    Turn,
    TurnSource,
    Welcome,
    WellbeingTally,
)

L, R, P, X = Status.lobby, Status.running, Status.paused, Status.closed
LIVE = frozenset({R, P})
ANY = frozenset({L, R, P, X})


def new_session(
    *, code: str, title: str, format: FormatSpec, now: float, salt: str,
    facilitator_token_hash: str, screen_token_hash: str, settings: Settings | None = None,
) -> SessionState:
    return SessionState(
        code=code, title=title, format=format, settings=settings or Settings(), created_at=now,
        salt=salt, facilitator_token_hash=facilitator_token_hash, screen_token_hash=screen_token_hash,
    )


def apply(state: SessionState, command: c.Command, actor: Actor, now: float, fresh: Fresh) -> Transition:
    """Decide and apply one command; bump the version when anything changed."""
    rule = permit(state, command, actor)
    group = breakouts.target(state, command, actor, rule.scope)
    if group is None:
        new, events, reply = rule.handler(state, command, actor, now, fresh)
    else:  # the room's own rules, inside the group
        new, events, reply = _in_group(state, group, command, actor, now, fresh, rule)
    if not events:
        return Transition(state=state)
    new = cofacilitation.settled(new)  # a seat whose grant ended takes every seat it granted with it
    _within_ceiling(state, new)
    if all(e.type in tallies.QUIET for e in events):  # the true tallies only: nothing the room may see yet
        return Transition(state=new, events=tuple(events), reply=reply)
    return Transition(state=_versioned(state, new, now), events=tuple(events), reply=reply)


def permit(state: SessionState, command: c.Command, actor: Actor) -> Rule:
    """Check the command against its row of ``RULES`` (role, status, seat, presence); the row.
    The one gate: ``apply`` passes every command through it, and the shell asks it before
    what it does itself (``erase``)."""
    rule = RULES[type(command)]
    if actor.role not in rule.roles:
        raise Forbidden(f"a {actor.role} may not send {command.type}", "role_may_not_send", command=command.type, role=actor.role)
    if state.status not in rule.when:
        raise Conflict(f"cannot {command.type} while the session is {state.status.value}", "wrong_status",
                       command=command.type, status=state.status.value)
    cofacilitation.check(state, actor, rule.seats, command.type)
    if actor.role == "participant":
        me = state.participant(actor.participant_id or "")
        if me is None or me.removed:
            raise Forbidden("you are no longer in this session", "no_longer_in_session")
        if rule.present and not me.present:
            raise Conflict("you have left this session", "left_session")
    return rule


def _versioned(old: SessionState, new: SessionState, now: float) -> SessionState:
    """The next version; it records when someone's entry changed (the fold keeps clear of it)."""
    new = new.model_copy(update={"version": old.version + 1})
    if tallies.entries(new) != tallies.entries(old):
        new = new.model_copy(update={"entry_changed": (new.version, now)})
    return new


# Participants joining and connecting are not commands a client sends over the socket
# but they change what everybody sees, so they go through the same versioning.

def join(state: SessionState, *, participant_id: str, name: str, token_hash: str, now: float,
         welcome: Welcome | None = None) -> Transition:
    """Someone comes in through the open door; ``welcome``: as a member of the session's group."""
    knocks.check_door(state)
    events: list[Event] = []
    joined = _let_in(state, participant_id, name, token_hash, now, events, welcome)
    return Transition(state=_versioned(state, joined, now), events=tuple(events))


def knock(state: SessionState, *, knock_id: str, name: str, token_hash: str, now: float,
          welcome: Welcome | None = None) -> Transition:
    """Someone at the locked door leaves their name for the facilitators (``knocks``); a
    member of the session's group leaves their welcome with it, for when they are let in."""
    waiting = knocks.knock(state, knock_id=knock_id, name=name, token_hash=token_hash, now=now, welcome=welcome)
    return Transition(state=_versioned(state, waiting, now), events=(Event(type="knocked"),))


def _admit(state, cmd: c.AdmitKnock, actor, now, fresh) -> Result:
    """Let someone waiting at the door in: they join as anyone joins (a member as a member),
    the door's lock aside."""
    person, state = knocks.take(state, cmd.knock_id)
    knocks.check_door(state, admitting=True)
    events: list[Event] = []
    state = _let_in(state, person.id, person.name, person.token_hash, now, events, person.welcome)
    return state, events, {"participant_id": person.id}


def _let_in(state: SessionState, participant_id: str, name: str, token_hash: str, now: float,
            events: list[Event], welcome: Welcome | None = None) -> SessionState:
    """A new participant, through an open door or admitted at a locked one: the one way in, so
    a group's member is recognised (what they carried, their CPD key, what they bring to the
    check-in, the presenter's place) however they came in."""
    before = state
    guests = state.guest_count
    if not name:
        guests += 1
        name = f"Guest {guests}"
    person = Participant(id=participant_id, name=name, token_hash=token_hash, joined_at=now)
    state = _admitted(state.model_copy(update={"guest_count": guests}), person, now)
    _within_ceiling(before, state)
    if welcome is not None:
        state = carry.welcome(state, participant_id, welcome.member_id, welcome.carried, welcome.heard_least,
                              welcome.cpd_key, welcome.joins_group, welcome.at_door and bool(welcome.brought))
        state = opening.arrive(state, participant_id, welcome.member_id, welcome.brought)
    events.append(Event(type="participant_joined", data={"participant_id": participant_id}))
    return state


PHASE_VISIT_BYTES = 100  # a visit's times and keys in the stored record, besides its phase id


def _admitted(state: SessionState, person: Participant, now: float) -> SessionState:
    """``person`` in the room: a late joiner speaks last in a running round, and joins the
    smallest group while breakouts run."""
    state = state.model_copy(update={"participants": state.participants + (person,)})
    if state.round is not None:
        state = _with_round(state, order=state.round.order + (person.id,))
    if state.breakouts is not None:
        state = _join_group(state, breakouts.smallest(state), person.id, now)
    return state


def _add_without_phone(state, cmd: c.AddWithoutPhone, actor, now, fresh) -> Result:
    """Someone in the room without a phone, added by name: in the round's order and the
    queue like anyone, with no token (nothing can sign in as them) and never online."""
    knocks.check_door(state, admitting=True)  # the facilitator adds them: only a full room stops it
    person = Participant(id=fresh.id, name=cmd.name, token_hash="", joined_at=now, phoneless=True)
    before, state = state, _admitted(state, person, now)
    _within_ceiling(before, state)
    return state, [Event(type="participant_joined", data={"participant_id": person.id})], {"participant_id": person.id}


def _raise_hand_for(state, cmd: c.RaiseHandFor, actor, now, fresh) -> Result:
    person = _present(state, cmd.participant_id)
    if not person.phoneless:
        raise Conflict(f"{person.name} has a phone: they raise their own hand", "has_a_phone", name=person.name)
    return _raise_hand(state, cmd, Actor(role="participant", participant_id=person.id, key=""), now, fresh)


def content_bytes(state: SessionState) -> int:
    """About how many bytes the session's written content takes in a view: every name,
    item (pending ones too: a reveal shows them all at once), action, proposal and carried
    action and evaluation note, at its size as shown (``formats.shown_size``: a page writes
    ``&`` as five bytes), with its share of the view's keys; and what the session
    holds whoever writes: its format's texts as shown, and its record of phase visits at
    the largest it may grow (so that moving between phases is never refused for room).
    Cheap enough to check on every change."""
    size = shown_size(state.title) + shown_bytes(state.format)
    size += MAX_PHASE_LOG * (max(len(p.id.encode()) for p in state.format.phases) + PHASE_VISIT_BYTES)
    size += sum(shown_size(p.name) + 160 + sum(shown_size(a.text) + 80 for a in p.carried_in)
                for p in state.participants)
    size += sum(shown_size(i.text) + 60 for i in state.items if not i.hidden)
    size += sum(shown_size(a.text) + 100 for a in state.actions)
    size += sum(shown_size(p.text) + 100 for p in state.proposals)
    size += sum(shown_size(n) + 10 for n in state.evaluation.notes)
    return size + breakouts.content(state)


def _within_ceiling(before: SessionState, after: SessionState) -> None:
    if _same_content(before, after):
        return  # nothing written changed (a turn, a hand, a clock): the content cannot have grown
    grown = content_bytes(after)
    if grown > MAX_VIEW_BYTES and grown > content_bytes(before):
        raise Conflict(f"this session holds as much writing as it can show ({MAX_VIEW_BYTES // 1024} KB): "
                       "remove or shorten something first", "content_ceiling", kb=MAX_VIEW_BYTES // 1024)


def _same_content(before: SessionState, after: SessionState) -> bool:
    """Whether every text ``content_bytes`` counts is the same object in both states (a change
    keeps what it does not touch), so that a turn change, a raised hand or a tick of the clock
    is not charged a walk over every text of the session."""
    if not (after.title is before.title and after.format is before.format and after.items is before.items
            and after.actions is before.actions and after.proposals is before.proposals
            and after.evaluation.notes is before.evaluation.notes and after.breakouts is before.breakouts):
        return False
    if after.participants is before.participants:
        return True
    return len(after.participants) == len(before.participants) and all(
        a.name is b.name and a.carried_in is b.carried_in for a, b in zip(after.participants, before.participants))


def set_seat_online(state: SessionState, seat: str, online: bool, now: float) -> Transition:
    """The shell saw a facilitation seat's first console open or last one close. Unlike a
    participant's presence this is no anonymous signal: the other consoles see it at once
    (a session with one facilitator keeps it quietly, as before)."""
    noted = cofacilitation.note_seat(state, seat, online, now)
    if noted is None:
        return Transition(state=state)
    if len(cofacilitation.seats(noted)) < 2:  # nobody else's console to tell: kept quietly
        return Transition(state=noted, events=(Event(type="presence_noted"),))
    return Transition(state=_versioned(state, noted, now), events=(Event(type="console_noted"),))


def set_connected(state: SessionState, participant_id: str, connected: bool, now: float) -> Transition:
    """The shell saw a participant's first socket open or last one close.

    Quiet: the room sees ``connected`` change only at a later fold, once it has lasted
    (see ``tallies``), so a phone that wakes to send does not announce itself.
    """
    noted = tallies.note_online(state, participant_id, connected, now)
    if noted is None:
        return Transition(state=state)
    return Transition(state=noted, events=(Event(type="presence_noted"),))


def next_deadline(state: SessionState) -> float | None:
    """When the shell must call back: the turn's end (``expire_turn``) or the next fold
    (``flush_tallies``), whichever is first; None when neither is due."""
    due = [state.flush_at] if state.flush_at is not None else []
    if state.status is R and state.turn is not None:
        due.append(state.turn.ends_at)
    if state.status is R:  # every group's turn and phase: the earliest among them
        due.extend(breakouts.deadlines(state))
    return min(due) if due else None


def turn_due(state: SessionState, now: float) -> bool:
    """Whether ``expire_turn`` has work: the room's turn is over, or a group's turn or phase."""
    if state.status is not R:
        return False
    return (state.turn is not None and now >= state.turn.ends_at) or any(
        now >= t for t in breakouts.deadlines(state))


def flush_due(state: SessionState, now: float) -> bool:
    return state.flush_at is not None and now >= state.flush_at


def spoken_now(state: SessionState, participant: Participant, now: float) -> float:
    """Floor time including the unsettled stretch of a turn in progress."""
    return floor.spoken_by(state, participant, now)


# Who may take the floor, and in which order hands are called: decided in ``floor``.
listening = floor.listening
queue_order = floor.queue_order


def vote_mark(state: SessionState, item_id: str, actor: Actor) -> str:
    return tallies.mark(actor, "vote", state.code, item_id)


# ---------------------------------------------------------------- helpers

_clock = floor.clock


def _with_participant(state: SessionState, person: Participant) -> SessionState:
    return state.model_copy(update={
        "participants": tuple(person if p.id == person.id else p for p in state.participants)})


def _with_round(state: SessionState, **changes: Any) -> SessionState:
    assert state.round is not None
    return state.model_copy(update={"round": state.round.model_copy(update=changes)})


def _present(state: SessionState, participant_id: str) -> Participant:
    person = state.participant(participant_id)
    if person is None or person.removed:
        raise NotFound(f"no participant {participant_id!r} in this session", "no_such_participant")
    if not person.present:
        raise Conflict(f"{person.name} has left the session", "participant_left", name=person.name)
    return person


def _settle(state: SessionState, now: float) -> SessionState:
    """Move the speaker's unsettled floor time into ``spoken_s``."""
    turn = state.turn
    if turn is None:
        return state
    clock = min(_clock(state, now), turn.ends_at)
    person = state.participant(turn.participant_id)
    if person is not None and clock > turn.counted_from:
        gained = round(clock - turn.counted_from, 3)
        state = _with_participant(state, person.model_copy(update={"spoken_s": round(person.spoken_s + gained, 3)}))
    return state.model_copy(update={"turn": turn.model_copy(update={"counted_from": max(clock, turn.counted_from)})})


def _end_turn(state: SessionState, now: float, events: list[Event]) -> SessionState:
    if state.turn is None:
        return state
    state = _settle(state, now)
    events.append(Event(type="turn_ended", data={"participant_id": state.turn.participant_id}))
    return state.model_copy(update={"turn": None})


def _start_turn(state: SessionState, participant_id: str, source: TurnSource, duration: float,
                now: float, events: list[Event]) -> SessionState:
    clock = _clock(state, now)
    person = state.participant(participant_id)
    assert person is not None
    state = _with_participant(state, person.model_copy(update={"hand_raised_at": None}))
    turn = Turn(participant_id=participant_id, source=source, started_at=clock, ends_at=clock + duration,
                duration_s=duration, counted_from=clock)
    events.append(Event(type="turn_started", data={"participant_id": participant_id, "source": source}))
    return state.model_copy(update={"turn": turn})


def _advance_round(state: SessionState, now: float, mark: RoundMark | None, events: list[Event]) -> SessionState:
    """End the current round turn (marking its speaker) and give the floor where ``floor.step`` says."""
    assert state.round is not None
    nxt = floor.step(state, mark)
    if state.turn is not None and state.turn.source in ("round", "answer"):
        state = _end_turn(state, now, events)
    if nxt.second_chances:
        events.append(Event(type="passes_reoffered", data={"count": nxt.second_chances}))
    if nxt.participant_id is None or nxt.round is None:
        events.append(Event(type="round_finished"))
        return state.model_copy(update={"round": None})
    state = state.model_copy(update={"round": nxt.round})
    return _start_turn(state, nxt.participant_id, nxt.source, nxt.round.duration_s, now, events)


def _turn_over(state: SessionState, now: float, mark: RoundMark, events: list[Event]) -> SessionState:
    """The turn in progress is over (its time ran out, its holder yielded, the facilitator
    moved on, its holder left): the round moves on, an asker's question is followed by the
    answer where the phase has someone answer, and otherwise the floor is free."""
    turn = state.turn
    if turn is None:
        return state
    if state.round is not None and turn.source in ("round", "answer"):
        return _advance_round(state, now, mark, events)
    answering = floor.answerer(state)
    state = _end_turn(state, now, events)
    if turn.source == "queue" and mark == "spoke" and answering is not None and answering != turn.participant_id:
        return _start_turn(state, answering, "answer", state.settings.queue_turn_s, now, events)
    return state


def _forfeit(state: SessionState, participant_id: str, now: float, events: list[Event]) -> SessionState:
    """Someone who leaves or is removed loses the floor (and their place in a round)."""
    if state.presenter_id == participant_id:
        state = state.model_copy(update={"presenter_id": None})
    if state.turn is None or state.turn.participant_id != participant_id:
        return state
    return _turn_over(state, now, "skipped", events)


def _enter_phase(state: SessionState, index: int, now: float, events: list[Event],
                 keep: int = MAX_PHASE_LOG) -> SessionState:
    state = _end_turn(state, now, events)
    if state.round is not None:
        events.append(Event(type="round_cancelled"))
    clock = _clock(state, now)
    spec = state.format.phases[index]
    phase = Phase(index=index, started_at=clock, ends_at=clock + spec.duration_s)
    events.append(Event(type="phase_entered", data={"phase_id": spec.id}))
    log = _logged(_left_phase(state.phase_log, now), PhaseVisit(phase_id=spec.id, entered_at=now), keep)
    state = _spread_at_phase_end(state, events)
    # A raised hand belongs to the phase it was raised in: it is lowered with it, and its phone told.
    people = tuple(p.model_copy(update={"hand_raised_at": None, "hand_lowered": p.hand_raised_at is not None})
                   for p in state.participants)
    return state.model_copy(update={"phase": phase, "round": None, "phase_log": log, "participants": people})


def _spread_at_phase_end(state: SessionState, events: list[Event]) -> SessionState:
    """Leaving a wellbeing phase shows its spread as counted, once (later answers wait); leaving
    the check-out shows the evaluation's the same way."""
    if state.phase is None:
        return state
    state = evaluation.at_phase_end(state, events)
    shown = tallies.snapshot_spread(state, state.format.phases[state.phase.index].id)
    if shown is None:
        return state
    events.append(Event(type="wellbeing_shown"))
    return shown


def _left_phase(log: tuple[PhaseVisit, ...], now: float) -> tuple[PhaseVisit, ...]:
    """Close the open visit in the summary's record of actual phase times."""
    if log and log[-1].left_at is None:
        return log[:-1] + (log[-1].model_copy(update={"left_at": now}),)
    return log


def _logged(log: tuple[PhaseVisit, ...], visit: PhaseVisit, keep: int) -> tuple[PhaseVisit, ...]:
    """The log with ``visit`` added, keeping the first visit (when the session began) and the
    latest ones; the first kept after a gap counts the visits dropped there."""
    log += (visit,)
    if len(log) <= keep:
        return log
    gone, after = log[1], log[2]
    return (log[0], after.model_copy(update={"dropped_before": gone.dropped_before + 1 + after.dropped_before}),
            *log[3:])


def phases_entered(log: tuple[PhaseVisit, ...]) -> int:
    """How many phases were entered, those the log no longer keeps included."""
    return len(log) + sum(v.dropped_before for v in log)


def _no_round(state: SessionState, what: str, command: str) -> None:
    if state.round is not None:
        raise Conflict(f"a round is running: finish it (next_turn) before you {what}", "round_running", command=command)


# ---------------------------------------------------------------- facilitator

def _start(state, cmd, actor, now, fresh) -> Result:
    events: list[Event] = [Event(type="session_started")]
    state = state.model_copy(update={"status": R})
    return _enter_phase(state, 0, now, events), events, {}


def _next_phase(state, cmd, actor, now, fresh) -> Result:
    assert state.phase is not None
    index = state.phase.index + 1
    while state.breakouts_held and index < len(state.format.phases) and state.format.phases[index].breakout:
        index += 1  # the groups have run these already
    if index >= len(state.format.phases):
        raise Conflict("this is the last phase: close the session when you are done", "last_phase")
    events: list[Event] = []
    return _enter_phase(state, index, now, events), events, {}


def _goto_phase(state, cmd: c.GotoPhase, actor, now, fresh) -> Result:
    ids = [p.id for p in state.format.phases]
    if cmd.phase_id not in ids:
        raise Invalid(f"no phase {cmd.phase_id!r} in this format; phases: {', '.join(ids)}", "no_such_phase")
    events: list[Event] = []
    return _enter_phase(state, ids.index(cmd.phase_id), now, events), events, {}


def _start_round(state, cmd: c.StartRound, actor, now, fresh) -> Result:
    _no_round(state, "start another", "start_round")
    rnd = floor.new_round(state, now, cmd.seconds_per_turn)
    events: list[Event] = []
    state = _end_turn(state, now, events)
    return _begin_round(state, rnd, now, events), events, {}


def _begin_round(state: SessionState, rnd: Round, now: float, events: list[Event]) -> SessionState:
    assert state.phase is not None
    phase = state.phase.model_copy(update={"held": state.phase.held + 1})
    state = state.model_copy(update={"round": rnd, "rounds_run": state.rounds_run + 1, "phase": phase})
    events.append(Event(type="round_started", data={"duration_s": rnd.duration_s, "turns": len(rnd.order)}))
    return _advance_round(state, now, None, events)


def _next_turn(state, cmd, actor, now, fresh) -> Result:
    if state.round is None:
        raise Conflict("no round is running: start_round first, or give_turn from the queue", "no_round")
    events: list[Event] = []
    return _turn_over(state, now, "spoke", events), events, {}


def _give_turn(state, cmd: c.GiveTurn, actor, now, fresh) -> Result:
    _no_round(state, "give the floor to someone else", "give_turn")
    person = _present(state, cmd.participant_id)
    if listening(state, person.id):
        raise Conflict(f"{person.name} listens only in this phase and cannot take the floor", "listens_only",
                       name=person.name)
    events: list[Event] = []
    state = _end_turn(state, now, events)
    source: TurnSource = "answer" if person.id == floor.answerer(state) else "queue"  # the presenter answers
    return _start_turn(state, cmd.participant_id, source, state.settings.queue_turn_s, now, events), events, {}


def _set_presenter(state, cmd: c.SetPresenter, actor, now, fresh) -> Result:
    _no_round(state, "set a presenter", "set_presenter")
    _present(state, cmd.participant_id)
    assert state.phase is not None
    spec = state.format.phases[state.phase.index]
    if "presenter" in spec.listens_only:
        raise Conflict("the presenter listens only in this phase: set the presenter in a phase where they speak",
                       "listens_only")
    if spec.kind != "presentation" and "presenter" in spec.answers:  # who answers: the askers ask first
        if state.presenter_id == cmd.participant_id:
            return state, [], {}
        return (state.model_copy(update={"presenter_id": cmd.participant_id}),
                [Event(type="presenter_set", data={"participant_id": cmd.participant_id})], {})
    remaining = min(MAX_TURN_S * 6, state.phase.ends_at - _clock(state, now))
    if remaining < MIN_TURN_S:
        raise Conflict("this phase has no time left: move to the next phase or give the turn", "no_time_left")
    events: list[Event] = [Event(type="presenter_set", data={"participant_id": cmd.participant_id})]
    held = state.phase.model_copy(update={"held": state.phase.held + 1})
    state = _end_turn(state, now, events).model_copy(update={"presenter_id": cmd.participant_id, "phase": held})
    return _start_turn(state, cmd.participant_id, "presentation", round(remaining, 3), now, events), events, {}


def _propose_summary(state, cmd: c.ProposeSummary, actor, now, fresh) -> Result:
    if is_one_to_one(state.format):  # two people's answers could never be anonymous
        raise Conflict("a session of two agrees its record by talking, not by an anonymous ballot: "
                       "write what you agreed as an action", "one_to_one_no_ballot")
    return propose_summary(state, cmd, actor, now, fresh)


def _pause(state, cmd, actor, now, fresh) -> Result:
    state = _settle(state, now)
    return state.model_copy(update={"status": P, "paused_at": now}), [Event(type="paused")], {}


def _resume(state, cmd, actor, now, fresh) -> Result:
    delta = max(0.0, now - (state.paused_at or now))
    room = breakouts.shifted(state, delta)
    update: dict[str, Any] = {"status": R, "paused_at": None, "turn": room.turn, "phase": room.phase}
    if state.breakouts is not None:  # every group's clocks stood still too
        groups = tuple(breakouts.shifted(g, delta) for g in state.breakouts.groups)
        update["breakouts"] = state.breakouts.model_copy(update={"groups": groups})
    return state.model_copy(update=update), [Event(type="resumed", data={"paused_s": round(delta, 1)})], {}


def _extend(state, cmd: c.Extend, actor, now, fresh) -> Result:
    if state.turn is None:
        raise Conflict("nobody holds the floor: there is no turn to extend", "no_turn")
    turn = state.turn.model_copy(update={"ends_at": state.turn.ends_at + cmd.seconds})
    return state.model_copy(update={"turn": turn}), [Event(type="turn_extended", data={"seconds": cmd.seconds})], {}


def _reveal_items(state, cmd: c.RevealItems, actor, now, fresh) -> Result:
    # What the room sees as pending is what is revealed; a later item waits for the next reveal.
    batch = [i for i in state.items if i.kind == cmd.kind and not i.revealed and not i.hidden
             and i.stage == 2 and not i.retracted]
    if not batch:
        raise Conflict(f"no {cmd.kind} is waiting to be revealed", "nothing_to_reveal", kind=cmd.kind)
    threshold = state.settings.reveal_threshold
    if len(batch) < threshold and not cmd.force:
        raise Conflict(
            f"only {len(batch)} {cmd.kind}(s) waiting; with fewer than {threshold} people may be "
            "identified by what they wrote. Send force to reveal anyway.",
            "below_threshold", kind=cmd.kind, count=len(batch), threshold=threshold)
    # Random ids make this order unrelated to the order of submission.
    shown = tuple(sorted((i.model_copy(update={"revealed": True}) for i in batch), key=lambda i: i.id))
    ids = {i.id for i in batch}
    # Withdrawn ones still counted as pending go now, with the reveal, rather than at a fold of their own.
    kept = tuple(i for i in state.items if i.id not in ids
                 and not (i.kind == cmd.kind and i.retracted and not i.revealed))
    state = state.model_copy(update={"items": kept + shown})
    return state, [Event(type="items_revealed", data={"kind": cmd.kind, "count": len(shown)})], {}


def _find_item(state: SessionState, item_id: str) -> Item:
    for item in state.items:
        if item.id == item_id and not item.hidden and not item.retracted:
            return item
    raise NotFound(f"no item {item_id!r}", "no_such_item")


def _hide_item(state, cmd: c.HideItem, actor, now, fresh) -> Result:
    item = _find_item(state, cmd.item_id)
    items = tuple(i.model_copy(update={"hidden": True}) if i.id == item.id else i for i in state.items)
    return state.model_copy(update={"items": items}), [Event(type="item_hidden")], {}


def _remove_participant(state, cmd: c.RemoveParticipant, actor, now, fresh) -> Result:
    person = state.participant(cmd.participant_id)
    if person is None or person.removed:
        raise NotFound(f"no participant {cmd.participant_id!r} in this session", "no_such_participant")
    events: list[Event] = [Event(type="participant_removed", data={"participant_id": person.id})]
    state = _forfeit(state, person.id, now, events)
    person = state.participant(person.id)
    assert person is not None
    state = _with_participant(state, person.model_copy(
        update={"present": False, "removed": True, "hand_raised_at": None, "connected": False, "online": False}))
    return state, events, {}


def _close(state, cmd, actor, now, fresh) -> Result:
    events: list[Event] = []
    state = _back_to_room(state, now, events, fresh.secret)
    state = _spread_at_phase_end(_end_turn(state, now, events), events)
    people = tuple(p.model_copy(update={"hand_raised_at": None}) for p in state.participants)
    events.append(Event(type="session_closed"))
    return state.model_copy(update={"status": X, "closed_at": now, "round": None, "paused_at": None,
                                    "participants": people, "knocks": (), "phase_log": _left_phase(state.phase_log, now)}), events, {}


# ---------------------------------------------------------------- participant

def _leave(state, cmd, actor, now, fresh) -> Result:
    events: list[Event] = [Event(type="participant_left", data={"participant_id": actor.participant_id})]
    state = _forfeit(state, actor.participant_id, now, events)
    me = state.participant(actor.participant_id)
    assert me is not None
    return _with_participant(state, me.model_copy(update={"present": False, "hand_raised_at": None})), events, {}


def _raise_hand(state, cmd, actor, now, fresh) -> Result:
    me = state.participant(actor.participant_id)
    assert me is not None
    me = me.model_copy(update={"hand_lowered": False})
    if state.turn is not None and state.turn.participant_id == me.id:
        raise Conflict("you have the floor already", "holds_floor")
    if listening(state, me.id):
        raise Conflict("You are listening now: in this phase the presenter does not take the floor", "listens_only")
    if is_one_to_one(state.format):
        raise Conflict("a session of two has no raised hands: the format says whose turn it is", "one_to_one_no_hands")
    if me.hand_raised_at is not None:
        return state, [], {}
    state = _with_participant(state, me.model_copy(update={"hand_raised_at": now}))
    return state, [Event(type="hand_raised")], {}


def _lower_hand(state, cmd, actor, now, fresh) -> Result:
    me = state.participant(actor.participant_id)
    assert me is not None
    if me.hand_raised_at is None:
        return state, [], {}
    return _with_participant(state, me.model_copy(update={"hand_raised_at": None})), [Event(type="hand_lowered")], {}


def _pass(state, cmd, actor, now, fresh) -> Result:
    rnd, me = state.round, actor.participant_id
    if rnd is None or me not in rnd.order:
        raise Conflict("there is no round with a turn of yours to pass", "no_turn_to_pass")
    events: list[Event] = [Event(type="turn_passed")]
    mine = state.turn if state.turn is not None and state.turn.participant_id == me and state.turn.source == "round" else None
    if mine is None and (rnd.mark_of(me) is not None or rnd.order.index(me) < rnd.position):
        raise Conflict("your turn in this round has already gone", "turn_gone")
    undo = PassUndo(participant_id=me, at=now, clock_at=_clock(state, now), round_before=rnd, turn_before=mine,
                    rounds_run=state.rounds_run, phases_entered=phases_entered(state.phase_log))
    if mine is not None:
        state = _advance_round(state, now, "passed", events)
    else:
        state = _with_round(state, marks=rnd.marks + ((me, "passed"),))
    after = state.turn.started_at if state.turn is not None else None
    return state.model_copy(update={"last_pass": undo.model_copy(update={"turn_after_started": after})}), events, {}


def _yield_turn(state, cmd, actor, now, fresh) -> Result:
    if state.turn is None or state.turn.participant_id != actor.participant_id:
        raise Conflict("you do not hold the floor", "not_holding_floor")
    events: list[Event] = []
    return _turn_over(state, now, "spoke", events), events, {}


def _submit_item(state, cmd: c.SubmitItem, actor, now, fresh) -> Result:
    if not breakouts.anonymous_writing(state, breakouts.group_of(state, actor.participant_id)):
        raise Conflict("between two people there is no anonymous writing: the other person would know who wrote it; "
                       "say it, or add it as an agreed action", "no_anonymous_writing")
    if sum(1 for i in state.items if not i.hidden) >= MAX_ITEMS:
        raise Conflict(f"this session holds its maximum of {MAX_ITEMS} items", "session_item_cap", limit=MAX_ITEMS)
    guard.require_confirmed(cmd.text, cmd.confirmed)
    item = Item(id=fresh.id, kind=cmd.kind, text=cmd.text, receipt_hash=salted_hash(state.salt, "receipt", fresh.secret))
    state = tallies.scheduled(state.model_copy(update={"items": state.items + (item,)}), now)
    # The receipt goes only to the author, in the ack; the state keeps its hash. The pending
    # count the room sees takes the item in at a later fold.
    return state, [Event(type="item_submitted", data={"kind": cmd.kind})], {"item_id": item.id, "receipt": fresh.secret}


def _retract_item(state, cmd: c.RetractItem, actor, now, fresh) -> Result:
    wanted = salted_hash(state.salt, "receipt", cmd.receipt)
    item = next((i for i in state.items if i.receipt_hash == wanted and not i.retracted), None)
    if item is None:
        raise NotFound("no item matches that receipt", "no_such_item")
    if item.stage < 2 and not item.revealed:  # nobody has seen it counted yet: it just goes
        items = tuple(i for i in state.items if i.id != item.id)
    else:  # it leaves the views at a later fold, not the moment its author withdraws it
        items = tuple(i.model_copy(update={"retracted": 1}) if i.id == item.id else i for i in state.items)
    state = tallies.scheduled(state.model_copy(update={"items": items}), now)
    return state, [Event(type="item_retracted")], {}


def _vote_item(state, cmd: c.VoteItem, actor, now, fresh) -> Result:
    item = _find_item(state, cmd.item_id)
    if not item.revealed:
        raise NotFound(f"no item {cmd.item_id!r}", "no_such_item")
    mark = vote_mark(state, item.id, actor)
    if mark in item.voter_hashes:
        raise Conflict("you have voted for this item already", "already_voted")
    voted = item.model_copy(update={"voter_hashes": tuple(sorted(item.voter_hashes + (mark,)))})
    items = tuple(voted if i.id == item.id else i for i in state.items)
    return tallies.scheduled(state.model_copy(update={"items": items}), now), [Event(type="item_voted")], {}


def _own_action(state: SessionState, action_id: str, actor: Actor) -> Action:
    for action in state.actions:
        if action.id == action_id:
            if action.participant_id != actor.participant_id:
                raise Forbidden("only its author may change an action", "not_your_action")
            return action
    raise NotFound(f"no action {action_id!r}", "no_such_action")


def _add_action(state, cmd: c.AddAction, actor, now, fresh) -> Result:
    if len(state.actions) >= MAX_ACTIONS:
        raise Conflict(f"this session holds its maximum of {MAX_ACTIONS} actions", "session_action_cap", limit=MAX_ACTIONS)
    cap = RULES[c.AddAction].per_person
    if cap is not None and sum(1 for a in state.actions if a.participant_id == actor.participant_id) >= cap:
        raise Conflict(f"you have written the most actions one person may ({cap})", "person_cap", limit=cap)
    guard.require_confirmed(cmd.text, cmd.confirmed)
    action = Action(id=fresh.id, participant_id=actor.participant_id, text=cmd.text,
                    due=cmd.due.isoformat() if cmd.due else None)
    state = state.model_copy(update={"actions": state.actions + (action,)})
    return state, [Event(type="action_added")], {"action_id": action.id}


def _edit_action(state, cmd: c.EditAction, actor, now, fresh) -> Result:
    action = _own_action(state, cmd.action_id, actor)
    changes: dict[str, Any] = {}
    if cmd.text is not None:
        guard.require_confirmed(cmd.text, cmd.confirmed)
        changes["text"] = cmd.text
    if "due" in cmd.model_fields_set:
        changes["due"] = cmd.due.isoformat() if cmd.due else None
    if not changes:
        raise Invalid("edit_action needs text or due", "nothing_to_change")
    edited = action.model_copy(update=changes)
    actions = tuple(edited if a.id == action.id else a for a in state.actions)
    return state.model_copy(update={"actions": actions}), [Event(type="action_edited")], {}


def _remove_action(state, cmd: c.RemoveAction, actor, now, fresh) -> Result:
    action = _own_action(state, cmd.action_id, actor)
    actions = tuple(a for a in state.actions if a.id != action.id)
    return state.model_copy(update={"actions": actions}), [Event(type="action_removed")], {}


def _rate_wellbeing(state, cmd: c.RateWellbeing, actor, now, fresh) -> Result:
    assert state.phase is not None
    spec = state.format.phases[state.phase.index]
    if not spec.wellbeing:
        raise Conflict("the wellbeing scale is offered at check-in and check-out", "no_wellbeing_here")
    mark = wellbeing_mark(state, spec.id, actor)
    by_phase = {t.phase_id: t for t in state.wellbeing}
    tally = by_phase.get(spec.id, WellbeingTally(phase_id=spec.id))
    if mark in tally.answered:
        raise Conflict("you have answered the wellbeing scale in this phase already", "already_answered")
    counts = list(tally.counts)
    counts[cmd.score - 1] += 1
    # Marks are kept sorted, so their order says nothing about who answered when.
    by_phase[spec.id] = tally.model_copy(update={"counts": tuple(counts),
                                                 "answered": tuple(sorted(tally.answered + (mark,)))})
    state = tallies.scheduled(state.model_copy(update={"wellbeing": tuple(by_phase.values())}), now)
    return state, [Event(type="wellbeing_rated")], {}


def wellbeing_mark(state: SessionState, phase_id: str, actor: Actor) -> str:
    return tallies.mark(actor, "wellbeing", state.code, phase_id)


def _show_wellbeing(state, cmd: c.ShowWellbeing, actor, now, fresh) -> Result:
    """The facilitator shows the room the spread of the answers counted so far, once; answers
    that come later join the next showing (or the one at the phase's end)."""
    assert state.phase is not None
    phase_id = cmd.phase_id or state.format.phases[state.phase.index].id
    if not any(p.id == phase_id and p.wellbeing for p in state.format.phases):
        raise NotFound(f"no wellbeing scale in phase {phase_id!r}", "no_wellbeing_here")
    tally = next((t for t in state.wellbeing if t.phase_id == phase_id), WellbeingTally(phase_id=phase_id))
    threshold = state.settings.reveal_threshold
    if tallies.unshown(tally) < threshold:
        since = " since it was last shown" if tally.spread is not None else " so far"
        raise Conflict(f"{tallies.unshown(tally)} answered{since}; with fewer than {threshold} "
                       "new answers the spread could tell who chose what", "below_threshold",
                       count=tallies.unshown(tally), threshold=threshold)
    shown = tallies.snapshot_spread(state, phase_id)
    assert shown is not None
    return shown, [Event(type="wellbeing_shown")], {}


def _request_word(state, cmd, actor, now, fresh) -> Result:
    if actor.participant_id in state.word_requests:
        return state, [], {}
    requests = state.word_requests + (actor.participant_id,)
    return state.model_copy(update={"word_requests": requests}), [Event(type="word_requested")], {}


def _withdraw_word(state, cmd, actor, now, fresh) -> Result:
    if actor.participant_id not in state.word_requests:
        return state, [], {}
    requests = tuple(p for p in state.word_requests if p != actor.participant_id)
    return state.model_copy(update={"word_requests": requests}), [Event(type="word_withdrawn")], {}


def store_reflection(state: SessionState, participant_id: str, sealed: str | None,
                     for_cpd: str | None = None) -> Transition:
    """Keep a participant's sealed reflection (the shell seals it with their token; a member's
    copy for their CPD record, ``for_cpd``, to their CPD key)."""
    person = state.participant(participant_id)
    if person is None or person.removed:
        raise Forbidden("you are no longer in this session", "no_longer_in_session")
    if person.reflection == sealed:
        return Transition(state=state)
    state = _with_participant(state, person.model_copy(update={"reflection": sealed, "cpd_reflection": for_cpd}))
    return Transition(state=state.model_copy(update={"version": state.version + 1}),
                      events=(Event(type="reflection_saved"),))


# ---------------------------------------------------------------- the door

def _lock_room(state, cmd, actor, now, fresh) -> Result:
    if state.locked:
        return state, [], {}
    return state.model_copy(update={"locked": True}), [Event(type="room_locked")], {}


def _unlock_room(state, cmd, actor, now, fresh) -> Result:
    if not state.locked:
        return state, [], {}
    return state.model_copy(update={"locked": False}), [Event(type="room_unlocked")], {}


# ---------------------------------------------------------------- system

def _flush_tallies(state, cmd, actor, now, fresh) -> Result:
    """The fold timer fired. Applying it twice, or early, changes nothing."""
    folded, event = tallies.flush(breakouts.combined(state), now)  # every group folds at the room's ticks
    state = breakouts.split_back(state, folded)
    state, taken = cofacilitation.take_over(state, now)  # an absent lead's console: another seat carries on
    return state, ([Event(type=event)] if event else []) + taken, {}


def _expire_turn(state, cmd, actor, now, fresh) -> Result:
    """The shell's timer fired. Applying it twice, or early, changes nothing. Every group
    whose turn or phase is over moves on too."""
    events: list[Event] = []
    state = _tick_groups(state, now, events)
    if state.turn is None or now < state.turn.ends_at:
        return state, events, {}
    events.append(Event(type="turn_expired", data={"participant_id": state.turn.participant_id}))
    return _turn_over(state, now, "spoke", events), events, {}


# ---------------------------------------------------------------- second chances
# A pass is undone only within ``UNDO_PASS_S`` of passing and only while nothing else has
# moved the floor since (no other turn, round or phase): the round goes back to how it was,
# and whoever passed while speaking gets the floor back with the time they had left. The
# few seconds the next speaker held the floor count as theirs. A removed participant stays
# out, however often their phone tries, until the facilitator lets them back in; then the
# same person (name, actions, token) is present again.

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
        raise Conflict("there is no pass of yours to undo", "no_pass_to_undo")
    moved = (state.rounds_run != last.rounds_run or phases_entered(state.phase_log) != last.phases_entered
             or (state.turn.started_at if state.turn is not None else None) != last.turn_after_started)
    if now > until or moved:
        raise Conflict("too late to undo the pass: the round has moved on", "too_late")
    events: list[Event] = [Event(type="pass_undone")]
    clear = {"last_pass": None}
    if last.turn_before is None:  # passed ahead of my turn: my place comes back
        rnd = state.round
        if rnd is None or rnd.mark_of(last.participant_id) != "passed":
            raise Conflict("too late to undo the pass: the round has moved on", "too_late")
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
        raise NotFound(f"no removed participant {cmd.participant_id!r} in this session", "no_such_participant")
    state = _with_participant(state, person.model_copy(update={"removed": False, "present": True}))
    if state.breakouts is not None and breakouts.group_of(state, person.id) is None:
        state = _join_group(state, breakouts.smallest(state), person.id, now)  # back in, into a group
    return state, [Event(type="participant_readmitted", data={"participant_id": person.id})], {}


def removed_people(state: SessionState) -> list[dict[str, str]]:
    """For the facilitator's eyes: who was removed, so they can let someone back in."""
    return [{"participant_id": p.id, "name": p.name} for p in state.participants if p.removed]


# ---------------------------------------------------------------- breakouts
# Small groups inside the session (``breakouts``). A command that addresses a group runs the
# room's own handler on the group's focused state; the group then runs itself: the speaker a
# phase names gets the floor for the phase's time, a queue gives the floor to the least
# heard raised hand, and when a phase's time is up the group moves on, rotation by
# rotation, until every member has had the rotating role and the group is done.

def _in_group(state: SessionState, group: Breakout, command: c.Command, actor: Actor, now: float, fresh: Fresh,
              rule: Rule) -> Result:
    focused = breakouts.focus(state, group)
    if rule.in_group is not None:  # the row's own handler for a group (next_phase: the group's next step)
        focused, group, events, reply = rule.in_group(focused, group, now)
    else:
        focused, events, reply = rule.handler(focused, command, actor, now, fresh)
    if not events:
        return state, [], {}
    focused = _autorun(focused, group, now, events)
    return breakouts.unfocus(state, group, focused), events, reply


def _join_group(state: SessionState, group: Breakout, participant_id: str, now: float) -> SessionState:
    group = group.model_copy(update={"members": group.members + (participant_id,)})
    if group.round is not None:  # a late joiner speaks last in the group's running round
        group = group.model_copy(update={"round": group.round.model_copy(update={"order": group.round.order + (participant_id,)})})
    return breakouts.with_group(state, group)


def _group_enter(st: SessionState, group: Breakout, step: int, now: float, events: list[Event]) -> tuple[SessionState, Breakout]:
    """Enter the group's ``step``-th breakout phase; give the floor to whom the phase names."""
    index = breakouts.breakout_phases(st.format)[step]
    st = _enter_phase(st, index, now, events, keep=MAX_GROUP_PHASE_LOG)
    group = group.model_copy(update={"step": step})
    spec = st.format.phases[index]
    assert st.phase is not None
    remaining = round(st.phase.ends_at - _clock(st, now), 3)
    who = st.participant(st.presenter_id) if st.presenter_id else None
    if spec.speaker == "presenter" and who is not None and who.present:
        st = _start_turn(st, who.id, "presentation", remaining, now, events)
    elif spec.kind == "round" and floor.round_people(st):
        st = _begin_round(st, floor.new_round(st, now, fit=True), now, events)
    return st, group


def _group_next_phase(st: SessionState, group: Breakout, now: float) -> GroupResult:
    """``next_phase`` addressed to a group: the group's next step (or rotation), not the room's next phase."""
    events: list[Event] = []
    st, group = _group_advance(st, group, now, events)
    return st, group, events, {}


def _group_rotate(st: SessionState, group: Breakout, now: float, events: list[Event]) -> tuple[SessionState, Breakout]:
    """The group's next rotation: the next member takes the rotating role; none left, it is done."""
    who = breakouts.next_presenter(st, group)
    if who is None:
        return _group_finish(st, group, now, events)
    group = group.model_copy(update={"presented": group.presented + (who,)})
    events.append(Event(type="rotation_started", data={"breakout_id": group.id, "presenter_id": who}))
    return _group_enter(st.model_copy(update={"presenter_id": who}), group, 0, now, events)


def _group_advance(st: SessionState, group: Breakout, now: float, events: list[Event]) -> tuple[SessionState, Breakout]:
    if group.done:
        raise Conflict(f"group {group.number} is done: it waits for the room", "group_done", group=group.number)
    if group.step + 1 < len(breakouts.breakout_phases(st.format)):
        return _group_enter(st, group, group.step + 1, now, events)
    if breakouts.rotating(st.format):
        return _group_rotate(st, group, now, events)
    return _group_finish(st, group, now, events)


def _group_finish(st: SessionState, group: Breakout, now: float, events: list[Event]) -> tuple[SessionState, Breakout]:
    st = _end_turn(st, now, events)
    people = tuple(p.model_copy(update={"hand_raised_at": None}) for p in st.participants)
    st = st.model_copy(update={"phase": None, "round": None, "presenter_id": None, "participants": people,
                               "phase_log": _left_phase(st.phase_log, now)})
    events.append(Event(type="breakout_finished", data={"breakout_id": group.id}))
    return st, group.model_copy(update={"done": True})


def _autorun(st: SessionState, group: Breakout, now: float, events: list[Event]) -> SessionState:
    """A group runs by itself: in a queue phase a free floor goes to the first raised hand
    (least heard first), for an equal turn that ends with the phase at the latest."""
    if group.done or st.phase is None or st.turn is not None or st.status is not R:
        return st
    if st.format.phases[st.phase.index].kind != "queue":
        return st
    waiting = queue_order(st, now)
    duration = round(min(st.settings.queue_turn_s, st.phase.ends_at - _clock(st, now)), 3)
    if not waiting or duration < MIN_TURN_S:
        return st
    return _start_turn(st, waiting[0], "queue", duration, now, events)


def _tick_groups(state: SessionState, now: float, events: list[Event]) -> SessionState:
    """The clock moves every group whose turn or phase is over."""
    if state.breakouts is None:
        return state
    for group in state.breakouts.groups:
        if group.done:
            continue
        st = breakouts.focus(state, group)
        moved = False
        if st.turn is not None and now >= st.turn.ends_at:
            events.append(Event(type="turn_expired", data={"participant_id": st.turn.participant_id}))
            st = _turn_over(st, now, "spoke", events)
            moved = True
        if st.phase is not None and now >= st.phase.ends_at:
            st, group = _group_advance(st, group, now, events)
            moved = True
        if moved:
            st = _autorun(st, group, now, events)
            state = breakouts.unfocus(state, group, st)
    return state


def _start_breakouts(state, cmd: c.StartBreakouts, actor, now, fresh) -> Result:
    if state.breakouts is not None:
        raise Conflict("breakouts are running already: end_breakouts first", "breakouts_running")
    if not breakouts.breakout_phases(state.format):
        raise Conflict(f"the format {state.format.title!r} marks no phases for breakouts", "no_breakout_phases")
    people = [p for p in state.participants if p.present and not p.removed]
    if len(people) < 2:
        raise Conflict("breakouts need at least two present participants", "too_few_people")
    if cmd.method == "manual":
        if cmd.groups is None:
            raise Invalid("groups: splitting by hand needs the groups (lists of participant ids)", "invalid_field",
                          field="groups")
        groups = breakouts.by_hand(people, cmd.groups)
    else:
        if cmd.groups is not None:
            raise Invalid("groups: only the manual method takes groups", "invalid_field", field="groups")
        groups = breakouts.split(people, cmd.size, cmd.method, fresh.secret or fresh.id,
                                 avoid_pairs=breakouts.writes_in_groups(state.format))
    events: list[Event] = [Event(type="breakouts_started", data={"groups": len(groups)})]
    state = _end_turn(state, now, events)
    if state.round is not None:
        events.append(Event(type="round_cancelled"))
    lowered = tuple(p.model_copy(update={"hand_raised_at": None}) for p in state.participants)
    state = state.model_copy(update={"round": None, "participants": lowered, "breakouts_held": True,
                                     "breakouts": breakouts.new_breakouts(groups, cmd.size, cmd.method, now)})
    assert state.breakouts is not None
    for group in state.breakouts.groups:
        st = breakouts.focus(state, group)
        if breakouts.rotating(st.format):
            st, group = _group_rotate(st, group, now, events)
        else:
            st, group = _group_enter(st, group, 0, now, events)
        state = breakouts.unfocus(state, group, _autorun(st, group, now, events))
    sizes = [len(g.members) for g in state.breakouts.groups]
    return state, events, {"breakout_ids": [g.id for g in state.breakouts.groups], "sizes": sizes}


def _move_to_breakout(state, cmd: c.MoveToBreakout, actor, now, fresh) -> Result:
    dest = breakouts.find(state, cmd.breakout_id)
    person = _present(state, cmd.participant_id)
    src = breakouts.group_of(state, person.id)
    if src is not None and src.id == dest.id:
        return state, [], {}
    events: list[Event] = [Event(type="moved_to_breakout", data={"participant_id": person.id, "breakout_id": dest.id})]
    if src is not None:
        present = {p.id for p in state.participants if p.present and not p.removed}
        if sum(1 for m in src.members if m in present and m != person.id) < 2:
            raise Conflict(f"moving {person.name} would leave group {src.number} with one person", "group_of_one",
                           name=person.name, group=src.number)
        st = _forfeit(breakouts.focus(state, src), person.id, now, events)
        me = st.participant(person.id)
        assert me is not None
        st = _with_participant(st, me.model_copy(update={"hand_raised_at": None}))
        src = src.model_copy(update={"members": tuple(m for m in src.members if m != person.id)})
        state = breakouts.unfocus(state, src, _autorun(st, src, now, events))
    state = _join_group(state, breakouts.find(state, dest.id), person.id, now)
    return state, events, {}


def _breakout_notice(state, cmd: c.BreakoutNotice, actor, now, fresh) -> Result:
    if state.breakouts is None:
        raise Conflict("breakouts are not running", "no_breakouts")
    notice = state.breakouts.model_copy(update={"notice_minutes": cmd.minutes, "notice_at": now})
    return state.model_copy(update={"breakouts": notice}), [Event(type="breakout_notice", data={"minutes": cmd.minutes})], {}


def _end_breakouts(state, cmd, actor, now, fresh) -> Result:
    if state.breakouts is None:
        raise Conflict("breakouts are not running", "no_breakouts")
    events: list[Event] = []
    state = _back_to_room(state, now, events, fresh.secret)
    marked = breakouts.breakout_phases(state.format)
    after = marked[-1] + 1 if marked else None
    if after is not None and after < len(state.format.phases) and state.phase is not None and state.phase.index < after:
        state = _enter_phase(state, after, now, events)  # the room goes on where the groups left off
    return state, events, {}


def _back_to_room(state: SessionState, now: float, events: list[Event], secret: str) -> SessionState:
    """Everyone back in the room: each group's floor settles; what a group agreed to bring back
    comes with it, each under a new id (``secret``: this command's randomness)."""
    if state.breakouts is None:
        return state
    brought: list[Item] = []
    for group in state.breakouts.groups:
        st = _end_turn(breakouts.focus(state, group), now, events)
        people = tuple(p.model_copy(update={"hand_raised_at": None}) for p in st.participants)
        state = breakouts.unfocus(state, group, st.model_copy(update={"participants": people, "round": None}))
        brought += breakouts.agreed_items(state, breakouts.find(state, group.id))
    events.append(Event(type="breakouts_ended", data={"items_brought_back": len(brought)}))
    return state.model_copy(update={"breakouts": None, "items": state.items + breakouts.brought_back(brought, secret)})


GroupResult = tuple[SessionState, Breakout, list[Event], dict[str, Any]]
GroupHandler = Callable[[SessionState, Breakout, float], GroupResult]


class Rule(NamedTuple):
    roles: frozenset[str]
    when: frozenset[Status]
    handler: Handler
    # Which facilitation seat may send it (cofacilitation.py): any seat, the lead only, the host
    # only, or ``host_grant``: the host leading, or the lead the host handed it to.
    seats: str = "any"
    # Where it applies while breakouts run (breakouts.Scope): the room, the sender's own group,
    # a group the facilitator names, ... (breakouts.target reads this column).
    scope: breakouts.Scope = "room"
    # Whether a participant who has left may still send it (no: the rule of every row so far).
    present: bool = True
    # How many of these one person may have at once, or None. Items are anonymous, so the
    # shell counts a person's under a key derived from their token; actions the core counts.
    per_person: int | None = None
    # What applies it in a breakout group instead of ``handler`` on the group's state, if anything.
    in_group: GroupHandler | None = None


def _erase(state, cmd, actor, now, fresh) -> Result:
    """The shell erases the session once ``permit`` allows it; as a transition it changes nothing."""
    return state, [], {}


F, PT, SYS = frozenset({"facilitator"}), frozenset({"participant"}), frozenset({"system"})

# Who may send each command, in which statuses, and what applies it: the one table. A role
# or status not listed is refused (Forbidden, Conflict) before the handler runs.
RULES: dict[type[c.Command], Rule] = {
    # the facilitator runs the session
    c.Start: Rule(F, frozenset({L}), _start),
    c.SetPhases: Rule(F, frozenset({L}), set_phases),
    c.NextPhase: Rule(F, LIVE, _next_phase, scope="floor", in_group=_group_next_phase),
    c.GotoPhase: Rule(F, LIVE, _goto_phase, scope="room_floor"),
    c.StartRound: Rule(F, LIVE, _start_round, scope="floor"),
    c.NextTurn: Rule(F, LIVE, _next_turn, scope="floor"),
    c.GiveTurn: Rule(F, LIVE, _give_turn, scope="floor"),
    c.SetPresenter: Rule(F, LIVE, _set_presenter, scope="floor"),
    c.Extend: Rule(F, LIVE, _extend, scope="floor"),
    c.Pause: Rule(F, frozenset({R}), _pause),
    c.Resume: Rule(F, frozenset({P}), _resume),
    c.RevealItems: Rule(F, LIVE, _reveal_items, scope="group"),
    c.HideItem: Rule(F, LIVE, _hide_item, scope="group"),
    c.ShowWellbeing: Rule(F, LIVE, _show_wellbeing),
    c.ShowEvaluation: Rule(F, LIVE, evaluation.show_evaluation),
    c.ProposeSummary: Rule(F, LIVE, _propose_summary, scope="group"),
    c.WithdrawProposal: Rule(F, LIVE, withdraw_proposal, scope="group"),
    c.RemoveParticipant: Rule(F, frozenset({L, R, P}), _remove_participant, scope="their_group"),
    c.ReadmitParticipant: Rule(F, frozenset({L, R, P}), _readmit),
    c.LockRoom: Rule(F, frozenset({L, R, P}), _lock_room),
    c.UnlockRoom: Rule(F, frozenset({L, R, P}), _unlock_room),
    c.AdmitKnock: Rule(F, frozenset({L, R, P}), _admit),
    c.DeclineKnock: Rule(F, frozenset({L, R, P}), knocks.decline),
    c.ReissueKey: Rule(F, frozenset({L, R, P, X}), recovery.reissue_key, seats="host"),
    c.ScreenLink: Rule(F, frozenset({L, R, P, X}), recovery.screen_link),
    c.Close: Rule(F, frozenset({L, R, P}), _close, seats="host_grant"),
    # the lead alone invites, revokes and hands over; the host alone takes the lead and a participant's facilitation back
    c.InviteCofacilitator: Rule(F, frozenset({L, R, P}), cofacilitation.invite, seats="lead"),
    c.RevokeCofacilitator: Rule(F, frozenset({L, R, P}), cofacilitation.revoke, seats="lead"),
    c.HandOver: Rule(F, frozenset({L, R, P}), cofacilitation.hand_over, seats="lead"),
    c.TakeBack: Rule(F, frozenset({L, R, P}), cofacilitation.take_back, seats="host"),
    c.SetRota: Rule(F, frozenset({L, R, P}), cofacilitation.set_rota, seats="lead"),
    # the lead alone ends and erases the session now, in any status (the shell deletes it)
    c.Erase: Rule(F, ANY, _erase, seats="host"),
    # each participant takes part
    c.Leave: Rule(PT, frozenset({L, R, P}), _leave, scope="own_group"),
    c.RaiseHand: Rule(PT, LIVE, _raise_hand, scope="own_floor"),
    c.LowerHand: Rule(PT, LIVE, _lower_hand, scope="own_group"),
    c.Pass: Rule(PT, LIVE, _pass, scope="own_floor"),
    c.UndoPass: Rule(PT, LIVE, _undo_pass, scope="own_floor"),
    c.YieldTurn: Rule(PT, LIVE, _yield_turn, scope="own_floor"),
    c.SubmitItem: Rule(PT, LIVE, _submit_item, scope="own_group", per_person=MAX_ITEMS_PER_PERSON),
    c.RetractItem: Rule(PT, LIVE, _retract_item, scope="own_group"),
    c.VoteItem: Rule(PT, LIVE, _vote_item, scope="own_group"),
    c.AddAction: Rule(PT, LIVE, _add_action, per_person=MAX_ACTIONS_PER_PERSON),
    c.EditAction: Rule(PT, LIVE, _edit_action),
    c.RemoveAction: Rule(PT, LIVE, _remove_action),
    c.CarryAction: Rule(PT, LIVE, carry_action),
    c.ReviewAction: Rule(PT, LIVE, review_action),
    c.RateWellbeing: Rule(PT, LIVE, _rate_wellbeing),
    c.Evaluate: Rule(PT, LIVE, evaluation.evaluate),
    c.Consent: Rule(PT, LIVE, consent, scope="own_group"),
    c.RequestWord: Rule(PT, ANY, _request_word),
    c.WithdrawWord: Rule(PT, ANY, _withdraw_word),
    # someone without a phone: added and their hand raised by the facilitator; their paper typed in
    c.AddWithoutPhone: Rule(F, frozenset({L, R, P}), _add_without_phone),
    c.RaiseHandFor: Rule(F, LIVE, _raise_hand_for),
    c.SubmitPaperItem: Rule(F, LIVE, _submit_item),
    # breakouts: small groups inside the session (a group's commands carry its breakout_id)
    c.StartBreakouts: Rule(F, LIVE, _start_breakouts),
    c.MoveToBreakout: Rule(F, LIVE, _move_to_breakout, scope="names_group"),
    c.BreakoutNotice: Rule(F, LIVE, _breakout_notice),
    c.EndBreakouts: Rule(F, LIVE, _end_breakouts),
    # the shell's clock
    c.ExpireTurn: Rule(SYS, frozenset({R}), _expire_turn),
    # counts still folding in after the close, presence in the lobby
    c.FlushTallies: Rule(SYS, ANY, _flush_tallies),
}

__all__ = ["apply", "permit", "join", "knock", "content_bytes", "set_connected", "new_session", "next_deadline", "spoken_now", "queue_order",
           "Transition", "Event", "FacilitationError", "RULES"]
