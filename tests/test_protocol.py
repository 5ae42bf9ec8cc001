"""The live protocol end to end: a real server process, real websocket clients, short turns.

Everything here goes through the public contract (the v1 contract:
docs/live-socket.md and /docs): HTTP to create and join, the live socket for the rest. Timed turns
last one second and tests wait for states rather than sleeping, so the whole file runs
in a few seconds. The ``server`` fixture may be any store mode; nothing here assumes one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from tests.support.client import (
    Api,
    LiveClient,
    View,
    all_see,
    close_all,
    person,
    speaker,
    spoken,
)
from tests.support.server import ServerProcess

T = TypeVar("T")

# Short presentations so a presenter's turn runs out on its own within the test.
ALS = {"format": "action-learning-set", "durations": {"presentation": 2}}
NAMES = ("Ana", "Ben", "Cleo", "Dev")


def run(coro: Awaitable[T], timeout: float = 45.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


@dataclass
class Room:
    """A session with its facilitator, screen and participants, each on a live socket."""

    server: ServerProcess
    api: Api
    code: str
    facilitator_token: str
    screen_token: str
    ids: dict[str, str]  # name -> participant id
    tokens: dict[str, str]  # name -> token
    fac: LiveClient
    screen: LiveClient
    phones: dict[str, LiveClient] = field(default_factory=dict)

    @property
    def sockets(self) -> list[LiveClient]:
        return [self.fac, self.screen, *self.phones.values()]

    def name_of(self, participant_id: str | None) -> str | None:
        return next((n for n, pid in self.ids.items() if pid == participant_id), None)

    async def everyone_sees(self, predicate, timeout: float = 5.0) -> list[View]:
        return await all_see(self.sockets, predicate, timeout)

    async def connect(self, token: str) -> LiveClient:
        return await LiveClient.connect(self.server.ws_base, self.code, token)

    async def close(self) -> None:
        await close_all(self.sockets)
        self.api.close()


async def open_room(server: ServerProcess, names: tuple[str, ...] = NAMES, **create: Any) -> Room:
    api = Api(server.base_url)
    created = api.create_session("Wednesday action learning", **create)
    code = created["code"]
    joined = {name: api.join(code, name) for name in names}
    fac = await LiveClient.connect(server.ws_base, code, created["facilitator_token"])
    screen = await LiveClient.connect(server.ws_base, code, created["screen_token"])
    room = Room(server, api, code, created["facilitator_token"], created["screen_token"],
                ids={n: j["participant_id"] for n, j in joined.items()},
                tokens={n: j["token"] for n, j in joined.items()}, fac=fac, screen=screen)
    for name in names:
        room.phones[name] = await room.connect(room.tokens[name])
    await room.everyone_sees(lambda v: len(v["participants"]) == len(names)
                             and all(p["connected"] and p["present"] for p in v["participants"]))
    return room


def round_turns(client: LiveClient) -> list[tuple[float, float]]:
    """(turn's ``duration_s``, round's ``duration_s``) for every round turn this socket has seen."""
    return [(f["view"]["turn"]["duration_s"], f["view"]["round"]["duration_s"]) for f in client.frames
            if f["type"] == "state" and f["view"]["turn"] and f["view"]["round"] is not None
            and f["view"]["turn"]["participant_id"] in f["view"]["round"]["order"]]


def test_a_whole_action_learning_set_runs_over_the_live_socket(server: ServerProcess) -> None:
    async def scenario() -> None:
        room = await open_room(server, **ALS)
        fac, phones, ids = room.fac, room.phones, room.ids
        try:
            first = room.fac.view
            assert first["status"] == "lobby" and first["phase"] is None and first["turn"] is None
            assert [p["id"] for p in first["phases"]] == [
                "check-in", "presentation", "clarifying", "questioning", "feedback", "action-planning", "check-out"]
            assert {p["name"] for p in first["participants"]} == set(NAMES)
            assert room.screen.view["me"]["role"] == "screen" and fac.view["me"]["role"] == "facilitator"
            assert phones["Ana"].view["me"]["participant_id"] == ids["Ana"]

            # -- lobby -> running: every socket gets the new state
            ack = await fac.apply({"type": "start"})
            views = await room.everyone_sees(lambda v: v["version"] >= ack["version"])
            for view in views:
                assert view["status"] == "running"
                assert view["phase"]["id"] == "check-in" and view["phase"]["index"] == 0
                assert view["turn"] is None and view["round"] is None
            await fac.refused({"type": "start"}, "conflict")

            await check_in_round(room)
            await presentation(room)
            await clarifying_queue(room)
            await questioning_round(room)
            await written_items(room)
            await action_planning(room)
            await check_out(room)

            # Every turn of every round had its round's time.
            turns = round_turns(fac)
            assert turns and all(turn == whole for turn, whole in turns)
        finally:
            await room.close()

    run(scenario())


async def check_in_round(room: Room) -> None:
    """A timed round: yield, auto-advance, pass ahead, pass in turn, and passes offered again."""
    fac, phones, ids = room.fac, room.phones, room.ids
    ack = await fac.apply({"type": "start_round", "seconds_per_turn": 1})
    view = fac.view
    order = view["round"]["order"]
    assert order == [ids[n] for n in NAMES] and view["round"]["position"] == 0  # a first round: joining order
    assert speaker(view) == order[0] and view["turn"]["duration_s"] == 1.0
    assert view["turn"]["ends_at"] == pytest.approx(view["turn"]["started_at"] + 1.0)
    await room.everyone_sees(lambda v: v["version"] >= ack["version"])
    await fac.refused({"type": "start_round", "seconds_per_turn": 1}, "conflict")
    first, second, third, fourth = (room.name_of(pid) for pid in order)

    await phones[fourth].apply({"type": "pass"})  # passing ahead of my turn
    await phones[second].refused({"type": "yield_turn"}, "conflict")  # not my floor
    await phones[first].apply({"type": "yield_turn"})  # ends early: the next turn starts at once
    assert speaker(phones[first].view) == ids[second]

    # Nobody sends anything: the server's timer moves the round on after one second.
    view = (await fac.wait_for_state(lambda v: speaker(v) == ids[third], timeout=4))["view"]
    assert spoken(view, ids[second]) == 1.0
    await phones[third].apply({"type": "pass"})  # passing my own turn
    # The fourth passed ahead, so the round reaches its end and offers both passes again.
    view = (await fac.wait_for_state(lambda v: speaker(v) == ids[fourth], timeout=4))["view"]
    assert view["round"] is not None and view["round"]["order"][-2:] == [ids[fourth], ids[third]]
    view = (await fac.wait_for_state(lambda v: speaker(v) == ids[third], timeout=4))["view"]
    assert spoken(view, ids[fourth]) == 1.0
    await phones[third].apply({"type": "yield_turn"})
    views = await room.everyone_sees(lambda v: v["round"] is None and v["turn"] is None)
    for view in views:
        assert spoken(view, ids[second]) == 1.0 and spoken(view, ids[fourth]) == 1.0
        assert spoken(view, ids[first]) < 1.0 and spoken(view, ids[third]) < 1.0
    await fac.refused({"type": "next_turn"}, "conflict")  # no round running


async def presentation(room: Room) -> None:
    """One presenter holds the floor for the phase's time; pause freezes it, resume and extend move it."""
    fac, phones, ids = room.fac, room.phones, room.ids
    await fac.apply({"type": "next_phase"})
    view = fac.view
    assert view["phase"]["id"] == "presentation" and view["turn"] is None
    before = spoken(view, ids["Ben"])
    assert before == 1.0  # Ben's check-in turn ran its full second

    await fac.apply({"type": "set_presenter", "participant_id": ids["Ben"]})
    view = fac.view
    turn, phase = view["turn"], view["phase"]
    assert turn["participant_id"] == ids["Ben"] and view["presenter_id"] == ids["Ben"]
    assert turn["ends_at"] == pytest.approx(phase["ends_at"], abs=0.01)  # the phase's remaining time
    duration = turn["duration_s"]
    assert 1.0 <= duration <= 2.0
    await phones["Ben"].refused({"type": "raise_hand"}, "conflict")  # the floor is his already

    await fac.apply({"type": "pause"})
    paused = fac.view
    assert paused["status"] == "paused" and paused["paused_at"] is not None
    await asyncio.sleep(0.3)  # wall time passes; the session's clocks do not
    assert spoken(room.api.view(room.code, room.facilitator_token), ids["Ben"]) == spoken(paused, ids["Ben"])
    await fac.refused({"type": "pause"}, "conflict")
    await fac.apply({"type": "resume"})
    resumed = fac.view
    moved = resumed["turn"]["ends_at"] - turn["ends_at"]
    assert resumed["status"] == "running" and moved >= 0.3
    assert resumed["phase"]["ends_at"] - phase["ends_at"] == pytest.approx(moved, abs=0.01)
    await fac.refused({"type": "resume"}, "conflict")

    await fac.apply({"type": "extend", "seconds": 1})
    assert fac.view["turn"]["ends_at"] == pytest.approx(resumed["turn"]["ends_at"] + 1.0)
    # The turn runs out on the server; Ben spoke for his turn plus the extension, not the pause.
    views = await room.everyone_sees(lambda v: v["turn"] is None, timeout=6)
    for view in views:
        assert abs(spoken(view, ids["Ben"]) - (before + duration + 1.0)) <= 0.051
    await fac.refused({"type": "extend", "seconds": 1}, "conflict")  # no turn to extend


async def clarifying_queue(room: Room) -> None:
    """Raised hands are called least-heard first; the presenter answers each question."""
    fac, phones, ids = room.fac, room.phones, room.ids
    await fac.apply({"type": "next_phase"})
    assert fac.view["phase"]["id"] == "clarifying"
    assert fac.view["answerer_id"] == ids["Ben"]
    ben = (await phones["Ben"].wait_for_state(lambda v: v["me"]["answering"]))["view"]
    assert ben["me"]["listening"] is False
    raised = ["Dev", "Cleo", "Ana"]
    for name in raised:
        await phones[name].apply({"type": "raise_hand"})
    await phones["Dev"].apply({"type": "raise_hand"})  # again: nothing changes
    view = (await fac.wait_for_state(lambda v: len(v["queue"]) == 3))["view"]
    expected = sorted((ids[n] for n in raised), key=lambda pid: (spoken(view, pid), raised.index(room.name_of(pid))))
    assert view["queue"] == expected and view["queue"][-1] == ids["Dev"]  # Dev has spoken most of the three
    assert all(person(view, ids[n])["hand_raised"] for n in raised)

    await fac.refused({"type": "give_turn", "participant_id": "nobody-here"}, "not_found")
    first = expected[0]
    await fac.apply({"type": "give_turn", "participant_id": first})
    views = await room.everyone_sees(lambda v: speaker(v) == first)
    for view in views:
        assert view["turn"]["duration_s"] == view["settings"]["queue_turn_s"] == 90.0
        assert view["queue"] == expected[1:] and not person(view, first)["hand_raised"]
    await phones[room.name_of(expected[1])].apply({"type": "lower_hand"})
    await room.everyone_sees(lambda v: v["queue"] == expected[2:])
    await phones[room.name_of(first)].apply({"type": "yield_turn"})
    # The question asked, the presenter has the floor to answer it.
    views = await room.everyone_sees(lambda v: speaker(v) == ids["Ben"])
    assert all(v["turn"]["source"] == "answer" for v in views)
    await phones["Ben"].apply({"type": "yield_turn"})
    await room.everyone_sees(lambda v: v["turn"] is None)
    await fac.apply({"type": "give_turn", "participant_id": ids["Ben"]})  # the facilitator gives him the floor
    assert fac.view["turn"]["source"] == "answer"
    await phones["Ben"].wait_for_state(lambda v: speaker(v) == ids["Ben"])
    await phones["Ben"].apply({"type": "yield_turn"})
    await room.everyone_sees(lambda v: v["turn"] is None)


async def questioning_round(room: Room) -> None:
    """A round of askers, the presenter answering each; a late joiner speaks last; a removed speaker forfeits."""
    fac, phones, ids = room.fac, room.phones, room.ids
    await fac.apply({"type": "next_phase"})
    # A raised hand belongs to its phase: Dev's went down with the clarifying questions.
    assert fac.view["phase"]["id"] == "questioning" and fac.view["queue"] == []
    assert (await phones["Dev"].wait_for_state(lambda v: v["me"]["hand_lowered"]))["view"]["queue"] == []
    # Two-second turns here: time enough for a late joiner to arrive while the first speaks.
    await fac.apply({"type": "start_round", "seconds_per_turn": 2})
    order = fac.view["round"]["order"]
    assert sorted(order) == sorted([ids["Ana"], ids["Cleo"], ids["Dev"]])  # Ben answers, he does not ask

    eve = room.api.join(room.code, "Eve")
    view = (await fac.wait_for_state(lambda v: any(p["id"] == eve["participant_id"] for p in v["participants"])))["view"]
    assert view["round"]["order"] == order + [eve["participant_id"]]  # a late joiner goes last
    eve_phone = await room.connect(eve["token"])

    await fac.apply({"type": "next_turn"})
    assert speaker(fac.view) == ids["Ben"] and fac.view["turn"]["source"] == "answer"  # he answers the question
    assert fac.view["round"]["next_id"] == order[1]
    await phones["Ben"].apply({"type": "yield_turn"})
    assert speaker(phones["Ben"].view) == order[1]
    await phones[room.name_of(order[1])].apply({"type": "yield_turn"})
    assert speaker(phones[room.name_of(order[1])].view) == ids["Ben"]  # the answer starts at once
    await phones["Ben"].apply({"type": "yield_turn"})
    assert speaker(phones["Ben"].view) == order[2]
    # order[2]'s turn and Ben's answer run out on the server, and Eve has the floor.
    await all_see([fac, eve_phone], lambda v: speaker(v) == eve["participant_id"], timeout=8)

    await fac.apply({"type": "remove_participant", "participant_id": eve["participant_id"]})
    views = await room.everyone_sees(lambda v: all(p["id"] != eve["participant_id"] for p in v["participants"]))
    for view in views:
        assert view["turn"] is None and view["round"] is None  # her turn is forfeit; the round is over
    assert (await eve_phone.closed())[0] == 4401
    assert room.api.request("GET", f"/api/sessions/{room.code}", eve["token"]).status_code == 401
    await fac.refused({"type": "remove_participant", "participant_id": eve["participant_id"]}, "not_found")


async def written_items(room: Room) -> None:
    """Anonymous items: receipts, retraction, the reveal threshold, and one vote each."""
    fac, phones, _ids = room.fac, room.phones, room.ids
    await fac.apply({"type": "next_phase"})
    assert fac.view["phase"]["id"] == "feedback"
    texts = {"Ana": "what would a good outcome look like for you?",
             "Cleo": "who else has a stake in this decision?",
             "Dev": "what have you already tried, and what happened?"}
    ack = await phones["Ana"].apply({"type": "submit_item", "kind": "question", "text": texts["Ana"]})
    assert isinstance(ack["item_id"], str) and isinstance(ack["receipt"], str) and len(ack["receipt"]) >= 16
    views = await room.everyone_sees(lambda v: v["pending"]["question"] == 1)
    assert all(v["items"] == [] for v in views)
    await fac.refused({"type": "reveal_items", "kind": "question"}, "conflict")  # 1 < threshold of 3

    feedback = await phones["Dev"].apply({"type": "submit_item", "kind": "feedback", "text": "you listened well"})
    await fac.wait_for_state(lambda v: v["pending"]["feedback"] == 1)
    await phones["Dev"].apply({"type": "retract_item", "receipt": feedback["receipt"]})
    await room.everyone_sees(lambda v: v["pending"] == {"question": 1, "feedback": 0})
    await phones["Dev"].refused({"type": "retract_item", "receipt": feedback["receipt"]}, "not_found")
    await phones["Cleo"].refused({"type": "retract_item", "receipt": ack["receipt"][::-1]}, "not_found")

    for name in ("Cleo", "Dev"):
        await phones[name].apply({"type": "submit_item", "kind": "question", "text": texts[name]})
    await fac.wait_for_state(lambda v: v["pending"]["question"] == 3)
    await fac.apply({"type": "reveal_items", "kind": "question"})
    views = await room.everyone_sees(lambda v: len(v["items"]) == 3)
    for view in views:
        assert view["pending"] == {"question": 0, "feedback": 0}
        assert all(set(item) == {"id", "kind", "text", "votes"} for item in view["items"])  # no author, ever
        assert sorted(i["text"] for i in view["items"]) == sorted(texts.values())
        assert all(i["kind"] == "question" and i["votes"] == 0 for i in view["items"])

    await phones["Cleo"].apply({"type": "submit_item", "kind": "feedback", "text": "the silence helped me think"})
    await fac.wait_for_state(lambda v: v["pending"]["feedback"] == 1)  # counted at a fold, then revealable
    await fac.refused({"type": "reveal_items", "kind": "feedback"}, "conflict")
    await fac.apply({"type": "reveal_items", "kind": "feedback", "force": True})
    items = (await fac.wait_for_state(lambda v: len(v["items"]) == 4))["view"]["items"]

    target, other = items[0]["id"], items[1]["id"]
    await phones["Ana"].apply({"type": "vote_item", "item_id": target})
    await phones["Ana"].refused({"type": "vote_item", "item_id": target}, "conflict")  # once per person
    await phones["Cleo"].apply({"type": "vote_item", "item_id": target})
    await phones["Ben"].apply({"type": "vote_item", "item_id": other})
    views = await room.everyone_sees(lambda v: {i["id"]: i["votes"] for i in v["items"]}.get(target) == 2)
    for view in views:
        assert {i["id"]: i["votes"] for i in view["items"]}[other] == 1
    assert phones["Ana"].view["me"]["voted_item_ids"] == [target]
    assert phones["Dev"].view["me"]["voted_item_ids"] == []
    assert "voted_item_ids" not in fac.view["me"] and "voted_item_ids" not in room.screen.view["me"]
    await phones["Dev"].refused({"type": "vote_item", "item_id": "no-such-item"}, "not_found")

    await fac.apply({"type": "hide_item", "item_id": other})
    await room.everyone_sees(lambda v: [i["id"] for i in v["items"]].count(other) == 0 and len(v["items"]) == 3)
    await phones["Dev"].refused({"type": "vote_item", "item_id": other}, "not_found")


async def action_planning(room: Room) -> None:
    """Action plans are attributed and only their author edits or removes them."""
    fac, phones, ids = room.fac, room.phones, room.ids
    await fac.apply({"type": "next_phase"})
    assert fac.view["phase"]["id"] == "action-planning"
    await fac.apply({"type": "set_presenter", "participant_id": ids["Ben"]})
    assert speaker(fac.view) == ids["Ben"]

    ack = await phones["Ben"].apply({"type": "add_action", "text": "book a meeting with the ward manager",
                                     "due": "2030-01-31"})
    mine = ack["action_id"]
    assert isinstance(mine, str)
    views = await room.everyone_sees(lambda v: len(v["actions"]) == 1)
    for view in views:
        assert view["actions"] == [{"id": mine, "participant_id": ids["Ben"],
                                    "text": "book a meeting with the ward manager", "due": "2030-01-31"}]
    await phones["Ben"].apply({"type": "edit_action", "action_id": mine, "text": "ask the ward manager for a meeting"})
    await room.everyone_sees(lambda v: v["actions"][0]["text"] == "ask the ward manager for a meeting")
    await phones["Ana"].refused({"type": "edit_action", "action_id": mine, "text": "not hers"}, "forbidden")
    await phones["Ana"].refused({"type": "remove_action", "action_id": mine}, "forbidden")
    await phones["Ana"].refused({"type": "add_action", "text": "plan", "due": "someday"}, "invalid")
    theirs = (await phones["Ana"].apply({"type": "add_action", "text": "write up what I learned"}))["action_id"]
    await phones["Ben"].apply({"type": "remove_action", "action_id": mine})
    views = await room.everyone_sees(lambda v: [a["id"] for a in v["actions"]] == [theirs])
    assert views[0]["actions"][0] == {"id": theirs, "participant_id": ids["Ana"],
                                      "text": "write up what I learned", "due": None}
    await phones["Ben"].refused({"type": "remove_action", "action_id": mine}, "not_found")
    await phones["Ben"].apply({"type": "yield_turn"})
    await room.everyone_sees(lambda v: v["turn"] is None)


async def check_out(room: Room) -> None:
    """A round sharing the phase's time equally; a participant leaves; the facilitator closes."""
    fac, phones, ids = room.fac, room.phones, room.ids
    await fac.refused({"type": "goto_phase", "phase_id": "no-such-phase"}, "invalid")
    await fac.apply({"type": "goto_phase", "phase_id": "check-out"})
    view = fac.view
    assert view["phase"]["id"] == "check-out" and view["phase"]["index"] == 6
    await fac.apply({"type": "start_round"})
    view = fac.view
    share = (view["phase"]["ends_at"] - view["phase"]["started_at"]) / 4  # four present people share the phase
    assert view["round"]["duration_s"] == view["turn"]["duration_s"] == pytest.approx(share, abs=0.2)

    leaver = room.name_of(view["round"]["order"][0])  # the current speaker leaves mid-turn
    await phones[leaver].apply({"type": "leave"})
    views = await room.everyone_sees(lambda v: not person(v, ids[leaver])["present"])
    for view in views:
        assert person(view, ids[leaver])["connected"]  # still on the socket, just not taking part
        assert speaker(view) not in (None, ids[leaver])  # the floor moved on at once
        assert view["turn"]["duration_s"] == view["round"]["duration_s"]
    await phones[leaver].refused({"type": "raise_hand"}, "conflict")

    ack = await fac.apply({"type": "close"})
    views = await room.everyone_sees(lambda v: v["version"] >= ack["version"])
    for view in views:
        assert view["status"] == "closed" and view["turn"] is None and view["round"] is None
    await phones["Ana"].refused({"type": "raise_hand"}, "conflict")
    await fac.refused({"type": "next_phase"}, "conflict")
    answer = room.api.request("POST", f"/api/sessions/{room.code}/participants", json={"name": "Fay"})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "conflict"


def test_a_round_finishes_on_the_server_with_every_client_gone(server: ServerProcess) -> None:
    async def scenario() -> None:
        room = await open_room(server, names=("Ana", "Ben", "Cleo"))
        try:
            await room.fac.apply({"type": "start"})
            await room.fac.apply({"type": "start_round", "seconds_per_turn": 1})
            frame = room.fac.state
            turns = len(frame["view"]["round"]["order"])
            finish_in = frame["view"]["turn"]["ends_at"] + (turns - 1) * 1.0 - frame["server_time"]
            await room.everyone_sees(lambda v: v["round"] is not None)
            await close_all(room.sockets)

            await asyncio.sleep(finish_in + 0.8)  # nobody is connected while the round runs out
            screen = await room.connect(room.screen_token)
            view = screen.view  # the very first frame after reconnecting: the round is over
            assert view["round"] is None and view["turn"] is None and view["status"] == "running"
            for pid in room.ids.values():  # everyone spoke their second; all were gone, none left
                assert person(view, pid) == {"id": pid, "name": room.name_of(pid), "present": True,
                                             "connected": False, "spoken_s": 1.0, "hand_raised": False}

            phone = await room.connect(room.tokens["Ben"])
            await all_see([screen, phone], lambda v: person(v, room.ids["Ben"])["connected"])
            assert phone.view["me"]["participant_id"] == room.ids["Ben"]
            room.fac, room.screen, room.phones = screen, phone, {}
        finally:
            await room.close()

    run(scenario())


def test_a_resent_command_id_is_applied_once_and_acknowledged_twice(server: ServerProcess) -> None:
    async def scenario() -> None:
        room = await open_room(server, names=("Ana", "Ben"))
        try:
            await room.fac.apply({"type": "start"})
            submit = {"type": "submit_item", "kind": "question", "text": "what matters most to you here?"}
            first = await room.phones["Ana"].apply(submit, id="ana-q-1")
            assert set(first) == {"type", "id", "version", "item_id", "receipt"}
            await room.fac.wait_for_state(lambda v: v["pending"]["question"] == 1)

            await room.phones["Ana"].close()  # the phone drops and comes back
            # Once the room has seen it go: else its going and coming back race the resend below.
            await room.fac.wait_for_state(lambda v: not person(v, room.ids["Ana"])["connected"])
            room.phones["Ana"] = phone = await room.connect(room.tokens["Ana"])
            await phone.wait_for_state(lambda v: person(v, room.ids["Ana"])["connected"])
            again = await phone.send_command(submit, id="ana-q-1")
            assert again == first  # the same ack, item id and receipt
            await asyncio.sleep(1.0)  # several folds: a second item would have been counted by now
            await phone.probe()
            assert room.api.view(room.code, room.facilitator_token)["pending"]["question"] == 1  # applied once

            # The id is Ana's: the same id from Ben is a different command.
            other = await room.phones["Ben"].apply(submit, id="ana-q-1")
            assert other["item_id"] != first["item_id"] and other["receipt"] != first["receipt"]
            await room.everyone_sees(lambda v: v["pending"]["question"] == 2)

            # A facilitator's extend, resent after a reconnect, moves the deadline once.
            await room.fac.apply({"type": "give_turn", "participant_id": room.ids["Ben"]})
            ends_at = room.fac.view["turn"]["ends_at"]
            extend = await room.fac.apply({"type": "extend", "seconds": 30}, id="extend-1")
            await room.fac.close()
            room.fac = await room.connect(room.facilitator_token)
            assert await room.fac.send_command({"type": "extend", "seconds": 30}, id="extend-1") == extend
            await room.fac.probe()
            assert room.fac.view["turn"]["ends_at"] == pytest.approx(ends_at + 30)

            # Over HTTP, the Idempotency-Key header does the same.
            body = {"type": "submit_item", "kind": "feedback", "text": "thank you for the space"}
            answers = [room.api.command(room.code, room.tokens["Ben"], body, idempotency_key="ben-fb-1")
                       for _ in range(2)]
            assert [a.status_code for a in answers] == [200, 200]
            assert answers[0].json() == answers[1].json() and set(answers[0].json()) == {"version", "item_id", "receipt"}
            views = await room.everyone_sees(lambda v: v["pending"]["feedback"] == 1)
            assert all(v["pending"] == {"question": 2, "feedback": 1} for v in views)
            assert room.api.view(room.code, room.facilitator_token)["pending"] == {"question": 2, "feedback": 1}
        finally:
            await room.close()

    run(scenario())


def test_every_socket_of_a_session_sees_each_change_and_no_other_sessions(server: ServerProcess) -> None:
    async def scenario() -> None:
        room = await open_room(server, names=("Ana", "Ben"))
        other = await open_room(server, names=("Zoe",))
        try:
            before = other.fac.version
            for command in ({"type": "start"}, {"type": "give_turn", "participant_id": room.ids["Ana"]}):
                ack = await room.fac.apply(command)
                views = await room.everyone_sees(lambda v: v["version"] >= ack["version"])
                assert len({json.dumps({k: v for k, v in view.items() if k != "me"}, sort_keys=True)
                            for view in views}) == 1  # the same shared view on every socket
            await room.phones["Ben"].apply({"type": "raise_hand"})
            await room.everyone_sees(lambda v: v["queue"] == [room.ids["Ben"]])
            assert await other.fac.collect(quiet=0.2) == [] and other.fac.version == before
        finally:
            await room.close()
            await other.close()

    run(scenario())
