"""Bad input for every endpoint and frame: the contract's error, and every session intact."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.support.live_client import Api, Live
from tests.support.server import ServerProcess

TEN_MB = b'{"title": "' + b"x" * (10 << 20) + b'"}'


@pytest.fixture()
def room(server: ServerProcess):
    """A running session with one participant, and a bystander session that must not notice anything."""
    api = Api(server)
    created = api.create(title="Room")
    person = api.join(created["code"], "Ana")
    api.ok(created["code"], created["facilitator_token"], {"type": "start"})
    other = api.create(title="Bystander")
    api.join(other["code"], "Zed")
    before = (api.view(created["code"], created["facilitator_token"]), api.view(other["code"], other["facilitator_token"]))
    yield api, created, person
    after = (api.view(created["code"], created["facilitator_token"]), api.view(other["code"], other["facilitator_token"]))
    assert after[1] == before[1], "another session changed"
    assert after[0]["version"] >= before[0]["version"] and after[0]["status"] == "running"
    assert api.ok(created["code"], person["token"], {"type": "raise_hand"})["version"] > after[0]["version"]


def error_of(answer: httpx.Response, status: int, code: str | None = None) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert "Traceback" not in answer.text
    if code:
        assert body["error"]["code"] == code
    return body["error"]["message"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "title"),
    ({"title": 42}, "title"),
    ({"title": ""}, "title"),
    ({"title": "x" * 500}, "title"),
    ({"title": "t", "format": "no-such-format"}, "format"),
    ({"title": "t", "durations": {"check-in": "ten"}}, "durations"),
    ({"title": "t", "durations": {"check-in": -5}}, "durations"),
    ({"title": "t", "durations": {"nope": 60}}, "nope"),
    ([1, 2, 3], ""),
])
def test_creating_a_session_refuses_bad_bodies(server: ServerProcess, body, field: str) -> None:
    message = error_of(httpx.post(f"{server.base_url}/api/sessions", json=body), 422, "invalid")
    assert field in message


def test_malformed_json_and_huge_bodies_are_refused_on_every_post(room, server: ServerProcess) -> None:
    api, created, person = room
    code = created["code"]
    for path in ("/api/sessions", f"/api/sessions/{code}/participants", f"/api/sessions/{code}/commands"):
        headers = {"Authorization": f"Bearer {created['facilitator_token']}", "Content-Type": "application/json"}
        error_of(api.http.post(path, content=b"{not json", headers=headers), 422, "invalid")
        error_of(api.http.post(path, content=TEN_MB, headers=headers), 422, "invalid")


@pytest.mark.parametrize("name", [42, None, "n" * 200])
def test_joining_refuses_bad_names(room, name) -> None:
    api, created, _ = room
    error_of(api.http.post(f"/api/sessions/{created['code']}/participants", json={"name": name}), 422, "invalid")


@pytest.mark.parametrize("code", ["ZZZZZZ", "abc", "A" * 300, "%00", "22222"])
def test_unknown_session_codes_are_404_everywhere(server: ServerProcess, code: str) -> None:
    http = httpx.Client(base_url=server.base_url)
    error_of(http.post(f"/api/sessions/{code}/participants", json={"name": "x"}), 404, "not_found")
    error_of(http.get(f"/api/sessions/{code}", headers={"Authorization": "Bearer x"}), 404, "not_found")
    error_of(http.post(f"/api/sessions/{code}/commands", json={"type": "start"},
                       headers={"Authorization": "Bearer x"}), 404, "not_found")


def test_joining_a_closed_session_is_409(room) -> None:
    api, _, _ = room
    closed = api.create(title="Done")
    api.ok(closed["code"], closed["facilitator_token"], {"type": "close"})
    error_of(api.http.post(f"/api/sessions/{closed['code']}/participants", json={"name": "x"}), 409, "conflict")


@pytest.mark.parametrize("auth", [None, "Bearer", "Bearer nope", "Basic abc", "Bearer " + "x" * 5000])
def test_missing_or_wrong_tokens_are_401(room, auth) -> None:
    api, created, _ = room
    headers = {"Authorization": auth} if auth else {}
    error_of(api.http.get(f"/api/sessions/{created['code']}", headers=headers), 401, "unauthorized")
    error_of(api.http.post(f"/api/sessions/{created['code']}/commands", json={"type": "close"}, headers=headers),
             401, "unauthorized")


@pytest.mark.parametrize("command", [
    {"type": "start"}, {"type": "close"}, {"type": "next_phase"}, {"type": "reveal_items", "kind": "question"},
    {"type": "remove_participant", "participant_id": "x"}, {"type": "expire_turn"},
])
def test_a_participant_token_cannot_run_the_session(room, command) -> None:
    api, created, person = room
    answer = api.send(created["code"], person["token"], command)
    assert answer.status_code in (403, 422)
    error_of(answer, answer.status_code, "forbidden" if answer.status_code == 403 else "invalid")


def test_the_screen_token_is_read_only(room) -> None:
    api, created, _ = room
    error_of(api.send(created["code"], created["screen_token"], {"type": "next_phase"}), 403, "forbidden")
    error_of(api.send(created["code"], created["screen_token"], {"type": "raise_hand"}), 403, "forbidden")


@pytest.mark.parametrize("command", [
    "raise_hand", [], {}, {"type": None}, {"type": "fly"}, {"type": "extend", "seconds": "lots"},
    {"type": "extend", "seconds": 0}, {"type": "extend", "seconds": 99999}, {"type": "extend"},
    {"type": "start_round", "seconds_per_turn": float("inf")},
    {"type": "submit_item", "kind": "rant", "text": "x"}, {"type": "submit_item", "kind": "question", "text": ""},
    {"type": "submit_item", "kind": "question", "text": "x" * 5000},
    {"type": "add_action", "text": "x", "due": "someday"}, {"type": "goto_phase", "phase_id": "nowhere"},
    {"type": "give_turn", "participant_id": 7},
])
def test_malformed_commands_are_422(room, command) -> None:
    api, created, person = room
    token = created["facilitator_token"] if isinstance(command, dict) and command.get("type") in (
        "extend", "start_round", "goto_phase", "give_turn") else person["token"]
    answer = api.http.post(f"/api/sessions/{created['code']}/commands",
                           content=json.dumps(command, allow_nan=True), headers={"Authorization": f"Bearer {token}",
                                                                                 "Content-Type": "application/json"})
    error_of(answer, 422, "invalid")


@pytest.mark.parametrize(("command", "status", "code"), [
    ({"type": "next_turn"}, 409, "conflict"),
    ({"type": "start"}, 409, "conflict"),
    ({"type": "resume"}, 409, "conflict"),
    ({"type": "extend", "seconds": 10}, 409, "conflict"),
    ({"type": "hide_item", "item_id": "nope"}, 404, "not_found"),
    ({"type": "give_turn", "participant_id": "nobody"}, 404, "not_found"),
    ({"type": "reveal_items", "kind": "question"}, 409, "conflict"),
])
def test_commands_that_do_not_fit_the_state_are_refused(room, command, status: int, code: str) -> None:
    api, created, _ = room
    error_of(api.send(created["code"], created["facilitator_token"], command), status, code)


def test_a_round_cannot_start_twice(room) -> None:
    api, created, _ = room
    api.ok(created["code"], created["facilitator_token"], {"type": "start_round", "seconds_per_turn": 60})
    error_of(api.send(created["code"], created["facilitator_token"], {"type": "start_round"}), 409, "conflict")
    api.ok(created["code"], created["facilitator_token"], {"type": "next_turn"})


def test_unknown_routes_and_methods_answer_in_the_error_shape(server: ServerProcess) -> None:
    error_of(httpx.get(f"{server.base_url}/api/nothing-here"), 404, "not_found")
    error_of(httpx.delete(f"{server.base_url}/api/formats"), 405)


def test_the_live_socket_refuses_bad_tokens_and_unknown_sessions(room, server: ServerProcess) -> None:
    _, created, _ = room

    async def close_code(url: str) -> int:
        async with websockets.connect(url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            return closed.value.rcvd.code

    assert asyncio.run(close_code(server.live_url(created["code"], "stale-token"))) == 4401
    assert asyncio.run(close_code(server.live_url(created["code"], ""))) == 4401
    assert asyncio.run(close_code(server.live_url("ZZZZZZ", created["facilitator_token"]))) == 4404


JUNK_FRAMES = [
    "", "not json", "[]", "42", "null", '"command"', "{}", '{"type": "command"}',
    '{"type": "command", "id": 5, "command": {"type": "raise_hand"}}',
    '{"type": "command", "id": "", "command": {"type": "raise_hand"}}',
    '{"type": "command", "id": "' + "i" * 500 + '", "command": {"type": "raise_hand"}}',
    '{"type": "hello", "id": "h1"}', '{"type": "command", "id": "c1"}',
    '{"type": "command", "id": "c2", "command": "raise_hand"}',
    '{"type": "command", "id": "c3", "command": {"type": "start"}}',
    '{"type": "command", "id": "c4", "command": {"type": "submit_item", "kind": "question", "text": 12}}',
    "\x00\xff", "{" * 10000,
]


def test_junk_frames_get_error_frames_and_the_socket_stays_open(room, server: ServerProcess) -> None:
    _, created, person = room

    async def scenario() -> None:
        live = await Live.connect(server, created["code"], person["token"])
        for frame in JUNK_FRAMES:
            await live.ws.send(frame)
            reply = await live._next(5)
            while reply["type"] == "state":
                reply = await live._next(5)
            assert reply["type"] == "error" and reply["error"]["code"] in ("invalid", "forbidden"), (frame, reply)
        await live.ws.send(b"\x01\x02binary")
        assert (await live.reply_to(None))["error"]["code"] == "invalid"
        await live.ws.send("x" * (200 * 1024))  # over the frame limit, under the socket's hard cap
        assert "limit" in (await live.reply_to(None))["error"]["message"]
        ack = await live.command({"type": "lower_hand"})  # still open, still serving
        assert ack["type"] == "ack"
        await live.close()

    asyncio.run(scenario())


def test_a_huge_frame_closes_only_that_socket(room, server: ServerProcess) -> None:
    """Over the 16 MB transport ceiling (a 10 MB frame still gets an error frame: tests/test_bad_input.py)."""
    _, created, person = room

    async def scenario() -> None:
        live = await Live.connect(server, created["code"], person["token"])
        try:
            await live.ws.send("x" * (17 << 20))
            with pytest.raises(websockets.ConnectionClosed):
                for _ in range(5):
                    await asyncio.wait_for(live.ws.recv(), 5)
        finally:
            await live.close()
        again = await Live.connect(server, created["code"], person["token"])
        assert (await again.command({"type": "lower_hand"}))["type"] == "ack"
        await again.close()

    asyncio.run(scenario())
