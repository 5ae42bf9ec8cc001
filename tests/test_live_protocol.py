"""The public contract end to end: a real server process, real websocket clients.

These tests use only what ../shared/CONTRACT.md promises, so they also stand for a client
written from the contract alone.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.live_client import Api, Live, speaker
from tests.support.server import ServerProcess

SHORT = {"presentation": 2, "action-planning": 2}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def spoken(view: dict, pid: str) -> float:
    return next(p["spoken_s"] for p in view["participants"] if p["id"] == pid)


async def _session(server: ServerProcess, names=("Ana", "Ben", "Cleo", "Dev"), **create):
    api = Api(server)
    created = api.create(**create)
    people = [api.join(created["code"], n) for n in names]
    fac = await Live.connect(server, created["code"], created["facilitator_token"])
    phones = [await Live.connect(server, created["code"], p["token"]) for p in people]
    return api, created, people, fac, phones


def test_a_whole_action_learning_set_runs_over_the_live_socket(server: ServerProcess) -> None:
    async def scenario() -> None:
        api, created, people, fac, phones = await _session(server, format="action-learning-set", durations=SHORT)
        ids = [p["participant_id"] for p in people]
        everyone = [fac, *phones]

        # Check-in: a timed round of one-second turns that moves on by itself.
        assert (await fac.command({"type": "start"}))["type"] == "ack"
        await fac.command({"type": "start_round", "seconds_per_turn": 1})
        view = await phones[0].wait_for_state(lambda v: v["round"] is not None)
        assert view["round"]["order"] == ids and speaker(view) == ids[0]
        assert view["turn"]["duration_s"] == 1
        started = view["version"]
        await phones[3].command({"type": "pass"})  # passes in advance; offered again at the end
        await phones[3].wait_for_state(lambda v: speaker(v) == ids[3], timeout=8)
        await phones[3].command({"type": "pass"})  # ...and passes again: once is the limit
        final = await phones[1].wait_for_state(lambda v: v["version"] > started and v["round"] is None)
        order = [speaker(f["view"]) for f in phones[1].frames if f["type"] == "state" and f["version"] >= started]
        assert [s for s in dict.fromkeys(order) if s] == ids
        assert [spoken(final, pid) for pid in ids] == [1.0, 1.0, 1.0, 0.0]
        for live in everyone:  # every socket ends on the same final state
            await live.wait_for_state(lambda v: v["version"] >= final["version"])

        # Case presentation: the presenter holds the floor for the phase's time, then it ends.
        await fac.command({"type": "next_phase"})
        ack = await fac.command({"type": "set_presenter", "participant_id": ids[0]})
        assert ack["type"] == "ack"
        view = await phones[2].wait_for_state(lambda v: speaker(v) == ids[0])
        assert view["presenter_id"] == ids[0] and 1.5 < view["turn"]["duration_s"] <= 2
        await phones[2].wait_for_state(lambda v: v["turn"] is None)

        # Clarifying questions: the queue calls the least heard first; the presenter listens.
        await fac.command({"type": "next_phase"})
        refused = await phones[0].command({"type": "raise_hand"})
        assert refused["type"] == "error" and refused["error"]["code"] == "conflict"
        await phones[1].command({"type": "raise_hand"})
        await phones[3].command({"type": "raise_hand"})
        view = await fac.wait_for_state(lambda v: len(v["queue"]) == 2)
        assert view["queue"] == [ids[3], ids[1]]  # Dev passed, so has spoken least
        await fac.command({"type": "give_turn", "participant_id": ids[3]})
        view = await fac.wait_for_state(lambda v: speaker(v) == ids[3])
        assert view["turn"]["duration_s"] == 90 and view["queue"] == [ids[1]]
        ends = view["turn"]["ends_at"]
        await fac.command({"type": "extend", "seconds": 30})
        view = await fac.wait_for_state(lambda v: v["turn"]["ends_at"] > ends)
        assert view["turn"]["ends_at"] == pytest.approx(ends + 30)
        await fac.command({"type": "pause"})
        paused = await phones[3].wait_for_state(lambda v: v["status"] == "paused")
        await asyncio.sleep(0.3)
        assert api.view(created["code"], people[3]["token"])["participants"][3]["spoken_s"] == spoken(paused, ids[3])
        await fac.command({"type": "resume"})
        resumed = await phones[3].wait_for_state(lambda v: v["status"] == "running")
        assert resumed["turn"]["ends_at"] >= paused["turn"]["ends_at"] + 0.3
        await phones[3].command({"type": "yield_turn"})
        await fac.wait_for_state(lambda v: v["turn"] is None)

        # Questions round: the presenter has no turn in it.
        await fac.command({"type": "next_phase"})
        await fac.command({"type": "start_round", "seconds_per_turn": 1})
        view = await fac.wait_for_state(lambda v: v["round"] is not None)
        assert ids[0] not in view["round"]["order"] and len(view["round"]["order"]) == 3
        await fac.wait_for_state(lambda v: v["round"] is None)

        # Written questions and feedback: anonymous, revealed together.
        await fac.command({"type": "next_phase"})
        receipts = []
        for phone, text in zip(phones, ["What did you need?", "What surprised you?", "Who else could help?", "Oops"]):
            ack = await phone.command({"type": "submit_item", "kind": "question", "text": text})
            receipts.append(ack["receipt"])
        assert (await phones[3].command({"type": "retract_item", "receipt": receipts[3]}))["type"] == "ack"
        await phones[1].command({"type": "submit_item", "kind": "feedback", "text": "You were brave to bring this"})
        view = await fac.wait_for_state(lambda v: v["pending"] == {"question": 3, "feedback": 1})
        assert view["items"] == []
        small = await fac.command({"type": "reveal_items", "kind": "feedback"})
        assert small["type"] == "error" and small["error"]["code"] == "conflict"
        await fac.command({"type": "reveal_items", "kind": "feedback", "force": True})
        await fac.command({"type": "reveal_items", "kind": "question"})
        view = await phones[2].wait_for_state(lambda v: len(v["items"]) == 4)
        assert all(set(item) == {"id", "kind", "text", "votes"} for item in view["items"])
        question = next(i for i in view["items"] if i["kind"] == "question")
        assert (await phones[2].command({"type": "vote_item", "item_id": question["id"]}))["type"] == "ack"
        again = await phones[2].command({"type": "vote_item", "item_id": question["id"]})
        assert again["error"]["code"] == "conflict"
        await phones[0].command({"type": "vote_item", "item_id": question["id"]})
        view = await fac.wait_for_state(lambda v: any(i["votes"] == 2 for i in v["items"]))
        assert "voted_item_ids" not in view["me"]

        # Action planning: attributed, and only the author may change an action.
        await fac.command({"type": "next_phase"})
        added = await phones[0].command({"type": "add_action", "text": "Ask for supervision", "due": "2026-12-01"})
        action_id = added["action_id"]
        assert (await phones[1].command({"type": "remove_action", "action_id": action_id}))["error"]["code"] == "forbidden"
        await phones[0].command({"type": "edit_action", "action_id": action_id, "text": "Book supervision"})
        view = await phones[3].wait_for_state(lambda v: v["actions"] and v["actions"][0]["text"] == "Book supervision")
        assert view["actions"] == [{"id": action_id, "participant_id": ids[0], "text": "Book supervision", "due": "2026-12-01"}]

        # Check-out: someone removed mid-turn forfeits it and the round goes on.
        await fac.command({"type": "next_phase"})
        await fac.command({"type": "start_round", "seconds_per_turn": 30})
        first = speaker(await fac.wait_for_state(lambda v: v["round"] is not None))
        await fac.command({"type": "remove_participant", "participant_id": first})
        view = await fac.wait_for_state(lambda v: speaker(v) not in (None, first))
        assert first not in [p["id"] for p in view["participants"]]
        await fac.command({"type": "close"})
        closed = await phones[1].wait_for_state(lambda v: v["status"] == "closed")
        assert closed["turn"] is None
        late = await phones[1].command({"type": "raise_hand"})
        assert late["error"]["code"] == "conflict"
        for live in everyone:
            await live.close()

    run(scenario())


def test_a_round_moves_on_with_every_client_gone(server: ServerProcess) -> None:
    async def scenario() -> None:
        api, created, people, fac, phones = await _session(server, names=("Ana", "Ben", "Cleo"))
        await fac.command({"type": "start"})
        await fac.command({"type": "start_round", "seconds_per_turn": 1})
        for live in [fac, *phones]:
            await live.close()
        await asyncio.sleep(3.6)
        view = api.view(created["code"], created["facilitator_token"])
        assert view["round"] is None and view["turn"] is None
        assert [p["spoken_s"] for p in view["participants"]] == [1.0, 1.0, 1.0]
        assert not any(p["connected"] for p in view["participants"])
        back = await Live.connect(server, created["code"], people[0]["token"])
        assert back.state["view"]["round"] is None
        await back.close()

    run(scenario())


def test_a_resent_command_id_is_applied_once_and_acknowledged_twice(server: ServerProcess) -> None:
    async def scenario() -> None:
        api, created, people, fac, phones = await _session(server, names=("Ana",))
        await fac.command({"type": "start"})
        command = {"type": "submit_item", "kind": "question", "text": "What would help?"}
        first = await phones[0].command(command, command_id="tap-1")
        await phones[0].close()  # the phone sleeps before it sees the ack...
        phone = await Live.connect(server, created["code"], people[0]["token"])
        second = await phone.command(command, command_id="tap-1")  # ...and resends on waking
        assert first == second and "receipt" in first
        third = await phone.command(command, command_id="tap-2")
        assert third["version"] > first["version"]
        view = api.view(created["code"], created["facilitator_token"])
        assert view["pending"]["question"] == 2
        await fac.close()
        await phone.close()

    run(scenario())


def test_http_commands_are_idempotent_with_a_key(server: ServerProcess) -> None:
    api = Api(server)
    created = api.create()
    person = api.join(created["code"], "Ana")
    api.ok(created["code"], created["facilitator_token"], {"type": "start"})
    command = {"type": "add_action", "text": "Rest"}
    one = api.send(created["code"], person["token"], command, key="k1").json()
    two = api.send(created["code"], person["token"], command, key="k1").json()
    assert one == two
    assert len(api.view(created["code"], person["token"])["actions"]) == 1


def test_every_role_sees_its_own_view(server: ServerProcess) -> None:
    api = Api(server)
    created = api.create()
    person = api.join(created["code"], "")
    assert api.view(created["code"], created["facilitator_token"])["me"]["role"] == "facilitator"
    assert api.view(created["code"], created["screen_token"])["me"]["role"] == "screen"
    mine = api.view(created["code"], person["token"])
    assert mine["me"] == {**mine["me"], "role": "participant", "participant_id": person["participant_id"]}
    assert mine["participants"][0]["name"] == "Guest 1"  # anonymous joiners get a guest name
    assert set(mine) >= {"code", "title", "format", "version", "status", "phases", "phase", "participants",
                         "turn", "round", "queue", "items", "pending", "actions", "me"}
    assert json.loads(json.dumps(mine)) == mine
