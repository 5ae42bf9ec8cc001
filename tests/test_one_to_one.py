"""A one-to-one session over the real server, in both store modes: two people, the guided
questions in turn, agreed actions with a date to come back to them, a shared record the two
of them (and nobody else) download, the actions carried to their next meeting, and the
same CPD record."""

from __future__ import annotations

import httpx
import pytest

from tests.support.server import ServerProcess
from tests.test_groups_http import Room, auth, new_group

QUESTIONS = ["How did the actions you agreed last time go?", "What happened?", "What was hard?",
             "What would you do differently?", "What have you learned?",
             "What will you do, and by when shall we come back to it?"]


@pytest.fixture()
def http(server: ServerProcess):
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def pair_session(http: httpx.Client, pair: dict) -> Room:
    created = http.post(f"/api/groups/{pair['group_id']}/sessions", headers=auth(pair["group_key"]),
                        json={"title": "Supervision", "format": "one-to-one"})
    assert created.status_code == 201, created.text
    return Room(http, created.json())


def test_a_one_to_one_admits_two_shares_its_record_between_them_and_carries_their_actions(http: httpx.Client) -> None:
    pair = new_group(http, "Supervision: two of us")
    room = pair_session(http, pair)
    codes = {name: room.join(name)["member_code"] for name in ("Sam", "Jo")}
    third = http.post(f"/api/sessions/{room.code}/participants", json={"name": "Alex"})
    assert third.status_code == 409 and "admits 2 people" in third.json()["error"]["message"]
    assert http.get(f"/api/groups/{pair['group_id']}", headers=auth(pair["group_key"])).json()["members"] == 2

    # The guided questions, one phase at a time, each on both phones; each speaks in turn.
    room.send({"type": "start"})
    # Nothing written here could be anonymous (the other one would know): the phones offer no
    # anonymous writing, and the server refuses it.
    assert room.view("Jo")["anonymous_writing"] is False
    anon = http.post(f"/api/sessions/{room.code}/commands", headers=auth(room.people["Jo"]["token"]),
                     json={"type": "submit_item", "kind": "feedback", "text": "You interrupt me"})
    assert anon.status_code == 409 and "no anonymous writing" in anon.json()["error"]["message"]
    assert room.view("Sam")["pending"] == {"question": 0, "feedback": 0}
    seen = []
    for n in range(len(QUESTIONS)):
        view = room.view("Jo")
        seen.append(view["phase"]["prompt"])
        if view["phase"]["kind"] == "round":
            room.send({"type": "start_round", "seconds_per_turn": 60})
            turns = {room.view("Sam")["turn"]["participant_id"]}
            room.send({"type": "next_turn"})
            turns.add(room.view("Sam")["turn"]["participant_id"])
            assert turns == {room.pid("Sam"), room.pid("Jo")}, "both answer the question in turn"
        if n < len(QUESTIONS) - 1:
            room.send({"type": "next_phase"})
    assert seen == QUESTIONS

    # Agreed actions, each with a date to come back to it, carried to their next meeting.
    a = room.send({"type": "add_action", "text": "Book the team debrief", "due": "2027-01-10"}, "Sam")
    b = room.send({"type": "add_action", "text": "Read the lone-working policy", "due": "2027-01-10"}, "Jo")
    room.send({"type": "carry_action", "action_id": a["action_id"], "carry": True}, "Sam")
    room.send({"type": "carry_action", "action_id": b["action_id"], "carry": True}, "Jo")
    room.send({"type": "close"})

    # The shared record: both have both agreed actions; the console's copy has none.
    for name in ("Sam", "Jo"):
        md = http.get(f"/api/sessions/{room.code}/summary.md", headers=auth(room.people[name]["token"])).text
        assert "## Agreed actions, and when we come back to them" in md
        assert "Book the team debrief (by 2027-01-10)" in md and "Read the lone-working policy (by 2027-01-10)" in md
        page = http.get(f"/api/sessions/{room.code}/summary.html", headers=auth(room.people[name]["token"])).text
        assert "Agreed actions, and when we come back to them" in page and "Book the team debrief" in page
    console = http.get(f"/api/sessions/{room.code}/summary.md", headers=auth(room.created["facilitator_token"])).text
    assert "Book the team debrief" not in console and "when we come back to them" not in console
    screen = http.get(f"/api/sessions/{room.code}/summary.md", headers=auth(room.created["screen_token"]))
    assert screen.status_code == 403

    # It feeds the same CPD record, as a one-to-one.
    [entry] = http.get(f"/api/groups/{pair['group_id']}/cpd", headers=auth(codes["Jo"])).json()["entries"]
    assert entry["one_to_one"] is True and entry["format"] == "One-to-one reflective session"
    assert entry["swe"][0]["paragraphs"] == ["Peer reflection: one-to-one supervision or mentoring"]
    assert entry["actions"][0]["text"] == "Read the lone-working policy" and "debrief" not in str(entry)

    # Their next meeting: each brings back what they agreed, and says how it went first.
    again = pair_session(http, pair)
    again.join("Sam", codes["Sam"])
    again.join("Jo", codes["Jo"])
    assert [c["text"] for c in again.view("Sam")["me"]["carried"]] == ["Book the team debrief"]
    assert [c["text"] for c in again.view("Jo")["me"]["carried"]] == ["Read the lone-working policy"]
    assert again.view("Jo")["phase"] is None or again.view("Jo")["phase"]["id"] == "last-time"
    late = http.post(f"/api/sessions/{again.code}/participants", json={"name": "Alex"})
    assert late.status_code == 409
