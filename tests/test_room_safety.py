"""The room's safety rules, as the core enforces them."""

from __future__ import annotations

import pytest

from app.facilitation.errors import Conflict, PossibleIdentifier
from app.facilitation.models import FACILITATOR, SCREEN, SessionState
from app.facilitation.views import view_for
from tests.support.core import folded, person, send, session, speaker


def balint_discussion_with_presenter(presenter: int = 1) -> SessionState:
    state = send(session("balint", 4), {"type": "start"})
    state = send(state, {"type": "goto_phase", "phase_id": "presentation"}, now=1)
    state = send(state, {"type": "set_presenter", "participant_id": f"p{presenter}"}, now=1)
    return send(state, {"type": "goto_phase", "phase_id": "discussion"}, now=2)


def test_listening_presenter_cannot_raise_a_hand() -> None:
    state = balint_discussion_with_presenter()
    with pytest.raises(Conflict, match="You are listening now"):
        send(state, {"type": "raise_hand"}, person(1), now=3)
    assert view_for(state, person(1), 3)["me"]["listening"] is True
    assert view_for(state, person(2), 3)["me"]["listening"] is False


def test_listening_presenter_cannot_be_given_the_floor() -> None:
    state = balint_discussion_with_presenter()
    with pytest.raises(Conflict, match="listens only"):
        send(state, {"type": "give_turn", "participant_id": "p1"}, now=3)
    assert state.turn is None


def test_listening_presenter_has_no_place_in_a_round_or_the_queue() -> None:
    state = send(session("balint", 4), {"type": "start"})
    state = send(state, {"type": "goto_phase", "phase_id": "presentation"}, now=1)
    state = send(state, {"type": "set_presenter", "participant_id": "p1"}, now=1)
    state = send(state, {"type": "raise_hand"}, person(3), now=1.5)
    state = send(state, {"type": "goto_phase", "phase_id": "discussion"}, now=2)
    state = send(state, {"type": "start_round", "seconds_per_turn": 30}, now=3)
    assert "p1" not in state.round.order
    assert len(state.round.order) == 3


def test_presenter_speaks_again_when_their_phase_returns() -> None:
    state = balint_discussion_with_presenter()
    state = send(state, {"type": "goto_phase", "phase_id": "presenter-returns"}, now=5)
    state = send(state, {"type": "raise_hand"}, person(1), now=6)
    assert view_for(state, FACILITATOR, 6)["queue"] == ["p1"]


def test_a_pass_is_offered_again_at_the_end_of_the_round_once() -> None:
    state = send(session("check-in-out", 3), {"type": "start"})
    state = send(state, {"type": "start_round", "seconds_per_turn": 60}, now=1)
    assert speaker(state) == "p0"
    state = send(state, {"type": "pass"}, person(0), now=2)
    assert speaker(state) == "p1"
    state = send(state, {"type": "next_turn"}, now=3)
    state = send(state, {"type": "next_turn"}, now=4)
    assert speaker(state) == "p0"  # offered again, at the end
    state = send(state, {"type": "pass"}, person(0), now=5)
    assert state.round is None and state.turn is None  # not a third time


def test_each_new_round_starts_with_someone_else_and_alternates_direction() -> None:
    state = send(session("check-in-out", 4), {"type": "start"})
    orders = []
    for n in range(3):
        state = send(state, {"type": "start_round", "seconds_per_turn": 5}, now=10 * n)
        orders.append(state.round.order)
        for _ in range(4):
            state = send(state, {"type": "next_turn"}, now=10 * n + 1)
    assert orders[0] == ("p0", "p1", "p2", "p3")
    assert orders[1] == ("p1", "p0", "p3", "p2")
    assert orders[2] == ("p2", "p3", "p0", "p1")
    assert len({o[0] for o in orders}) == 3 and len({o[-1] for o in orders}) == 3


def _with_questions(n: int) -> SessionState:
    state = send(session("check-in-out", 4), {"type": "start"})
    for i in range(n):
        state = send(state, {"type": "submit_item", "kind": "question", "text": f"Question {i}?"}, person(i), now=i)
    return folded(state, n + 60)


def test_reveal_threshold_holds_with_two_items_and_can_be_overridden() -> None:
    state = _with_questions(2)
    with pytest.raises(Conflict, match="fewer than 3"):
        send(state, {"type": "reveal_items", "kind": "question"}, now=70)
    assert view_for(state, FACILITATOR, 70)["items"] == []
    forced = send(state, {"type": "reveal_items", "kind": "question", "force": True}, now=70)
    assert len(view_for(forced, SCREEN, 70)["items"]) == 2


def test_views_show_only_counts_of_what_is_being_written() -> None:
    state = _with_questions(2)
    view = view_for(state, FACILITATOR, 5)
    assert view["pending"] == {"question": 2, "feedback": 0}
    assert all(set(p) == {"id", "name", "present", "connected", "spoken_s", "hand_raised"} for p in view["participants"])


def test_wellbeing_distribution_is_hidden_until_enough_have_answered_and_it_is_shown() -> None:
    state = send(session("check-in-out", 4), {"type": "start"})
    state = send(state, {"type": "rate_wellbeing", "score": 2}, person(0), now=1)
    state = send(state, {"type": "rate_wellbeing", "score": 4}, person(1), now=2)
    state = folded(state, 60)
    for viewer in (FACILITATOR, SCREEN, person(0), person(3)):
        assert view_for(state, viewer, 60)["wellbeing"] == [{"phase_id": "check-in", "answered": 2, "distribution": None}]
    with pytest.raises(Conflict, match="fewer than 3"):
        send(state, {"type": "show_wellbeing"}, now=60)
    state = folded(send(state, {"type": "rate_wellbeing", "score": 4}, person(2), now=61), 120)
    assert view_for(state, SCREEN, 120)["wellbeing"][0] == {"phase_id": "check-in", "answered": 3, "distribution": None}
    state = send(state, {"type": "show_wellbeing"}, now=121)
    assert view_for(state, SCREEN, 121)["wellbeing"][0]["distribution"] == [0, 1, 0, 2, 0]


def test_wellbeing_is_answered_once_and_stored_without_who_gave_which_score() -> None:
    state = send(session("check-in-out", 4), {"type": "start"})
    state = send(state, {"type": "rate_wellbeing", "score": 5}, person(0), now=1)
    with pytest.raises(Conflict):
        send(state, {"type": "rate_wellbeing", "score": 1}, person(0), now=2)
    stored = str([tally.model_dump() for tally in state.wellbeing])
    assert not any(p.id in stored or p.name in stored for p in state.participants)
    assert view_for(state, person(0), 2)["me"]["wellbeing_answered"] == ["check-in"]
    assert view_for(state, person(1), 2)["me"]["wellbeing_answered"] == []


def test_wellbeing_scale_is_not_offered_mid_session() -> None:
    state = send(send(session("check-in-out", 2), {"type": "start"}), {"type": "next_phase"}, now=1)
    with pytest.raises(Conflict):
        send(state, {"type": "rate_wellbeing", "score": 3}, person(0), now=2)


def test_a_word_afterwards_reaches_the_facilitator_alone() -> None:
    state = send(session("check-in-out", 3), {"type": "start"})
    state = send(state, {"type": "request_word"}, person(2), now=1)
    assert view_for(state, FACILITATOR, 1)["me"]["word_requests"] == [{"participant_id": "p2", "name": "Person 2"}]
    for viewer in (SCREEN, person(0), person(1)):
        assert "word_requests" not in view_for(state, viewer, 1)["me"]
        assert "Person 2" not in str({k: v for k, v in view_for(state, viewer, 1).items() if k != "participants"})
    assert view_for(state, person(2), 1)["me"]["requested_word"] is True
    state = send(state, {"type": "withdraw_word"}, person(2), now=2)
    assert view_for(state, FACILITATOR, 2)["me"]["word_requests"] == []


@pytest.mark.parametrize("command", [
    {"type": "submit_item", "kind": "feedback", "text": "Ring her on 07700 900123"},
    {"type": "add_action", "text": "Visit John Smith on Friday"},
])
def test_server_stores_no_flagged_text_the_writer_did_not_confirm(command: dict) -> None:
    state = send(session("check-in-out", 2), {"type": "start"})
    with pytest.raises(PossibleIdentifier):
        send(state, command, person(0), now=1)
    kept = send(state, {**command, "confirmed": True}, person(0), now=1)
    assert kept != state  # kept (an item quietly, until a fold counts it; an action at once)
