"""The floor: who holds it, who has it next, and what the facilitator might do now.

The one place "who speaks next" is decided, for the room and for every breakout group
alike (a group's focused state is a ``SessionState`` too, see ``breakouts.focus``). The
engine asks it how a round starts and where the floor goes when a turn ends; the views
publish what it says (``next_id``, each person's place in the round, the suggested next
step), so the pages show the same answer the engine will act on.

How the methods run (docs/formats.md, ../shared/FORMATS.md):

- a round goes in joining order the first time, then starts with a different person and
  alternates direction; with the group's ``least_heard_first`` option the members who were
  in the quieter half at their last meeting go first;
- whoever passes is offered the turn once more at the end of the round (a second chance);
- someone who left is never next: the floor goes past them;
- a phase may name who answers (``answers = ["presenter"]``: Balint's factual questions,
  an Action Learning Set's clarifying questions and questions round): after each asker
  the presenter has the floor to answer, and that time counts as theirs;
- a phase may name who listens only (Balint's exploration, Troika's consultants' talk):
  they get no hand, no turn and no place in a round while it lasts.

Pure: no clock of its own (callers pass session time), no randomness.
"""

from __future__ import annotations

from types import EllipsisType
from typing import Any, NamedTuple

from .errors import Conflict
from .models import MAX_TURN_S, MIN_TURN_S, Participant, Round, RoundMark, SessionState, Status, TurnSource


def clock(state: SessionState, now: float) -> float:
    """Session time: while paused, every clock stands at the moment of the pause."""
    return state.paused_at if state.status is Status.paused and state.paused_at is not None else now


def here(state: SessionState, participant_id: str | None) -> bool:
    """Whether this person is still in the room (not left, not removed)."""
    person = state.participant(participant_id) if participant_id else None
    return person is not None and person.present and not person.removed


def listening(state: SessionState, participant_id: str | None) -> bool:
    """Whether this phase's rules keep this person off the floor (listens only)."""
    if state.phase is None or participant_id is None:
        return False
    roles = state.format.phases[state.phase.index].listens_only
    return "presenter" in roles and participant_id == state.presenter_id


def answerer(state: SessionState) -> str | None:
    """Who answers each question in this phase (the presenter, where the phase says so), if present."""
    if state.phase is None or state.presenter_id is None:
        return None
    if "presenter" not in state.format.phases[state.phase.index].answers:
        return None
    return state.presenter_id if here(state, state.presenter_id) else None


def spoken_now(state: SessionState, participant_id: str, now: float) -> float:
    """Floor time including the unsettled stretch of a turn in progress."""
    person = state.participant(participant_id)
    return _spoken(state, participant_id, person.spoken_s if person is not None else 0.0, now)


def spoken_by(state: SessionState, person: Participant, now: float) -> float:
    """``spoken_now`` of a person at hand (each person of the room, for every view): not found again."""
    return _spoken(state, person.id, person.spoken_s, now)


def _spoken(state: SessionState, participant_id: str, settled: float, now: float) -> float:
    turn = state.turn
    if turn is not None and turn.participant_id == participant_id:
        return settled + max(0.0, min(clock(state, now), turn.ends_at) - turn.counted_from)
    return settled


def queue_order(state: SessionState, now: float) -> list[str]:
    """Raised hands: least heard first, then whoever raised a hand first. With the group's
    option ``least_heard_first``, the least heard at their last meeting come before the rest."""
    first = state.settings.least_heard_first
    raised = [p for p in state.participants
              if p.present and not p.removed and p.hand_raised_at is not None and not listening(state, p.id)]
    raised.sort(key=lambda p: (not (first and p.heard_least), round(spoken_by(state, p, now), 1),
                               p.hand_raised_at, p.id))
    return [p.id for p in raised]


# ---------------------------------------------------------------- how a round starts

def rotated(people: list[str], rounds_run: int) -> tuple[str, ...]:
    """Round n starts with person n (mod size), every other round running backwards,
    so nobody, the facilitator taking part included, is always first or always last."""
    n = len(people)
    start, step = rounds_run % n, (1 if rounds_run % 2 == 0 else -1)
    return tuple(people[(start + step * i) % n] for i in range(n))


def round_people(state: SessionState) -> list[str]:
    """Who takes a place in a round now: everyone present who may speak, except whoever
    answers (they have the floor after each asker instead)."""
    answering = answerer(state)
    return [p.id for p in state.participants
            if p.present and not p.removed and not listening(state, p.id) and p.id != answering]


def round_order(state: SessionState) -> tuple[str, ...]:
    """The order of the next round: rotated, the least heard first where the group chose it."""
    people = round_people(state)
    if not people:
        return ()
    order = rotated(people, state.rounds_run)
    if state.settings.least_heard_first:  # the least heard at their last meeting start it, in the same turn
        quiet = {p.id for p in state.participants if p.heard_least}
        order = tuple(sorted(order, key=lambda pid: pid not in quiet))
    return order


def new_round(state: SessionState, now: float, seconds_per_turn: float | None = None, *,
              fit: bool = False) -> Round:
    """A round as it starts: who, in which order, and every turn's time (``seconds_per_turn``,
    or the phase's time left shared equally, answers included). ``fit``: a group running by
    itself takes what time there is rather than refusing."""
    order = round_order(state)
    if not order:
        raise Conflict("nobody can take a turn yet: a round needs at least one participant", "nobody_to_speak")
    turns = len(order) * (2 if answerer(state) is not None else 1)
    if seconds_per_turn is not None:
        duration = float(seconds_per_turn)
    else:
        assert state.phase is not None
        duration = min(MAX_TURN_S, round((state.phase.ends_at - clock(state, now)) / turns, 1))
        if fit:
            duration = max(MIN_TURN_S, duration)
        elif duration < MIN_TURN_S:
            raise Conflict("this phase has no time left to share: give seconds_per_turn or extend the phase",
                           "no_time_to_share")
    return Round(order=order, position=-1, duration_s=duration)


# ---------------------------------------------------------------- where the floor goes next

class Step(NamedTuple):
    """Where the floor goes when the turn in progress ends: to ``participant_id`` (None: the
    round is over) for a turn of ``source``; ``round`` is the round as it stands then (marks,
    second chances, position), ``second_chances`` how many were offered one on the way."""

    participant_id: str | None
    source: TurnSource
    round: Round | None
    second_chances: int = 0


def step(state: SessionState, mark: RoundMark | None) -> Step:
    """The round's next turn, once the turn in progress ends with ``mark`` (spoke, passed,
    skipped; None when the round is just starting). An asker who spoke is followed by
    whoever answers in this phase; people who left are passed over (marked skipped); at
    the end, those who passed are offered the turn once more."""
    rnd = state.round
    assert rnd is not None
    marks = dict(rnd.marks)
    turn = state.turn
    asker = turn.participant_id if turn is not None and turn.source == "round" else None
    if asker is not None and mark is not None:
        marks[asker] = mark
    answering = answerer(state)
    if asker is not None and mark == "spoke" and answering is not None and answering != asker:
        return Step(answering, "answer", rnd.model_copy(update={"marks": tuple(marks.items())}))
    pos, offered = rnd.position + 1, 0
    while True:
        if pos == len(rnd.order):  # the end: offer those who passed one more turn, once
            again = tuple(pid for pid, m in marks.items() if m == "passed" and pid not in rnd.reoffered
                          and here(state, pid))
            if not again:
                break
            for pid in again:
                del marks[pid]
            rnd = rnd.model_copy(update={"order": rnd.order + again, "reoffered": rnd.reoffered + again})
            offered += len(again)
        pid = rnd.order[pos]
        if pid not in marks:
            if here(state, pid):
                return Step(pid, "round", rnd.model_copy(update={"position": pos, "marks": tuple(marks.items())}),
                            offered)
            marks[pid] = "skipped"
        pos += 1
    return Step(None, "round", None, offered)


def next_id(state: SessionState) -> str | None:
    """Who the round's next turn goes to if the turn in progress ends now (None: nobody, the
    round would end). Never someone who left: they are passed over."""
    if state.round is None:
        return None
    holds = state.turn is not None and state.turn.source in ("round", "answer")
    return step(state, "spoke" if holds else None).participant_id


# A person's place in the round, as the pages show it.
Place = str  # speaking, done, passed, skipped, left, next, waiting, second_chance


def places(state: SessionState, upcoming: str | None | EllipsisType = ...) -> list[tuple[str, Place]]:
    """Each entry of the round's order with its place: who speaks, who spoke, passed or was
    skipped, who left, who is next (the one ``next_id`` names: ``upcoming``, where the caller
    has it already, None for nobody), who waits, and who waits for the second chance they were
    offered after passing."""
    rnd = state.round
    if rnd is None:
        return []
    if upcoming is ...:
        upcoming = next_id(state)
    turn = state.turn
    holder = turn.participant_id if turn is not None and turn.source == "round" else None
    next_at = next((i for i, pid in enumerate(rnd.order) if i > rnd.position and pid == upcoming), None)
    marks = dict(rnd.marks)
    seen: set[str] = set()
    out: list[tuple[str, Place]] = []
    for i, pid in enumerate(rnd.order):
        second = pid in seen
        seen.add(pid)
        mark = marks.get(pid)
        if i == rnd.position and pid == holder:
            place = "speaking"
        elif i == next_at:
            place = "next"
        elif pid in rnd.reoffered and not second:
            place = "passed"  # where they passed; a second chance was offered at the end
        elif i <= rnd.position:
            place = {"passed": "passed", "skipped": "skipped"}.get(mark or "", "done")
        elif mark == "passed":
            place = "passed"  # passed ahead of their turn
        elif not here(state, pid):
            place = "left"
        else:
            place = "second_chance" if second else "waiting"
        out.append((pid, place))
    return out


# ---------------------------------------------------------------- what the console suggests

def suggest(state: SessionState, *, overtime: bool = False) -> dict[str, Any]:
    """The facilitator's likely next step at this moment, and the command of the control
    it stands for (None where nothing is to be pressed: people are writing, a hand is
    awaited). ``overtime``: the phase is past its time, so moving on comes first."""
    if state.status is Status.lobby:
        return _step("start", {"type": "start"})
    if state.status is Status.closed or state.phase is None:
        return _step("none", None)
    if state.breakouts is not None:
        if all(g.done for g in state.breakouts.groups):
            return _step("end_breakouts", {"type": "end_breakouts"})
        return _step("groups_running", None)
    spec = state.format.phases[state.phase.index]
    last = state.phase.index == len(state.format.phases) - 1
    move_on = _step("close", {"type": "close"}) if last else _step("next_phase", {"type": "next_phase"})
    if _splits_now(state):
        assert state.format.breakouts is not None
        return _step("start_breakouts", {"type": "start_breakouts", "size": state.format.breakouts.size})
    if state.round is not None:
        return _step("next_turn", {"type": "next_turn"})
    if state.turn is not None:
        return move_on if overtime else _step("floor_held", None)
    if overtime:
        return move_on
    presenter = state.presenter_id if here(state, state.presenter_id) else None
    if spec.kind == "presentation":  # the presenter speaks (an ALS presenter's summary and actions too)
        if presenter is None:
            return _step("choose_presenter", None)
        if state.phase.held:  # the presenter has had the floor in this phase
            return move_on
        return _step("give_presenter_floor", {"type": "set_presenter", "participant_id": presenter})
    if spec.kind == "round":
        if "presenter" in spec.answers and presenter is None and not state.phase.held:
            return _step("choose_presenter", None)
        if state.phase.held:  # the round has run: the phase is done
            return move_on
        return _step("start_round", {"type": "start_round"})
    if spec.kind == "queue":
        waiting = queue_order(state, 0.0)
        if waiting:
            return _step("give_turn", {"type": "give_turn", "participant_id": waiting[0]})
        return _step("wait_for_hands", None)
    if spec.purpose == "actions":
        return _step("actions", None)
    if spec.purpose == "preparation":
        return _step("preparation", None)
    return _step("writing", None)


def _splits_now(state: SessionState) -> bool:
    """Whether the moment is for splitting into groups: a breakout phase the groups have not run,
    or the phase that leads into one (Troika's forming trios), not a round or queue of its own."""
    if state.format.breakouts is None or state.breakouts_held or state.phase is None:
        return False
    phases, index = state.format.phases, state.phase.index
    if phases[index].breakout:
        return True
    return (index + 1 < len(phases) and phases[index + 1].breakout
            and phases[index].kind in ("presentation", "writing"))


def _step(name: str, command: dict[str, Any] | None) -> dict[str, Any]:
    return {"step": name, "command": command}
