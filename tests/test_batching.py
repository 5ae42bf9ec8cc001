"""Anonymous counters and presence as the room sees them, in the pure core (app/facilitation/tallies.py).

Exact: the fold times follow from the session's salt, so each test knows when the
timer fires and drives it the way the shell's deadline timers do.
"""

from __future__ import annotations

import pytest

from app.facilitation import commands, engine, tallies
from app.facilitation.errors import Conflict
from app.facilitation.formats import format_with_durations
from app.facilitation.models import (
    FACILITATOR,
    SCREEN,
    SYSTEM,
    Actor,
    Fresh,
    SessionState,
    Settings,
)
from app.facilitation.views import view_for
from tests.support.core import person, send

INTERVAL = 6.0


def session(people: int = 4, **settings: float) -> SessionState:
    state = engine.new_session(code="BATCH2", title="Team", format=format_with_durations("check-in-out", None),
                               now=0.0, salt="a secret salt", facilitator_token_hash="f", screen_token_hash="s",
                               settings=Settings(tally_interval_s=INTERVAL, **settings))
    for i in range(people):
        state = engine.join(state, participant_id=f"p{i}", name=f"Person {i}", token_hash=f"t{i}", now=0.0).state
    return send(state, {"type": "start"})


def tick(state: SessionState) -> SessionState:
    """The fold timer fires at the time the state asks for."""
    assert state.flush_at is not None
    return engine.apply(state, commands.FlushTallies(type="flush_tallies"), SYSTEM, state.flush_at,
                        Fresh(id="tick", secret="")).state


def settle(state: SessionState) -> SessionState:
    while state.flush_at is not None:
        state = tick(state)
    return state


def revealed(state: SessionState, n: int = 3) -> SessionState:
    for i in range(n):
        state = send(state, {"type": "submit_item", "kind": "question", "text": f"Question {i}?"}, person(i), now=1)
    return send(settle(state), {"type": "reveal_items", "kind": "question"}, now=100)


def test_fold_times_are_jittered_around_the_interval_and_the_same_for_every_worker() -> None:
    state = session()
    times = [tallies.tick_at(state, k) for k in range(200)]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(0.5 * INTERVAL <= g <= 1.5 * INTERVAL for g in gaps)
    assert len({round(g, 6) for g in gaps}) > 150  # jittered, not a metronome
    other = state.model_copy(update={"salt": "another salt"})
    assert [tallies.tick_at(other, k) for k in range(5)] != times[:5]  # unpredictable without the salt
    assert tallies.next_tick(state, times[10]) == times[11] and tallies.next_tick(state, times[10] - 1e-6) == times[10]


def test_a_vote_changes_no_version_and_reaches_the_room_at_the_second_fold() -> None:
    state = revealed(session())
    target = view_for(state, SCREEN, 100)["items"][0]["id"]
    before = state.version
    state = send(state, {"type": "vote_item", "item_id": target}, person(1), now=101)
    assert state.version == before  # quiet: nobody is sent a frame when someone votes
    assert view_for(state, SCREEN, 101)["items"][0]["votes"] == 0
    first = tick(state)
    assert first.flush_at - 101 >= 0 and view_for(first, SCREEN, 101)["items"][0]["votes"] == 0  # staged only
    assert first.version == before
    second = tick(first)
    assert view_for(second, SCREEN, 120)["items"][0]["votes"] == 1 and second.version == before + 1
    assert second.flush_at is None  # nothing left to fold: no timer for an idle session
    for again in (second, first):  # a tick reported twice (two workers), or early, changes nothing
        late = engine.apply(again, commands.FlushTallies(type="flush_tallies"), SYSTEM, (first.flush_at or 0) - 0.01,
                            Fresh(id="tick", secret=""))
        assert late.state == again and not late.events
    with pytest.raises(Conflict):  # the true tally keeps one vote each at once
        send(first, {"type": "vote_item", "item_id": target}, person(1), now=102)


def test_a_fold_waits_while_someones_entry_has_only_just_changed() -> None:
    state = send(session(), {"type": "submit_item", "kind": "feedback", "text": "kind words"}, person(0), now=1)
    state = tick(state)  # staged
    due = state.flush_at
    state = send(state, {"type": "raise_hand"}, person(2), now=due - 0.1)  # just before the fold
    held = tick(state)
    assert view_for(held, SCREEN, due)["pending"]["feedback"] == 0 and held.version == state.version
    later = tick(held)
    assert view_for(later, SCREEN, later.flush_at or 0)["pending"]["feedback"] == 1
    assert tallies.entries(later) == tallies.entries(held)  # the fold changed nobody's entry


def test_presence_is_debounced_and_never_shown_in_a_fold_of_the_counters() -> None:
    state = session(presence_on_s=15, presence_off_s=20)
    # Everyone's first connection, just after joining, shows at the next fold; they leave later.
    for i in range(4):
        state = engine.set_connected(state, f"p{i}", True, 1.0).state
    state = tick(state)
    assert all(p.connected for p in state.participants) and state.flush_at is None
    for i in range(4):
        state = engine.set_connected(state, f"p{i}", False, 5.0).state
    state = settle(state)
    assert not any(p.connected for p in state.participants)
    # A phone wakes to send and sleeps again within seconds: the room never sees it.
    state = engine.set_connected(state, "p1", True, 10.0).state
    version = state.version
    state = send(state, {"type": "submit_item", "kind": "question", "text": "Why now?"}, person(1), now=11)
    state = engine.set_connected(state, "p1", False, 13.0).state
    assert state.version == version
    state = settle(state)
    views = view_for(state, FACILITATOR, 100)
    assert views["pending"]["question"] == 1
    assert not any(p["connected"] for p in views["participants"])
    # One who stays is shown connected, at a fold of its own, once they have stayed 15 s.
    state = engine.set_connected(state, "p2", True, 200.0).state
    assert state.flush_at >= 215.0
    shown = tick(state)
    assert [p.connected for p in shown.participants] == [False, False, True, False]
    assert shown.version == state.version + 1


def test_the_wellbeing_spread_is_shown_once_and_later_answers_wait_for_enough_more() -> None:
    state = session(people=7)
    for i, score in enumerate([2, 4, 4]):
        state = send(state, {"type": "rate_wellbeing", "score": score}, person(i), now=1 + i)
    state = send(settle(state), {"type": "show_wellbeing"}, now=50)
    assert view_for(state, SCREEN, 50)["wellbeing"][0] == {"phase_id": "check-in", "answered": 3,
                                                          "distribution": [0, 1, 0, 2, 0]}
    state = settle(send(state, {"type": "rate_wellbeing", "score": 5}, person(3), now=51))
    view = view_for(state, SCREEN, 80)["wellbeing"][0]
    assert view["answered"] == 4 and view["distribution"] == [0, 1, 0, 2, 0]  # one more does not move it
    with pytest.raises(Conflict, match="since it was last shown"):
        send(state, {"type": "show_wellbeing"}, now=80)
    state = send(state, {"type": "next_phase"}, now=81)  # the phase ends with one new answer: still unmoved
    assert view_for(state, SCREEN, 81)["wellbeing"][0]["distribution"] == [0, 1, 0, 2, 0]


def test_the_spread_is_shown_when_the_phase_ends_with_enough_answers() -> None:
    state = session()
    for i, score in enumerate([1, 3, 3]):
        state = send(state, {"type": "rate_wellbeing", "score": score}, person(i), now=1 + i)
    state = send(settle(state), {"type": "next_phase"}, now=50)
    assert view_for(state, SCREEN, 50)["wellbeing"][0]["distribution"] == [1, 0, 2, 0, 0]


def test_an_author_withdrawing_a_revealed_item_does_not_make_it_vanish_at_that_moment() -> None:
    state = session()
    receipts = []
    for i in range(3):
        t = engine.apply(state, commands.parse_command({"type": "submit_item", "kind": "question", "text": f"Q{i}?"}),
                         person(i), 1, Fresh(id=f"item{i}", secret=f"receipt{i}"))
        state, _ = t.state, receipts.append(t.reply["receipt"])
    state = send(settle(state), {"type": "reveal_items", "kind": "question"}, now=50)
    version = state.version
    state = send(state, {"type": "retract_item", "receipt": receipts[1]}, person(1), now=51)
    assert state.version == version and len(view_for(state, SCREEN, 51)["items"]) == 3
    state = settle(state)
    assert sorted(i["text"] for i in view_for(state, SCREEN, 90)["items"]) == ["Q0?", "Q2?"]


def test_marks_are_keyed_with_the_participants_own_secret() -> None:
    state = revealed(session())
    target = state.items[-1].id
    state = send(state, {"type": "vote_item", "item_id": target}, person(2), now=101)
    state = send(state, {"type": "rate_wellbeing", "score": 3}, person(2), now=101)
    marks = list(state.items[-1].voter_hashes) + list(state.wellbeing[0].answered)
    stored = state.model_dump_json()
    assert all(m in stored for m in marks)
    # Recomputable with the voter's secret, and by nothing the state holds.
    assert engine.vote_mark(state, target, person(2)) in marks
    assert engine.vote_mark(state, target, Actor(role="participant", participant_id="p2", key=state.salt)) not in marks
    assert view_for(state, person(2), 101)["me"]["wellbeing_answered"] == ["check-in"]
    assert view_for(state, Actor(role="participant", participant_id="p2", key="t2"), 101)["me"]["wellbeing_answered"] == []
