"""Breakouts in the core: splitting, each group running by itself on the server's clock, and
the room's rules holding inside every group (engine.apply on the group's focused state)."""

from __future__ import annotations

import pytest

from app.facilitation import breakouts, engine
from app.facilitation.commands import ExpireTurn, FlushTallies, parse_command
from app.facilitation.errors import Conflict, Forbidden, Invalid, NotFound
from app.facilitation.formats import format_with_durations
from app.facilitation.models import FACILITATOR, SYSTEM, Actor
from app.facilitation.views import view_for
from tests.support.core import fresh, person

NAMES = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hal"]
# Short Troika phases: 10 s each (the whole exercise in 50 s a rotation).
SHORT = {"forming": 30, "preparation": 10, "presentation": 10, "questioning": 10, "consulting": 10,
         "feedback": 10, "harvest": 60}


def send(state, data, actor=FACILITATOR, now=1.0):
    return engine.apply(state, parse_command(data), actor, now, fresh())


def room(n: int = 7, fmt: str = "troika", durations=SHORT):
    state = engine.new_session(code="TRIO22", title="Trios", format=format_with_durations(fmt, durations), now=0.0,
                               salt="salt", facilitator_token_hash="f", screen_token_hash="s")
    for i in range(n):
        state = engine.join(state, participant_id=f"p{i}", name=NAMES[i], token_hash=f"t{i}", now=0.0).state
    return send(state, {"type": "start"}, now=0.5).state


def tick(state, now):
    """The shell's clock reporting a deadline (as service.py does)."""
    return engine.apply(state, ExpireTurn(type="expire_turn"), SYSTEM, now, fresh()).state


def fold(state):
    """The fold timer firing at its next tick."""
    return engine.apply(state, FlushTallies(type="flush_tallies"), SYSTEM, state.flush_at, fresh()).state


def sizes(state):
    return sorted(len(g.members) for g in state.breakouts.groups)


# Troika's groups write (its silent preparation): no pair where the people allow it (8: 4 + 4,
# not 3 + 3 + 2); pairs only when asked for (size 2) or too few to avoid one.
@pytest.mark.parametrize("n,size,expected", [(7, 3, [3, 4]), (6, 3, [3, 3]), (8, 3, [4, 4]), (4, 3, [4]),
                                             (3, 2, [3]), (7, 4, [3, 4]), (5, 2, [2, 3]), (5, 3, [5]),
                                             (2, 3, [2])])
def test_split_sizes_never_leave_anyone_alone(n, size, expected) -> None:
    state = send(room(n), {"type": "start_breakouts", "size": size}).state
    assert sizes(state) == expected
    members = [m for g in state.breakouts.groups for m in g.members]
    assert sorted(members) == sorted(f"p{i}" for i in range(n))


def test_groups_that_do_not_write_may_be_pairs_and_never_a_person_alone() -> None:
    assert breakouts.writes_in_groups(format_with_durations("troika", SHORT))
    assert [breakouts.group_count(8, 3), breakouts.group_count(8, 3, avoid_pairs=True)] == [3, 2]
    assert [breakouts.group_count(n, 3, avoid_pairs=True) for n in range(2, 13)] == [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4]
    for n in range(2, 40):
        for size in range(2, 8):
            k = breakouts.group_count(n, size, avoid_pairs=True)
            assert n // k >= 2 and (size < 3 or n < 3 or n // k >= 3), (n, size, k)


def test_balanced_split_spreads_the_least_heard_across_groups() -> None:
    state = room(6)
    heard = {"p0": 50.0, "p1": 40.0, "p2": 30.0, "p3": 3.0, "p4": 0.0, "p5": 60.0}
    people = tuple(p.model_copy(update={"spoken_s": heard[p.id]}) for p in state.participants)
    state = state.model_copy(update={"participants": people})
    state = send(state, {"type": "start_breakouts", "size": 3, "method": "balanced"}).state
    quiet = [breakouts.group_of(state, pid).id for pid in ("p4", "p3")]
    assert len(set(quiet)) == 2  # the two least heard are in different groups


def test_by_hand_and_its_errors() -> None:
    state = room(5)
    groups = [["p0", "p1"], ["p2", "p3", "p4"]]
    done = send(state, {"type": "start_breakouts", "size": 2, "method": "manual", "groups": groups}).state
    assert [g.members for g in done.breakouts.groups] == [("p0", "p1"), ("p2", "p3", "p4")]
    with pytest.raises(Invalid, match="at least two"):
        send(state, {"type": "start_breakouts", "size": 2, "method": "manual", "groups": [["p0"], ["p1", "p2", "p3", "p4"]]})
    with pytest.raises(Invalid, match="in no group"):
        send(state, {"type": "start_breakouts", "size": 2, "method": "manual", "groups": [["p0", "p1"]]})
    with pytest.raises(NotFound, match="zz"):
        send(state, {"type": "start_breakouts", "size": 2, "method": "manual", "groups": [["p0", "zz"], ["p1", "p2", "p3", "p4"]]})
    with pytest.raises(Invalid, match="size"):
        send(state, {"type": "start_breakouts", "size": 1})


def test_a_late_joiner_goes_to_the_smallest_group() -> None:
    state = send(room(7), {"type": "start_breakouts", "size": 3}).state
    small = min(state.breakouts.groups, key=lambda g: len(g.members))
    state = engine.join(state, participant_id="late", name="Lou", token_hash="tl", now=2.0).state
    assert "late" in breakouts.find(state, small.id).members
    assert sizes(state) == [4, 4]


def test_each_group_runs_troika_by_itself_with_one_speaker_each() -> None:
    state = send(room(7), {"type": "start_breakouts", "size": 3}, now=1.0).state
    groups = state.breakouts.groups
    assert all(g.phase is not None and state.format.phases[g.phase.index].id == "preparation" for g in groups)
    # time is up for the preparation: the client explains, holding the floor for the phase
    state = tick(state, 11.0)
    for g in state.breakouts.groups:
        assert state.format.phases[g.phase.index].id == "presentation"
        assert g.turn is not None and g.turn.participant_id == g.presenter_id == g.members[0]
        assert g.turn.ends_at == pytest.approx(21.0)
    # the consultants' queue: the client listens only; a consultant's hand gets the floor
    state = tick(tick(state, 21.0), 31.0)
    g = state.breakouts.groups[0]
    assert state.format.phases[g.phase.index].id == "consulting"
    client, consultant, other = g.members[0], g.members[1], g.members[2]
    with pytest.raises(Conflict, match="listening"):
        send(state, {"type": "raise_hand"}, person(client), now=32.0)
    state = send(state, {"type": "raise_hand"}, person(consultant), now=32.0).state
    state = send(state, {"type": "raise_hand"}, person(other), now=32.5).state
    g = state.breakouts.groups[0]
    assert g.turn.participant_id == consultant  # one speaker in the group; the other waits
    assert state.turn is None  # the room's floor is untouched
    view = view_for(state, person(other), 33.0)
    assert view["queue"] == [other] and view["turn"]["participant_id"] == consultant
    room_view = view_for(state, FACILITATOR, 33.0)
    assert room_view["queue"] == [] and room_view["breakouts"][0]["queue"] == [other]
    # feedback, then the second rotation with the next client
    state = tick(tick(state, 41.0), 51.0)
    g = state.breakouts.groups[0]
    assert g.presented == (client, consultant) and g.presenter_id == consultant
    assert state.format.phases[g.phase.index].id == "preparation"


def test_every_member_is_client_once_then_the_group_is_done() -> None:
    state = send(room(7), {"type": "start_breakouts", "size": 3}, now=0.0).state
    now = 0.0
    while not all(g.done for g in state.breakouts.groups):
        now = engine.next_deadline(state)
        assert now is not None and now <= 4 * 50 + 1
        state = tick(state, now)
    for g in state.breakouts.groups:
        assert sorted(g.presented) == sorted(g.members)
    assert now == pytest.approx(200.0)  # the trio finished after 150 s, the four after 200 s: nobody waited on a stopwatch
    done = view_for(state, person(state.breakouts.groups[0].members[0]), now)
    assert done["breakout"]["done"] is True and done["phase"] is None
    back = send(state, {"type": "end_breakouts"}, now=now + 1).state
    # Back in the room, the room goes on with the phase after the groups' (the harvest), on a fresh clock.
    assert back.breakouts is None and back.phase is not None and back.format.phases[back.phase.index].id == "harvest"
    assert back.phase.started_at == now + 1


def test_deadline_is_the_earliest_group_and_pause_freezes_every_group() -> None:
    state = send(room(6), {"type": "start_breakouts", "size": 3}, now=1.0).state
    assert engine.next_deadline(state) == pytest.approx(11.0)
    paused = send(state, {"type": "pause"}, now=5.0).state
    assert engine.turn_due(paused, 20.0) is False
    resumed = send(paused, {"type": "resume"}, now=15.0).state
    assert all(g.phase.ends_at == pytest.approx(21.0) for g in resumed.breakouts.groups)
    assert engine.next_deadline(resumed) == pytest.approx(21.0)


def test_items_stay_in_their_group_until_it_consents() -> None:
    state = send(room(6), {"type": "start_breakouts", "size": 3}, now=1.0).state
    g1, g2 = state.breakouts.groups
    for i, pid in enumerate(g1.members):
        state = send(state, {"type": "submit_item", "kind": "feedback", "text": f"idea {i}"}, person(pid), now=2.0).state
    while state.flush_at is not None:  # the fold timer stages, then shows them
        state = fold(state)
    inside, outside = person(g1.members[0]), person(g2.members[0])
    assert view_for(state, inside, 61.0)["pending"]["feedback"] == 3
    assert view_for(state, outside, 61.0)["pending"]["feedback"] == 0
    with pytest.raises(Conflict, match="no feedback"):
        send(state, {"type": "reveal_items", "kind": "feedback", "breakout_id": g2.id}, now=61.0)
    state = send(state, {"type": "reveal_items", "kind": "feedback", "breakout_id": g1.id}, now=61.0).state
    mine = view_for(state, inside, 62.0)["items"]
    assert sorted(i["text"] for i in mine) == ["idea 0", "idea 1", "idea 2"]
    assert view_for(state, outside, 62.0)["items"] == []
    facilitator = view_for(state, FACILITATOR, 62.0)
    assert "idea" not in str(facilitator)  # nor the facilitator, nor the screen
    chosen = mine[0]["id"]
    state = send(state, {"type": "propose_summary", "kind": "item", "item_id": chosen, "breakout_id": g1.id}, now=63.0).state
    proposal = breakouts.find(state, g1.id).proposals[0].id
    with pytest.raises(NotFound):  # the other group has no such ballot
        send(state, {"type": "consent", "proposal_id": proposal, "agree": True}, person(g2.members[0]), now=64.0)
    for pid in g1.members:
        state = send(state, {"type": "consent", "proposal_id": proposal, "agree": True}, person(pid), now=64.0).state
    back = send(state, {"type": "end_breakouts"}, now=70.0).state
    assert [i["text"] for i in view_for(back, FACILITATOR, 71.0)["items"]] == [mine[0]["text"]]


def test_wrong_group_unknown_group_and_room_commands_are_refused() -> None:
    state = room(6)
    with pytest.raises(NotFound, match="not running"):
        send(state, {"type": "next_phase", "breakout_id": "g1"})
    state = send(state, {"type": "start_breakouts", "size": 3}, now=1.0).state
    g1, g2 = state.breakouts.groups
    with pytest.raises(Forbidden, match="group 1"):
        send(state, {"type": "raise_hand", "breakout_id": g2.id}, person(g1.members[1]), now=2.0)
    with pytest.raises(NotFound, match="g9"):
        send(state, {"type": "next_phase", "breakout_id": "g9"})
    with pytest.raises(Conflict, match="breakout_id"):
        send(state, {"type": "next_phase"})
    with pytest.raises(Invalid, match="whole room"):
        send(state, {"type": "lock_room", "breakout_id": g1.id})
    with pytest.raises(Conflict, match="running already"):
        send(state, {"type": "start_breakouts", "size": 3})
    moved = send(state, {"type": "next_phase", "breakout_id": g1.id}, now=2.0).state
    assert moved.breakouts.groups[0].step == 1 and moved.breakouts.groups[1].step == 0


def test_moving_someone_between_groups() -> None:
    state = send(room(7), {"type": "start_breakouts", "size": 3}, now=1.0).state
    big = max(state.breakouts.groups, key=lambda g: len(g.members))
    small = min(state.breakouts.groups, key=lambda g: len(g.members))
    who = big.members[-1]
    state = send(state, {"type": "move_to_breakout", "participant_id": who, "breakout_id": small.id}, now=2.0).state
    assert who in breakouts.find(state, small.id).members and who not in breakouts.find(state, big.id).members
    small = breakouts.find(state, small.id)
    with pytest.raises(Conflict, match="one person"):
        for pid in small.members[:3]:
            state = send(state, {"type": "move_to_breakout", "participant_id": pid, "breakout_id": big.id}, now=3.0).state
    with pytest.raises(NotFound):
        send(state, {"type": "move_to_breakout", "participant_id": who, "breakout_id": "g7"}, now=3.0)


def test_notice_reaches_every_group_and_the_screen() -> None:
    state = send(room(6), {"type": "start_breakouts", "size": 3}, now=1.0).state
    state = send(state, {"type": "breakout_notice", "minutes": 2}, now=5.0).state
    for g in state.breakouts.groups:
        assert view_for(state, person(g.members[0]), 5.0)["breakout"]["notice"] == {"minutes": 2, "at": 5.0}
    assert view_for(state, Actor(role="screen"), 5.0)["breakouts_notice"] == {"minutes": 2, "at": 5.0}


def test_breakouts_survive_both_stores_serialisation_and_old_records_still_load() -> None:
    """Both stores keep the state as the model's JSON (sqlite write-through, redis): a session in
    breakouts comes back whole, and a record written before breakouts existed still loads."""
    from app.facilitation.models import SessionState

    state = send(room(7), {"type": "start_breakouts", "size": 3}, now=1.0).state
    state = send(state, {"type": "submit_item", "kind": "question", "text": "Why now?"},
                 person(state.breakouts.groups[0].members[1]), now=2.0).state
    assert SessionState.model_validate_json(state.model_dump_json()) == state
    old = state.model_dump(mode="json", exclude={"breakouts", "breakouts_held"})
    for phase in old["format"]["phases"]:
        phase.pop("breakout"), phase.pop("speaker")
    old["format"].pop("breakouts")
    loaded = SessionState.model_validate(old)
    assert loaded.breakouts is None and loaded.breakouts_held is False


def test_random_sessions_in_breakouts_keep_the_rooms_rules_in_every_group() -> None:
    """Many random commands from random people at increasing times, the server's clock among
    them: a refusal changes nothing; each group has at most one speaker, who is one of its own
    present members and never a presenter who listens only; floor time only grows; every
    present person is in exactly one group."""
    import random as rnd

    from app.facilitation.models import SessionState

    for seed in range(12):
        r = rnd.Random(seed)
        n = r.randint(4, 8)
        state = send(room(n), {"type": "start_breakouts", "size": r.choice([2, 3, 4]),
                               "method": r.choice(["random", "balanced"])}, now=1.0).state
        now, spoken = 1.0, {p.id: 0.0 for p in state.participants}
        for step in range(120):
            now += r.choice([0.2, 1.0, 3.0, 7.0])
            pid = f"p{r.randrange(n)}"
            group = breakouts.group_of(state, pid)
            choice = r.random()
            if choice < 0.25:
                data, actor = {"type": r.choice(["raise_hand", "lower_hand", "yield_turn", "pass"])}, person(pid)
            elif choice < 0.35:
                data, actor = {"type": "submit_item", "kind": "feedback", "text": f"note {step}"}, person(pid)
            elif choice < 0.45 and group is not None:
                data, actor = {"type": r.choice(["next_phase", "reveal_items", "extend"]), "breakout_id": group.id,
                               "kind": "feedback", "seconds": 5}, FACILITATOR
                data = {k: v for k, v in data.items() if k in {"type", "breakout_id"}
                        or (k == "kind" and data["type"] == "reveal_items") or (k == "seconds" and data["type"] == "extend")}
            elif choice < 0.5:
                other = r.choice(state.breakouts.groups)
                data, actor = {"type": "move_to_breakout", "participant_id": pid, "breakout_id": other.id}, FACILITATOR
            else:
                state = tick(state, now)
                data = None
            if data is not None:
                before = state
                try:
                    state = send(state, data, actor, now=now).state
                except (Conflict, Forbidden, Invalid, NotFound):
                    assert state == before
            present = {p.id for p in state.participants if p.present}
            placed = [m for g in state.breakouts.groups for m in g.members]
            assert sorted(placed) == sorted(set(placed)) and present <= set(placed)
            for g in state.breakouts.groups:
                if g.turn is not None:
                    assert g.turn.participant_id in g.members and g.turn.participant_id in present
                    focused = breakouts.focus(state, g)
                    assert not (g.turn.source == "queue" and engine.listening(focused, g.turn.participant_id))
            for p in state.participants:
                assert p.spoken_s >= spoken[p.id] - 1e-9
                spoken[p.id] = p.spoken_s
        assert SessionState.model_validate_json(state.model_dump_json()) == state


def test_someone_let_back_in_during_breakouts_joins_a_group() -> None:
    state = send(room(7), {"type": "remove_participant", "participant_id": "p6"}, now=1.0).state
    state = send(state, {"type": "start_breakouts", "size": 3}, now=2.0).state
    assert breakouts.group_of(state, "p6") is None
    state = send(state, {"type": "readmit_participant", "participant_id": "p6"}, now=3.0).state
    assert breakouts.group_of(state, "p6") is not None
    assert view_for(state, person("p6"), 3.0)["breakouts"] is None  # a phone never sees the other groups
    with pytest.raises(Conflict, match="in order"):
        send(state, {"type": "goto_phase", "phase_id": "feedback", "breakout_id": "g1"}, now=4.0)


def test_a_format_file_with_breakouts_needs_a_breakout_phase_and_spells_its_marks_right() -> None:
    from app.facilitation.formats import parse_format

    base = 'id = "x"\ntitle = "X"\n[breakouts]\nsize = 3\n[[phases]]\nid = "a"\ntitle = "A"\nkind = "queue"\nduration_s = 60\n'
    with pytest.raises(Invalid, match="breakout = true"):
        parse_format(base)
    assert parse_format(base + "breakout = true\n").breakouts.size == 3
    with pytest.raises(Invalid):
        parse_format(base + 'breakout = true\nspeaker = "everyone"\n')
    with pytest.raises(Invalid):
        parse_format(base.replace("size = 3", "size = 1") + "breakout = true\n")


def _pair_and_trio(now: float = 1.0):
    """Five people split by hand into a pair (Ana, Ben) and a trio (Cleo, Dev, Eli)."""
    state = send(room(5), {"type": "start_breakouts", "size": 3, "method": "manual",
                           "groups": [["p0", "p1"], ["p2", "p3", "p4"]]}, now=now).state
    return state, *state.breakouts.groups


def test_nobody_writes_anonymously_in_a_group_of_two_as_in_a_session_of_two() -> None:
    state, pair, trio = _pair_and_trio()
    with pytest.raises(Conflict, match="between two people there is no anonymous writing"):
        send(state, {"type": "submit_item", "kind": "feedback", "text": "mine"}, person("p0"), now=2.0)
    assert view_for(state, person("p0"), 2.0)["anonymous_writing"] is False
    assert view_for(state, person("p2"), 2.0)["anonymous_writing"] is True
    assert view_for(state, FACILITATOR, 2.0)["anonymous_writing"] is True  # the room's rule
    written = send(state, {"type": "submit_item", "kind": "feedback", "text": "ours"}, person("p2"), now=2.0).state
    # A trio whose third member leaves is a pair: it takes no more anonymous writing.
    left = send(written, {"type": "leave"}, person("p4"), now=3.0).state
    with pytest.raises(Conflict, match="no anonymous writing"):
        send(left, {"type": "submit_item", "kind": "feedback", "text": "more"}, person("p2"), now=4.0)
    # The same rule as a one-to-one session.
    two = engine.new_session(code="ONE122", title="1:1", format=format_with_durations("one-to-one", None), now=0.0,
                             salt="s", facilitator_token_hash="f", screen_token_hash="s")
    for i in range(2):
        two = engine.join(two, participant_id=f"p{i}", name=NAMES[i], token_hash=f"t{i}", now=0.0).state
    two = send(two, {"type": "start"}).state
    with pytest.raises(Conflict, match="between two people there is no anonymous writing"):
        send(two, {"type": "submit_item", "kind": "question", "text": "mine"}, person("p0"), now=2.0)


def test_the_facilitator_sees_a_groups_anonymous_counts_only_where_it_has_three_members() -> None:
    state, pair, trio = _pair_and_trio()
    for g in (pair, trio):
        state = send(state, {"type": "propose_summary", "kind": "theme", "text": "We agree to meet again",
                             "breakout_id": g.id}, now=2.0).state
    for pid in ("p0", "p1", "p2", "p3", "p4"):
        group = breakouts.group_of(state, pid)
        proposal = group.proposals[0].id
        state = send(state, {"type": "consent", "proposal_id": proposal, "agree": pid != "p1"}, person(pid), now=3.0).state
    while state.flush_at is not None:
        state = fold(state)
    for viewer in (FACILITATOR, Actor(role="screen")):
        shown = {g["id"]: g for g in view_for(state, viewer, 90.0)["breakouts"]}
        assert shown[pair.id]["pending"] is None
        assert shown[pair.id]["proposals"][0] | {"id": None} == {
            "id": None, "kind": "theme", "item_id": None, "agreed": None, "objected": None, "answered": None}
        assert shown[trio.id]["pending"] == {"question": 0, "feedback": 0}
        assert (shown[trio.id]["proposals"][0]["agreed"], shown[trio.id]["proposals"][0]["answered"]) == (3, 3)
        assert "1" not in str([p["agreed"] for p in shown[pair.id]["proposals"]])


def test_an_item_brought_back_to_the_room_has_a_new_id_and_no_group_votes() -> None:
    state = send(room(6), {"type": "start_breakouts", "size": 3}, now=1.0).state
    g1 = state.breakouts.groups[0]
    for i, pid in enumerate(g1.members):
        state = send(state, {"type": "submit_item", "kind": "feedback", "text": f"idea {i}"}, person(pid), now=2.0).state
    while state.flush_at is not None:
        state = fold(state)
    state = send(state, {"type": "reveal_items", "kind": "feedback", "breakout_id": g1.id}, now=61.0).state
    seen_ids = {i["id"] for g in view_for(state, FACILITATOR, 62.0)["breakouts"] for i in g["items"]}
    chosen = sorted(seen_ids)[0]
    state = send(state, {"type": "vote_item", "item_id": chosen}, person(g1.members[0]), now=62.0).state
    state = send(state, {"type": "propose_summary", "kind": "item", "item_id": chosen, "breakout_id": g1.id}, now=63.0).state
    proposal = breakouts.find(state, g1.id).proposals[0].id
    for pid in g1.members:
        state = send(state, {"type": "consent", "proposal_id": proposal, "agree": True}, person(pid), now=64.0).state
    while state.flush_at is not None:
        state = fold(state)
    back = send(state, {"type": "end_breakouts"}, now=90.0).state
    items = view_for(back, FACILITATOR, 91.0)["items"]
    assert len(items) == 1 and items[0]["id"] not in seen_ids and items[0]["votes"] == 0
    assert chosen not in back.model_dump_json()
    # Its author can still withdraw it; a member may vote for it in the room.
    state = send(back, {"type": "vote_item", "item_id": items[0]["id"]}, person(g1.members[0]), now=92.0).state
    assert state.items[0].voter_hashes
