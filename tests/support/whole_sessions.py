"""Whole sessions of a shipped format, as the pages' tests walk them: every phase from the
lobby to the close, with turns, hands, passes and their undoing, anonymous items and votes,
wellbeing and evaluation answers, actions, a word afterwards, presenters, summary proposals
and consent, breakouts where the format has them (and a split by the facilitator anyway),
a co-facilitator and a participant handed the facilitation, people leaving, pauses and the
fold timer. Each step is tried; what the core refuses at that moment is left out, so the
same walk fits every format.

``viewers(state)`` names everyone who has a page at that step: the host's console, a
co-facilitator's, a peer facilitator's, the screen and every phone, each with a language.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.facilitation import cofacilitation, engine
from app.facilitation.errors import FacilitationError
from app.facilitation.models import FACILITATOR, SCREEN, SYSTEM, Actor, SessionState
from tests.support.core import apply, folded, person, send, session

LANGUAGES = ("en", "cy", "es", "fr", "pl")
SHIPPED = ("check-in-out", "action-learning-set", "balint", "gibbs", "one-to-one", "thinking-environment", "troika")


def viewers(state: SessionState, people: int) -> list[tuple[Actor, str]]:
    """Every page open at this step, each in one of the shipped languages in turn."""
    seats: list[Actor] = [FACILITATOR, SCREEN]
    seats += [Actor(role="facilitator", seat=c.id) for c in state.cofacilitators]
    peer = "p-p0"
    if cofacilitation.is_seat(state, peer):
        seats.append(Actor(role="facilitator", seat=peer))
    seats += [person(i) for i in range(people)
              if (p := state.participant(f"p{i}")) is not None and not p.removed]
    return [(actor, LANGUAGES[(i + state.version) % len(LANGUAGES)]) for i, actor in enumerate(seats)]


def _speaker(state: SessionState) -> Actor | None:
    holder = state.turn.participant_id if state.turn is not None else None
    if holder is None and state.breakouts is not None:
        for group in state.breakouts.groups:
            if group.turn is not None:
                holder = group.turn.participant_id
                break
    return person(holder) if holder else None


def _phase_steps(state: SessionState, people: int) -> list[tuple[dict[str, Any], Actor | None]]:
    """What this walk tries in each phase (``None``: the one holding the floor)."""
    last = people - 1
    items = [i.id for i in state.items]
    proposals = [p.id for p in state.proposals]
    statements = len(state.format.evaluation or ()) or 3
    steps: list[tuple[dict[str, Any], Actor | None]] = [
        ({"type": "set_presenter", "participant_id": "p1"}, FACILITATOR),
        ({"type": "start_round", "seconds_per_turn": 60}, FACILITATOR),
        ({"type": "raise_hand"}, person(2)),
        ({"type": "raise_hand"}, person(3)),
        ({"type": "next_turn"}, FACILITATOR),
        ({"type": "pass"}, person(3)),
        ({"type": "undo_pass"}, person(3)),
        ({"type": "yield_turn"}, None),
        ({"type": "give_turn", "participant_id": "p2"}, FACILITATOR),
        ({"type": "submit_item", "kind": "question", "text": "What went well?"}, person(1)),
        ({"type": "submit_item", "kind": "question", "text": "Who decides?"}, person(2)),
        ({"type": "submit_item", "kind": "feedback", "text": "Good pace"}, person(3)),
        ({"type": "submit_item", "kind": "feedback", "text": "More quiet time"}, person(0)),
        ({"type": "reveal_items", "kind": "question", "force": True}, FACILITATOR),
        ({"type": "reveal_items", "kind": "feedback", "force": True}, FACILITATOR),
        *[({"type": "vote_item", "item_id": item}, person(n % people)) for n, item in enumerate(items[:3])],
        ({"type": "rate_wellbeing", "score": 4}, person(0)),
        ({"type": "rate_wellbeing", "score": 2}, person(1)),
        ({"type": "rate_wellbeing", "score": 5}, person(2)),
        ({"type": "show_wellbeing"}, FACILITATOR),
        *[({"type": "evaluate", "scores": [(n + s) % 5 + 1 for s in range(statements)]}, person(n)) for n in range(3)],
        ({"type": "show_evaluation"}, FACILITATOR),
        ({"type": "add_action", "text": "Book the room"}, person(1)),
        ({"type": "request_word"}, person(2)),
        ({"type": "propose_summary", "kind": "theme", "text": "Workload"}, FACILITATOR),
        *[({"type": "consent", "proposal_id": p, "agree": n % 2 == 0}, person(n)) for n, p in
          enumerate(proposals[:2])],
        ({"type": "pause"}, FACILITATOR),
        ({"type": "resume"}, FACILITATOR),
        ({"type": "next_turn"}, FACILITATOR),
        ({"type": "lower_hand"}, person(2)),
        ({"type": "leave"}, person(last)) if state.version > 40 else ({"type": "extend", "seconds": 30}, FACILITATOR),
    ]
    return steps


def whole_session(format_id: str, people: int = 6, *, split: bool = True) -> Iterator[tuple[SessionState, float]]:
    """Every state of one walk through ``format_id``, and the time each is seen at (each
    state is also seen again a second later: only the clocks move)."""
    people = 2 if format_id == "one-to-one" else people
    state, now = session(format_id, people, group="grp1" if format_id in ("check-in-out", "balint") else None), 0.0
    yield state, now

    def attempt(command: dict[str, Any], actor: Actor | None) -> bool:
        nonlocal state, now
        actor = actor or _speaker(state)
        if actor is None:
            return False
        now += 5.0
        try:
            state = send(state, command, actor, now=now)
        except FacilitationError:
            return False
        state = folded(state, now)
        return True

    for command, actor in ((({"type": "invite_cofacilitator", "name": "Sam"}, FACILITATOR)),
                           ({"type": "start"}, FACILITATOR)):
        if attempt(command, actor):
            yield state, now
    phases = 0
    while state.status != "closed" and phases < 12:
        if split and people > 3 and not state.breakouts_held and attempt(
                {"type": "start_breakouts", "size": 3}, FACILITATOR):
            yield state, now
            assert state.breakouts is not None
            groups = [g.id for g in state.breakouts.groups]
            for command, actor in (({"type": "raise_hand"}, person(1)),
                                   ({"type": "breakout_notice", "minutes": 2}, FACILITATOR),
                                   ({"type": "submit_item", "kind": "feedback", "text": "In a group"}, person(2)),
                                   ({"type": "pass"}, person(3)),
                                   ({"type": "pause"}, FACILITATOR), ({"type": "resume"}, FACILITATOR),
                                   ({"type": "move_to_breakout", "participant_id": "p4", "breakout_id": groups[0]},
                                    FACILITATOR),
                                   ({"type": "next_phase", "breakout_id": groups[-1]}, FACILITATOR),
                                   ({"type": "next_phase", "breakout_id": groups[-1]}, FACILITATOR)):
                if attempt(command, actor):
                    yield state, now
                    yield state, now + 1.0
            while state.breakouts is not None and (due := engine.next_deadline(state)) is not None and due < now + 900:
                now = max(now, due)
                try:
                    state = apply(state, {"type": "expire_turn"}, SYSTEM, now).state
                except FacilitationError:
                    break
                yield state, now
            if attempt({"type": "end_breakouts"}, FACILITATOR):
                yield state, now
        if phases == 2 and attempt({"type": "hand_over", "to": "p0"}, FACILITATOR):
            yield state, now
        if phases == 3 and attempt({"type": "take_back"}, FACILITATOR):
            yield state, now
        for command, actor in _phase_steps(state, people):
            if attempt(command, actor):
                yield state, now
                yield state, now + 1.0
        if state.turn is not None and state.turn.ends_at <= now + 120:  # the turn's clock runs out
            now = max(now, state.turn.ends_at)
            try:
                state = apply(state, {"type": "expire_turn"}, SYSTEM, now).state
                yield state, now
            except FacilitationError:
                pass
        phases += 1
        if not attempt({"type": "next_phase"}, FACILITATOR):
            attempt({"type": "close"}, FACILITATOR)
        yield state, now
    if state.status != "closed" and attempt({"type": "close"}, FACILITATOR):
        yield state, now
