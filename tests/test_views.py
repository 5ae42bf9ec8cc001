"""Every role's view, held to the anonymity rule where it is enforced (``facilitation.views``)."""

from __future__ import annotations

import json

from app.facilitation import commands, engine
from app.facilitation.formats import format_with_durations
from app.facilitation.models import FACILITATOR, SCREEN, SYSTEM, Actor, Fresh, SessionState
from app.facilitation.views import view_for

PEOPLE = [Actor(role="participant", participant_id=f"p{i}", key=f"marking secret of p{i}") for i in range(4)]
EVERYONE = [FACILITATOR, SCREEN, *PEOPLE]


def send(state: SessionState, command: dict, actor: Actor, n: int) -> engine.Transition:
    fresh = Fresh(id=f"item{n * 7 % 13:02d}-{n}", secret=f"r{n}")  # ids in no order, as the shell's are
    return engine.apply(state, commands.parse_command(command), actor, float(n), fresh)


def settled(state: SessionState) -> SessionState:
    """Every fold of the anonymous counts that is due, at the times the state asks for."""
    while state.flush_at is not None:
        state = engine.apply(state, commands.FlushTallies(type="flush_tallies"), SYSTEM, state.flush_at,
                             Fresh(id="fold", secret="")).state
    return state


def written_room() -> tuple[SessionState, list[str]]:
    """Four people write a question each; three are revealed and voted on; a fourth kind stays pending."""
    state = engine.new_session(code="VIEWS2", title="Team", format=format_with_durations("action-learning-set", None),
                               now=0.0, salt="the-salt", facilitator_token_hash="fac-hash", screen_token_hash="scr-hash")
    for i in range(4):
        state = engine.join(state, participant_id=f"p{i}", name=f"Person {i}", token_hash=f"tok-hash-{i}", now=0.0).state
    state = send(state, {"type": "start"}, FACILITATOR, 1).state
    receipts = []
    for i, person in enumerate(PEOPLE):
        step = send(state, {"type": "submit_item", "kind": "question", "text": f"Question number {i}?"}, person, 10 + i)
        state = step.state
        receipts.append(step.reply.get("receipt", ""))
    state = send(settled(state), {"type": "reveal_items", "kind": "question"}, FACILITATOR, 20).state
    for i, person in enumerate(PEOPLE[:3]):
        state = send(state, {"type": "vote_item", "item_id": state.items[0].id}, person, 30 + i).state
    state = send(state, {"type": "submit_item", "kind": "feedback", "text": "A pending thought"}, PEOPLE[3], 40).state
    return settled(state), receipts


def test_an_item_is_shown_as_its_id_kind_text_and_votes_and_nothing_else() -> None:
    state, _ = written_room()
    for viewer in EVERYONE:
        items = view_for(state, viewer, 50)["items"]
        assert len(items) == 4
        assert all(set(item) == {"id", "kind", "text", "votes"} for item in items)


def test_no_view_carries_a_salt_a_token_hash_a_receipt_or_a_mark() -> None:
    state, receipts = written_room()
    secrets = {"the-salt", "fac-hash", "scr-hash", *(f"tok-hash-{i}" for i in range(4)), *filter(None, receipts),
               *(person.key for person in PEOPLE)}
    secrets |= {item.receipt_hash for item in state.items}
    secrets |= {mark for item in state.items for mark in item.voter_hashes}
    for viewer in EVERYONE:
        shown = json.dumps(view_for(state, viewer, 50))
        assert not [s for s in secrets if s in shown], viewer


def test_pending_items_are_counts_only_for_every_role() -> None:
    state, _ = written_room()
    for viewer in EVERYONE:
        view = view_for(state, viewer, 50)
        assert "A pending thought" not in json.dumps(view)
        assert view["pending"]["question"] == 0


def test_a_voter_alone_sees_which_items_they_voted_for() -> None:
    state, _ = written_room()
    voted = state.items[0].id
    assert view_for(state, PEOPLE[0], 50)["me"]["voted_item_ids"] == [voted]
    assert view_for(state, PEOPLE[3], 50)["me"]["voted_item_ids"] == []
    assert "voted_item_ids" not in view_for(state, FACILITATOR, 50)["me"]
    assert "voted_item_ids" not in view_for(state, SCREEN, 50)["me"]


def test_revealed_items_do_not_follow_the_order_they_were_written_in() -> None:
    state, _ = written_room()
    shown = [item["text"] for item in view_for(state, FACILITATOR, 50)["items"]]
    written = [f"Question number {i}?" for i in range(4)]
    assert sorted(shown) == written and shown != written
