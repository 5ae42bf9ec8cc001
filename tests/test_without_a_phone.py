"""Someone in the room without a phone, over the real server in both store modes: the
facilitator adds them by name; they are in the round's order with the same time as everyone,
can be given the floor from the queue once the facilitator raises their hand, and their floor
time counts like anyone's. What they wrote on paper, typed in at the console, joins the other
items with nothing linking it to them or to paper; and no token signs in as them."""

from __future__ import annotations

import time

import pytest

from tests.support.client import Api, person
from tests.support.server import ServerProcess


@pytest.fixture()
def api(server: ServerProcess):
    with Api(server.base_url) as client:
        yield client


def test_a_person_without_a_phone_takes_turns_and_their_floor_time_counts(api: Api) -> None:
    made = api.create_session("Ward", format="check-in-out")
    code, fac = made["code"], made["facilitator_token"]
    phones = [api.join(code, name) for name in ("Ana", "Ben")]
    added = api.ok(code, fac, {"type": "add_without_phone", "name": "Dev"})
    dev = added["participant_id"]
    view = api.view(code, fac)
    assert person(view, dev)["phoneless"] is True and person(view, dev)["connected"] is False
    assert "phoneless" not in person(view, phones[0]["participant_id"])

    api.ok(code, fac, {"type": "start"})
    api.ok(code, fac, {"type": "start_round", "seconds_per_turn": 60})
    view = api.view(code, fac)
    assert dev in view["round"]["order"]
    turns = {}
    while view["round"] is not None:  # every turn of the round, Dev's included, has the same time
        turns[view["turn"]["participant_id"]] = view["turn"]["duration_s"]
        api.ok(code, fac, {"type": "next_turn"})
        view = api.view(code, fac)
    assert dev in turns and set(turns.values()) == {60}, turns

    # From the queue: the facilitator raises Dev's hand (they raised it in the room).
    refused = api.command(code, fac, {"type": "raise_hand_for", "participant_id": phones[0]["participant_id"]})
    assert refused.status_code == 409, refused.text  # a phone's owner raises their own
    api.ok(code, fac, {"type": "raise_hand_for", "participant_id": dev})
    assert dev in api.view(code, fac)["queue"]
    before = person(api.view(code, fac), dev)["spoken_s"]
    api.ok(code, fac, {"type": "give_turn", "participant_id": dev})
    time.sleep(0.5)
    api.ok(code, fac, {"type": "next_phase"})
    view = api.view(code, fac)
    assert person(view, dev)["spoken_s"] >= before + 0.4 and dev not in view["queue"]


def test_a_note_from_paper_is_anonymous_and_nothing_signs_in_as_the_person_without_a_phone(api: Api) -> None:
    made = api.create_session("Ward", format="check-in-out")
    code, fac = made["code"], made["facilitator_token"]
    for name in ("Ana", "Ben", "Cat"):
        api.join(code, name)
    dev = api.ok(code, fac, {"type": "add_without_phone", "name": "Dev"})["participant_id"]
    api.ok(code, fac, {"type": "start"})
    sent = api.ok(code, fac, {"type": "submit_paper_item", "kind": "question", "text": "Who covers nights?"})
    assert "receipt" in sent and "participant_id" not in sent
    for i in range(2):
        api.ok(code, api.join(code, f"P{i}")["token"], {"type": "submit_item", "kind": "question", "text": f"Q{i}"})
    api.view_when(code, fac, lambda v: v["pending"]["question"] == 3, timeout=30)
    api.ok(code, fac, {"type": "reveal_items", "kind": "question"})
    items = api.view(code, fac)["items"]
    paper = next(i for i in items if i["text"] == "Who covers nights?")
    assert set(paper) == {"id", "kind", "text", "votes"}  # no author, nothing saying "paper"
    assert dev not in str(items)
    # No token opens Dev's place: the empty bearer and a made-up one are refused.
    for token in ("", "x" * 32):
        assert api.request("GET", f"/api/sessions/{code}", token=token or None).status_code == 401
    assert api.command(code, fac, {"type": "add_without_phone", "name": " "}).status_code == 422
