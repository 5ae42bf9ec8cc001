"""Second chances and what a phase is for, in the pure core: time is passed in, nothing sleeps.

A pass can be taken back for a few seconds while nothing else has moved; a removed person
stays out until the facilitator lets them back in; every phase says what it is for.
"""

from __future__ import annotations

import pytest

from app.facilitation.errors import Conflict, Forbidden, Invalid
from app.facilitation.formats import builtin_formats, parse_format
from app.facilitation.models import FACILITATOR, UNDO_PASS_S, SessionState
from app.facilitation.views import view_for
from tests.support.core import person, send, session


def in_round(seconds: float = 60) -> SessionState:
    state = send(session(), {"type": "start"})
    return send(state, {"type": "start_round", "seconds_per_turn": seconds}, now=1.0)


def test_undoing_a_pass_while_speaking_gives_back_the_floor_and_the_time_left() -> None:
    state = in_round()
    assert state.turn.participant_id == "p0"
    state = send(state, {"type": "pass"}, person(0), now=21.0)  # 40 s were left
    assert state.turn.participant_id == "p1"
    assert view_for(state, person(0), 21.0)["me"]["undo_pass_until"] == 21.0 + UNDO_PASS_S
    assert view_for(state, person(1), 21.0)["me"]["undo_pass_until"] is None  # nobody else learns who passed
    state = send(state, {"type": "undo_pass"}, person(0), now=24.0)
    assert state.turn.participant_id == "p0"
    assert state.turn.ends_at == pytest.approx(64.0)
    assert state.round.position == 0 and state.round.mark_of("p0") is None
    assert state.participant("p1").spoken_s == pytest.approx(3.0)  # the seconds Person 1 held the floor are theirs
    state = send(state, {"type": "yield_turn"}, person(0), now=30.0)
    assert state.turn.participant_id == "p1" and state.round.mark_of("p0") == "spoke"


def test_a_pass_ahead_of_my_turn_can_be_taken_back() -> None:
    state = send(in_round(), {"type": "pass"}, person(2), now=5.0)
    assert state.round.mark_of("p2") == "passed"
    state = send(state, {"type": "undo_pass"}, person(2), now=6.0)
    assert state.round.mark_of("p2") is None and state.turn.participant_id == "p0"


def test_a_pass_cannot_be_undone_late_or_after_the_round_moved_on() -> None:
    passed = send(in_round(), {"type": "pass"}, person(0), now=10.0)
    with pytest.raises(Conflict, match="too late"):
        send(passed, {"type": "undo_pass"}, person(0), now=10.0 + UNDO_PASS_S + 0.1)
    moved = send(passed, {"type": "next_turn"}, now=11.0)
    with pytest.raises(Conflict, match="too late"):
        send(moved, {"type": "undo_pass"}, person(0), now=12.0)
    with pytest.raises(Conflict, match="no pass of yours"):
        send(passed, {"type": "undo_pass"}, person(1), now=11.0)
    again = send(send(passed, {"type": "undo_pass"}, person(0), now=11.0), {"type": "next_turn"}, now=12.0)
    with pytest.raises(Conflict, match="no pass of yours"):  # undone once is undone
        send(again, {"type": "undo_pass"}, person(0), now=12.5)


def test_a_removed_participant_stays_out_until_let_back_in() -> None:
    state = send(send(session(), {"type": "start"}), {"type": "remove_participant", "participant_id": "p1"})
    with pytest.raises(Forbidden):
        send(state, {"type": "raise_hand"}, person(1))
    facilitator = view_for(state, FACILITATOR, 0.0)
    assert facilitator["me"]["removed"] == [{"participant_id": "p1", "name": "Person 1"}]
    assert "removed" not in view_for(state, person(0), 0.0)["me"]
    assert "p1" not in [p["id"] for p in facilitator["participants"]]
    state = send(state, {"type": "readmit_participant", "participant_id": "p1"})
    assert state.participant("p1").present and not state.participant("p1").removed
    state = send(state, {"type": "raise_hand"}, person(1))
    assert view_for(state, FACILITATOR, 0.0)["queue"] == ["p1"]
    with pytest.raises(Forbidden):
        send(state, {"type": "readmit_participant", "participant_id": "p2"}, person(0))


def test_every_shipped_phase_says_what_it_is_for() -> None:
    for spec in builtin_formats().values():
        for phase in spec.phases:
            assert phase.purpose is not None, (spec.id, phase.id)
    balint = builtin_formats()["balint"]
    assert [p.purpose for p in balint.phases] == ["check-in", "case", "questions", "discussion", "response", "check-out"]
    state = send(session(), {"type": "start"})
    phase = view_for(state, FACILITATOR, 0.0)["phase"]
    assert phase["purpose"] == "check-in" and phase["prompt"] == "How are you arriving today?"


CUSTOM = '''id = "peer"
title = "Peer supervision"

[[phases]]
id = "case"
title = "The case"
kind = "presentation"
duration_s = 600

[[phases]]
id = "plans"
title = "What each of us will do"
kind = "writing"
purpose = "actions"
prompt = "One step within three days."
duration_s = 300
'''


def test_a_custom_format_gets_its_purposes_from_its_kinds_or_names_them() -> None:
    spec = parse_format(CUSTOM)
    assert [(p.purpose, p.prompt) for p in spec.phases] == [("case", ""), ("actions", "One step within three days.")]
    with pytest.raises(Invalid, match=r'phases\[1\] \(id "plans"\)\.purpose'):
        parse_format(CUSTOM.replace('purpose = "actions"', 'purpose = "lecture"'))
    with pytest.raises(Invalid, match="prompt"):
        parse_format(CUSTOM.replace("One step within three days.", "x" * 301))
