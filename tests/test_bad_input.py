"""Bad input for every endpoint and every frame type: refused with the contract's error, never a 500.

Each case sends one bad request or frame and then checks the three things a user would
notice: the answer has the contract's shape (``{"error": {"code", "reason", "message"}}``, or an
``error`` frame on a socket that stays open), the session it was aimed at is exactly as it
was and still answers, and another session is untouched. The sessions live for the whole
module and are built so that nothing in them runs on a clock (no turn, no round).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import websockets

from tests.support.client import Api, LiveClient, View, error_of
from tests.support.server import ServerProcess

MB = 1024 * 1024
BIG = 10 * MB
UNKNOWN = "OOOOOO"  # six characters, but O is not in the code alphabet: never a session


@dataclass
class Session:
    code: str
    facilitator: str
    screen: str
    tokens: dict[str, str]
    ids: dict[str, str]


@dataclass
class World:
    server: ServerProcess
    api: Api
    room: Session  # running, with Ana and Ben; Rex joined and was removed
    other: Session  # running, with Zoe: must never notice anything
    closed: Session  # closed, with Cal
    log_from: int = 0  # where this module's part of the server's log begins

    def token(self, who: str | None) -> str | None:
        return {None: None, "facilitator": self.room.facilitator, "screen": self.room.screen,
                "ana": self.room.tokens["Ana"], "ben": self.room.tokens["Ben"], "rex": self.room.tokens["Rex"],
                "other": self.other.facilitator, "closed": self.closed.facilitator,
                "cal": self.closed.tokens["Cal"], "bad": "not-a-token-of-this-session"}[who]

    def path(self, template: str) -> str:
        return template.format(room=self.room.code, other=self.other.code, closed=self.closed.code,
                               unknown=UNKNOWN, long="A" * 5000, fac=self.room.facilitator)

    def fill(self, value: Any) -> Any:
        """Put the room's real participant ids where a command names ``<ana>`` or ``<ben>``."""
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
            return self.room.ids[value[1:-1].capitalize()]
        return value

    def snapshot(self) -> dict[str, View]:
        return {"room": self.api.view(self.room.code, self.room.facilitator),
                "other": self.api.view(self.other.code, self.other.facilitator),
                "closed": self.api.view(self.closed.code, self.closed.facilitator)}

    def assert_intact(self, before: dict[str, View], *, room: bool = True) -> None:
        """Nothing changed anywhere, and the room still answers its participants.

        ``room=False`` leaves the room's view out: a participant's socket coming and going
        changes ``connected`` there (the tests compare the room while the socket is open).
        """
        after = self.snapshot()
        if not room:
            after, before = {k: v for k, v in after.items() if k != "room"}, {k: v for k, v in before.items() if k != "room"}
        assert after == before
        assert self.api.view(self.room.code, self.room.tokens["Ana"])["me"]["participant_id"] == self.room.ids["Ana"]


def make_session(api: Api, title: str, names: tuple[str, ...]) -> Session:
    created = api.create_session(title)
    joined = {n: api.join(created["code"], n) for n in names}
    return Session(created["code"], created["facilitator_token"], created["screen_token"],
                   {n: j["token"] for n, j in joined.items()}, {n: j["participant_id"] for n, j in joined.items()})


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> Iterator[World]:
    with Api(server.base_url) as api:
        room = make_session(api, "Bad input room", ("Ana", "Ben", "Rex"))
        other = make_session(api, "A quiet neighbour", ("Zoe",))
        closed = make_session(api, "Finished earlier", ("Cal",))
        for s in (room, other):
            api.ok(s.code, s.facilitator, {"type": "start"})
        api.ok(room.code, room.facilitator, {"type": "remove_participant", "participant_id": room.ids["Rex"]})
        api.ok(closed.code, closed.facilitator, {"type": "close"})
        log_from = server.log_path.stat().st_size if server.log_path else 0
        yield World(server, api, room, other, closed, log_from)


def run(coro: Any, timeout: float = 30.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


# ------------------------------------------------------------------ HTTP

def chunks(total: int, size: int = MB) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked), so only counting it can refuse it."""
    yield b'{"title": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


JSON = {"content-type": "application/json"}
SESSIONS, PEOPLE, VIEW, COMMANDS = "/api/sessions", "/api/sessions/{room}/participants", "/api/sessions/{room}", \
    "/api/sessions/{room}/commands"


def bodies(path: str, token: str | None = "facilitator") -> list[Any]:
    """The malformed bodies every JSON endpoint must refuse with 422."""
    where = path.split("/")[-1] or "sessions"
    return [
        pytest.param("POST", path, token, {"content": b"not json", "headers": JSON}, 422, "invalid", id=f"{where}-not-json"),
        pytest.param("POST", path, token, {"content": b'{"title": ', "headers": JSON}, 422, "invalid", id=f"{where}-cut-off-json"),
        pytest.param("POST", path, token, {"json": []}, 422, "invalid", id=f"{where}-array"),
        pytest.param("POST", path, token, {"json": "a string"}, 422, "invalid", id=f"{where}-string"),
        pytest.param("POST", path, token, {"json": 42}, 422, "invalid", id=f"{where}-number"),
        pytest.param("POST", path, token, {"json": None}, 422, "invalid", id=f"{where}-null"),
        pytest.param("POST", path, token, {}, 422, "invalid", id=f"{where}-no-body"),
        pytest.param("POST", path, token, {"content": b'{"a": "\xff\xfe"}', "headers": JSON}, 422, "invalid",
                     id=f"{where}-not-utf8"),
        pytest.param("POST", path, token, {"content": b"[" * 30000 + b"]" * 30000, "headers": JSON}, 422, "invalid",
                     id=f"{where}-nested-too-deep"),
        pytest.param("POST", path, token, {"content": b"x" * BIG, "headers": JSON}, 422, "invalid", id=f"{where}-10MB"),
        pytest.param("POST", path, token, {"chunked": BIG}, 422, "invalid", id=f"{where}-10MB-chunked"),
        pytest.param("POST", path, token, {"content": b'{"title": "t", "name": "n"}', "headers": {"content-type": "text/plain"}},
                     422, "invalid", id=f"{where}-text-plain"),
    ]


HTTP_CASES = [
    # GET /api/formats takes no input; a body or a wrong method is refused, not crashed on
    pytest.param("POST", "/api/formats", None, {"json": {}}, 405, "method_not_allowed", id="formats-wrong-method"),
    pytest.param("GET", "/api/formats", None, {"content": b"x" * BIG}, 422, "invalid", id="formats-10MB"),
    # POST /api/sessions
    *bodies(SESSIONS, None),
    pytest.param("POST", SESSIONS, None, {"json": {}}, 422, "invalid", id="sessions-title-missing"),
    *[pytest.param("POST", SESSIONS, None, {"json": {"title": bad}}, 422, "invalid", id=f"sessions-title-{label}")
      for label, bad in [("int", 7), ("null", None), ("list", ["t"]), ("object", {"t": 1}), ("bool", True),
                         ("empty", ""), ("blank", "   "), ("too-long", "t" * 121), ("surrogate", "a\ud800")]],
    *[pytest.param("POST", SESSIONS, None, {"json": {"title": "t", **extra}}, 422, "invalid", id=f"sessions-{label}")
      for label, extra in [("format-int", {"format": 7}), ("format-unknown", {"format": "no-such-format"}),
                           ("format-too-long", {"format": "f" * 65}), ("durations-string", {"durations": "ten"}),
                           ("durations-list", {"durations": [60]}), ("duration-string", {"durations": {"check-in": "60"}}),
                           ("duration-zero", {"durations": {"check-in": 0}}), ("duration-negative", {"durations": {"check-in": -60}}),
                           ("duration-fraction", {"durations": {"check-in": 1.5}}),
                           ("duration-huge", {"durations": {"check-in": 10**12}}),
                           ("duration-unknown-phase", {"durations": {"no-such-phase": 60}}),
                           ("unknown-field", {"colour": "red"})]],
    pytest.param("PUT", SESSIONS, None, {"json": {"title": "t"}}, 405, "method_not_allowed", id="sessions-wrong-method"),
    # POST /api/sessions/{code}/participants
    *bodies(PEOPLE, None),
    pytest.param("POST", PEOPLE, None, {"json": {}}, 422, "invalid", id="join-name-missing"),
    *[pytest.param("POST", PEOPLE, None, {"json": {"name": bad}}, 422, "invalid", id=f"join-name-{label}")
      for label, bad in [("int", 7), ("null", None), ("list", ["n"]), ("too-long", "n" * 61), ("surrogate", "\udfff")]],
    pytest.param("POST", PEOPLE, None, {"json": {"name": "Ivy", "role": "facilitator"}}, 422, "invalid", id="join-unknown-field"),
    pytest.param("POST", "/api/sessions/{unknown}/participants", None, {"json": {"name": "Ivy"}}, 404, "not_found",
                 id="join-unknown-code"),
    pytest.param("POST", "/api/sessions/{long}/participants", None, {"json": {"name": "Ivy"}}, 404, "not_found",
                 id="join-5000-character-code"),
    pytest.param("POST", "/api/sessions/%00%FF/participants", None, {"json": {"name": "Ivy"}}, 404, "not_found",
                 id="join-binary-code"),
    pytest.param("POST", "/api/sessions/{closed}/participants", None, {"json": {"name": "Ivy"}}, 409, "conflict",
                 id="join-closed-session"),
    # GET /api/sessions/{code}
    *[pytest.param("GET", VIEW, who, {}, 401, "unauthorized", id=f"view-token-{who or 'missing'}")
      for who in (None, "bad", "other", "rex")],
    *[pytest.param("GET", VIEW, None, {"headers": {"Authorization": value}}, 401, "unauthorized", id=f"view-auth-{label}")
      for label, value in [("bearer-alone", "Bearer"), ("basic", "Basic YWxhZGRpbjpvcGVu"), ("huge", "Bearer " + "t" * 10000)]],
    pytest.param("GET", VIEW + "?token={fac}", None, {}, 401, "unauthorized", id="view-token-in-query-only"),
    pytest.param("GET", "/api/sessions/{unknown}", "facilitator", {}, 404, "not_found", id="view-unknown-code"),
    pytest.param("GET", "/api/sessions/{long}", "facilitator", {}, 404, "not_found", id="view-5000-character-code"),
    pytest.param("GET", VIEW, "facilitator", {"content": b"x" * BIG}, 422, "invalid", id="view-10MB"),
    # POST /api/sessions/{code}/commands: who may send what
    *bodies(COMMANDS, "facilitator"),
    *[pytest.param("POST", COMMANDS, who, {"json": {"type": "pause"}}, 401, "unauthorized", id=f"command-token-{who or 'missing'}")
      for who in (None, "bad", "other", "rex")],
    pytest.param("POST", "/api/sessions/{unknown}/commands", "facilitator", {"json": {"type": "pause"}}, 404, "not_found",
                 id="command-unknown-code"),
    pytest.param("POST", "/api/sessions/{long}/commands", "facilitator", {"json": {"type": "pause"}}, 404, "not_found",
                 id="command-5000-character-code"),
    pytest.param("POST", COMMANDS, "facilitator", {"json": {"type": "pause"}, "headers": {"Idempotency-Key": "k" * 129}},
                 422, "invalid", id="command-idempotency-key-too-long"),
    pytest.param("GET", COMMANDS, "facilitator", {}, 405, "method_not_allowed", id="command-wrong-method"),
    # the closed session refuses changes as conflicts, and still authenticates
    pytest.param("POST", "/api/sessions/{closed}/commands", "closed", {"json": {"type": "start"}}, 409, "conflict",
                 id="command-closed-start"),
    pytest.param("POST", "/api/sessions/{closed}/commands", "cal", {"json": {"type": "raise_hand"}}, 409, "conflict",
                 id="command-closed-raise-hand"),
    pytest.param("POST", "/api/sessions/{closed}/commands", "ana", {"json": {"type": "raise_hand"}}, 401, "unauthorized",
                 id="command-token-of-another-session"),
    # the participant's own endpoints: the reflection
    pytest.param("PUT", "/api/sessions/{room}/reflection", "ana", {"json": {"description": 5}}, 422, "invalid",
                 id="reflection-wrong-type"),
    pytest.param("PUT", "/api/sessions/{room}/reflection", "ana", {"json": {"mood": "fine"}}, 422, "invalid",
                 id="reflection-unknown-field"),
    pytest.param("PUT", "/api/sessions/{room}/reflection", "ana", {"json": {"description": "d" * 4001}}, 422, "invalid",
                 id="reflection-too-long"),
    pytest.param("PUT", "/api/sessions/{room}/reflection", "ana", {"content": b"x" * BIG, "headers": JSON}, 422, "invalid",
                 id="reflection-10MB"),
    pytest.param("PUT", "/api/sessions/{room}/reflection", "ana", {"content": b"[", "headers": JSON}, 422, "invalid",
                 id="reflection-not-json"),
    pytest.param("PUT", "/api/sessions/{room}/reflection", "bad", {"json": {}}, 401, "unauthorized", id="reflection-bad-token"),
    pytest.param("PUT", "/api/sessions/{room}/reflection", "facilitator", {"json": {}}, 403, "forbidden",
                 id="reflection-facilitator"),
    pytest.param("GET", "/api/sessions/{room}/reflection", "screen", {}, 403, "forbidden", id="reflection-read-by-screen"),
    pytest.param("GET", "/api/sessions/{unknown}/reflection", "ana", {}, 404, "not_found", id="reflection-unknown-code"),
    # the summary downloads and groups
    pytest.param("GET", "/api/sessions/{room}/summary", "bad", {}, 401, "unauthorized", id="summary-bad-token"),
    pytest.param("GET", "/api/sessions/{room}/summary", "screen", {}, 403, "forbidden", id="summary-screen"),
    pytest.param("GET", "/api/sessions/{unknown}/summary.md", "ana", {}, 404, "not_found", id="summary-unknown-code"),
    pytest.param("POST", "/api/groups", None, {"json": {"name": 5}}, 422, "invalid", id="groups-name-wrong-type"),
    pytest.param("POST", "/api/groups", None, {"json": {}}, 422, "invalid", id="groups-name-missing"),
    pytest.param("POST", "/api/groups", None, {"content": b"x" * BIG, "headers": JSON}, 422, "invalid", id="groups-10MB"),
    pytest.param("GET", "/api/groups/no-such-group", None, {}, 401, "unauthorized", id="group-no-key"),
    # the key is checked before the body is read: a caller without one learns nothing of the schema
    pytest.param("POST", "/api/groups/no-such-group/sessions", None, {"json": {"title": []}}, 401, "unauthorized",
                 id="group-session-no-key-wrong-type"),
]


@pytest.mark.parametrize("method, path, who, request_kwargs, status, code", HTTP_CASES)
def test_bad_http_input_gets_the_contract_error_and_changes_nothing(
        world: World, method: str, path: str, who: str | None, request_kwargs: dict[str, Any], status: int, code: str) -> None:
    kwargs = dict(request_kwargs)
    if "chunked" in kwargs:
        kwargs["content"] = chunks(kwargs.pop("chunked"))
        kwargs["headers"] = JSON
    before = world.snapshot()
    answer = world.api.request(method, world.path(path), world.token(who), **kwargs)
    assert answer.status_code == status, answer.text[:500]
    assert error_of(answer)["code"] == code
    world.assert_intact(before)


# One valid example of each command (participant ids filled in from the room).
FACILITATOR_COMMANDS = [
    {"type": "start"}, {"type": "next_phase"}, {"type": "goto_phase", "phase_id": "check-in"},
    {"type": "start_round", "seconds_per_turn": 5}, {"type": "next_turn"}, {"type": "give_turn", "participant_id": "<ana>"},
    {"type": "pause"}, {"type": "resume"}, {"type": "extend", "seconds": 5},
    {"type": "set_presenter", "participant_id": "<ana>"}, {"type": "reveal_items", "kind": "question", "force": True},
    {"type": "hide_item", "item_id": "i1"}, {"type": "remove_participant", "participant_id": "<ben>"}, {"type": "close"},
]
PARTICIPANT_COMMANDS = [
    {"type": "leave"}, {"type": "raise_hand"}, {"type": "lower_hand"}, {"type": "pass"}, {"type": "yield_turn"},
    {"type": "submit_item", "kind": "question", "text": "what now?"}, {"type": "retract_item", "receipt": "r1"},
    {"type": "vote_item", "item_id": "i1"}, {"type": "add_action", "text": "rest", "due": "2030-01-01"},
    {"type": "edit_action", "action_id": "a1", "text": "rest more"}, {"type": "remove_action", "action_id": "a1"},
]
# Commands that are well formed but refused by the session's state: (sender, command, status, code).
REFUSED_BY_STATE = [
    ("facilitator", {"type": "start"}, 409, "conflict"),
    ("facilitator", {"type": "resume"}, 409, "conflict"),
    ("facilitator", {"type": "next_turn"}, 409, "conflict"),
    ("facilitator", {"type": "extend", "seconds": 10}, 409, "conflict"),
    ("facilitator", {"type": "reveal_items", "kind": "question"}, 409, "conflict"),
    ("ana", {"type": "yield_turn"}, 409, "conflict"),
    ("ana", {"type": "pass"}, 409, "conflict"),
    ("facilitator", {"type": "give_turn", "participant_id": "nobody"}, 404, "not_found"),
    ("facilitator", {"type": "set_presenter", "participant_id": "nobody"}, 404, "not_found"),
    ("facilitator", {"type": "remove_participant", "participant_id": "nobody"}, 404, "not_found"),
    ("facilitator", {"type": "remove_participant", "participant_id": "<rex>"}, 404, "not_found"),
    ("facilitator", {"type": "hide_item", "item_id": "nothing"}, 404, "not_found"),
    ("facilitator", {"type": "goto_phase", "phase_id": "no-such-phase"}, 422, "invalid"),
    ("ana", {"type": "vote_item", "item_id": "nothing"}, 404, "not_found"),
    ("ana", {"type": "retract_item", "receipt": "not-a-receipt"}, 404, "not_found"),
    ("ana", {"type": "edit_action", "action_id": "nothing", "text": "x"}, 404, "not_found"),
    ("ana", {"type": "remove_action", "action_id": "nothing"}, 404, "not_found"),
]
# Commands that are not well formed at all: 422 whoever sends them.
MALFORMED_COMMANDS = [
    ("no-type", {}), ("type-int", {"type": 5}), ("type-null", {"type": None}), ("type-unknown", {"type": "dance"}),
    ("type-too-long", {"type": "t" * 10000}), ("system-command", {"type": "expire_turn"}),
    ("seconds-text", {"type": "extend", "seconds": "ten"}), ("seconds-zero", {"type": "extend", "seconds": 0}),
    ("seconds-negative", {"type": "extend", "seconds": -5}), ("seconds-over-an-hour", {"type": "extend", "seconds": 3601}),
    ("seconds-missing", {"type": "extend"}), ("seconds-list", {"type": "start_round", "seconds_per_turn": [1]}),
    ("participant-missing", {"type": "give_turn"}), ("participant-int", {"type": "give_turn", "participant_id": 7}),
    ("participant-empty", {"type": "give_turn", "participant_id": ""}),
    ("participant-too-long", {"type": "set_presenter", "participant_id": "p" * 65}),
    ("phase-missing", {"type": "goto_phase"}), ("kind-unknown", {"type": "submit_item", "kind": "rant", "text": "x"}),
    ("kind-missing", {"type": "reveal_items"}), ("text-missing", {"type": "submit_item", "kind": "question"}),
    ("text-empty", {"type": "submit_item", "kind": "question", "text": ""}),
    ("text-blank", {"type": "submit_item", "kind": "feedback", "text": "   "}),
    ("text-int", {"type": "submit_item", "kind": "question", "text": 5}),
    ("text-too-long", {"type": "submit_item", "kind": "question", "text": "q" * 1001}),
    ("text-surrogate", {"type": "add_action", "text": "a\ud800b"}),
    ("action-text-too-long", {"type": "add_action", "text": "a" * 501}),
    ("due-not-a-date", {"type": "add_action", "text": "rest", "due": "someday"}),
    ("due-impossible-date", {"type": "add_action", "text": "rest", "due": "2030-02-30"}),
    ("receipt-empty", {"type": "retract_item", "receipt": ""}), ("item-missing", {"type": "vote_item"}),
    ("unknown-field", {"type": "raise_hand", "loud": True}), ("unknown-field-facilitator", {"type": "pause", "for": 10}),
    ("nested-object", {"type": "raise_hand", "x": {"y": {"z": [1, 2, 3]}}}),
]


@pytest.mark.parametrize("command", FACILITATOR_COMMANDS, ids=lambda c: c["type"])
def test_a_participant_cannot_send_facilitator_commands(world: World, command: dict[str, Any]) -> None:
    before = world.snapshot()
    for who in ("ana", "screen"):
        answer = world.api.command(world.room.code, world.token(who), world.fill(command))
        assert (answer.status_code, error_of(answer)["code"]) == (403, "forbidden"), (who, answer.text)
    world.assert_intact(before)


@pytest.mark.parametrize("command", PARTICIPANT_COMMANDS, ids=lambda c: c["type"])
def test_the_facilitator_and_the_screen_cannot_send_participant_commands(world: World, command: dict[str, Any]) -> None:
    before = world.snapshot()
    for who in ("facilitator", "screen"):
        answer = world.api.command(world.room.code, world.token(who), command)
        assert (answer.status_code, error_of(answer)["code"]) == (403, "forbidden"), (who, answer.text)
    world.assert_intact(before)


@pytest.mark.parametrize("who, command, status, code", REFUSED_BY_STATE,
                         ids=[f"{w}-{c['type']}-{s}" for w, c, s, _ in REFUSED_BY_STATE])
def test_a_command_the_state_refuses_changes_nothing(world: World, who: str, command: dict[str, Any],
                                                      status: int, code: str) -> None:
    before = world.snapshot()
    answer = world.api.command(world.room.code, world.token(who), world.fill(command))
    assert (answer.status_code, error_of(answer)["code"]) == (status, code), answer.text
    world.assert_intact(before)


@pytest.mark.parametrize("command", [c for _, c in MALFORMED_COMMANDS], ids=[n for n, _ in MALFORMED_COMMANDS])
def test_a_malformed_command_is_invalid_for_every_sender(world: World, command: dict[str, Any]) -> None:
    before = world.snapshot()
    for who in ("facilitator", "ana", "screen"):
        answer = world.api.command(world.room.code, world.token(who), command)
        assert (answer.status_code, error_of(answer)["code"]) == (422, "invalid"), (who, answer.text)
        assert len(answer.content) < 2000  # the message names the problem without echoing the input
    world.assert_intact(before)


# ------------------------------------------------------------------ the live socket

SOCKET_REFUSALS = [
    ("unknown-code", "{unknown}", "facilitator", 4404),
    ("5000-character-code", "{long}", "facilitator", 4404),
    ("unknown-code-and-bad-token", "{unknown}", "bad", 4404),
    ("no-token", "{room}", None, 4401),
    ("bad-token", "{room}", "bad", 4401),
    ("token-of-another-session", "{room}", "other", 4401),
    ("removed-participant", "{room}", "rex", 4401),
]


@pytest.mark.parametrize("code_template, who, close_code", [c[1:] for c in SOCKET_REFUSALS],
                         ids=[c[0] for c in SOCKET_REFUSALS])
def test_a_socket_for_an_unknown_session_or_with_a_bad_token_is_closed(
        world: World, code_template: str, who: str | None, close_code: int) -> None:
    async def scenario() -> tuple[int | None, list[Any]]:
        client = await LiveClient.connect(world.server.ws_base, world.path(code_template), world.token(who),
                                          first_state=False)
        code, _ = await client.closed()
        return code, client.frames

    before = world.snapshot()
    code, frames = run(scenario())
    assert code == close_code and frames == []  # closed before any state could leak
    world.assert_intact(before)


async def open_socket(world: World, who: str) -> LiveClient:
    client = await LiveClient.connect(world.server.ws_base, world.room.code, world.token(who))
    if who not in ("facilitator", "screen"):  # a participant's first socket flips ``connected``
        pid = client.view["me"]["participant_id"]
        await client.wait_for_state(lambda v: next(p for p in v["participants"] if p["id"] == pid)["connected"])
    return client


async def close_socket(world: World, client: LiveClient) -> None:
    """Close, and for a participant wait until the room shows them disconnected again."""
    pid = client.view["me"]["participant_id"]
    await client.close()
    for _ in range(200):
        view = world.api.view(world.room.code, world.room.facilitator)
        if pid is None or not next(p for p in view["participants"] if p["id"] == pid)["connected"]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the room never showed the participant disconnected")


COMMAND = {"type": "lower_hand"}
JUNK_FRAMES = [
    # (name, payload, id the error names, code)
    ("binary", b"\x00\xff\x00", None, "invalid"),
    ("binary-json", json.dumps({"type": "command", "id": "b1", "command": COMMAND}).encode(), None, "invalid"),
    ("empty-text", "", None, "invalid"),
    ("not-json", "lower my hand please", None, "invalid"),
    ("cut-off-json", '{"type": "command", "id": "j0", "comm', "j0", "invalid"),
    ("json-array", json.dumps([{"type": "command", "id": "j1", "command": COMMAND}]), None, "invalid"),
    ("json-string", json.dumps("command"), None, "invalid"),
    ("json-number", "42", None, "invalid"),
    ("json-null", "null", None, "invalid"),
    ("json-true", "true", None, "invalid"),
    ("nested-too-deep", "[" * 30000 + "]" * 30000, None, "invalid"),
    ("nested-too-deep-in-command", '{"type": "command", "id": "j2", "command": ' + "[" * 30000 + "]" * 30000 + "}",
     "j2", "invalid"),
    ("empty-object", "{}", None, "invalid"),
    ("id-missing", json.dumps({"type": "command", "command": COMMAND}), None, "invalid"),
    ("id-int", json.dumps({"type": "command", "id": 5, "command": COMMAND}), None, "invalid"),
    ("id-null", json.dumps({"type": "command", "id": None, "command": COMMAND}), None, "invalid"),
    ("id-empty", json.dumps({"type": "command", "id": "", "command": COMMAND}), None, "invalid"),
    ("id-too-long", json.dumps({"type": "command", "id": "i" * 129, "command": COMMAND}), None, "invalid"),
    ("id-object", json.dumps({"type": "command", "id": {"x": 1}, "command": COMMAND}), None, "invalid"),
    ("envelope-type-missing", json.dumps({"id": "e1", "command": COMMAND}), "e1", "invalid"),
    ("envelope-type-unknown", json.dumps({"type": "ping", "id": "e2", "command": COMMAND}), "e2", "invalid"),
    ("envelope-type-state", json.dumps({"type": "state", "id": "e3", "version": 99, "view": {}}), "e3", "invalid"),
    ("envelope-type-ack", json.dumps({"type": "ack", "id": "e4", "version": 99}), "e4", "invalid"),
    ("command-missing", json.dumps({"type": "command", "id": "e5"}), "e5", "invalid"),
    ("command-string", json.dumps({"type": "command", "id": "e6", "command": "lower_hand"}), "e6", "invalid"),
    ("command-list", json.dumps({"type": "command", "id": "e7", "command": [COMMAND]}), "e7", "invalid"),
    ("command-null", json.dumps({"type": "command", "id": "e8", "command": None}), "e8", "invalid"),
    ("over-64KB", json.dumps({"type": "command", "id": "big1", "command": {"type": "submit_item", "kind": "question",
                                                                          "text": "q" * 100_000}}), "big1", "invalid"),
    ("200KB-id-last", json.dumps({"type": "command", "command": {"type": "submit_item", "kind": "question",
                                                                "text": "q" * 200_000}, "id": "big3"}), "big3", "invalid"),
    ("10MB-text", "x" * BIG, None, "invalid"),
    ("10MB-command", json.dumps({"type": "command", "id": "big2", "command": {"type": "add_action", "text": "a" * BIG}}),
     "big2", "invalid"),
    ("10MB-binary", b"\x00" * BIG, None, "invalid"),
]


@pytest.mark.parametrize("who", ["facilitator", "ana"])
@pytest.mark.parametrize("payload, error_id, code", [c[1:] for c in JUNK_FRAMES], ids=[c[0] for c in JUNK_FRAMES])
def test_a_junk_frame_gets_an_error_frame_and_the_socket_stays_open(
        world: World, who: str, payload: str | bytes, error_id: str | None, code: str) -> None:
    async def scenario() -> None:
        client = await open_socket(world, who)
        before, version = world.snapshot(), client.version
        await client.send_raw(payload)
        frame = await client.reply(error_id, timeout=10)
        assert frame["type"] == "error" and frame["error"]["code"] == code, frame
        assert set(frame) == {"type", "id", "error"} and {"code", "reason", "message"} <= set(frame["error"]) <= {"code", "reason", "message", "values"}
        assert len(json.dumps(frame)) < 2000  # the junk is not echoed back
        await client.probe()  # still open, still listening
        assert client.version == version and world.snapshot() == before
        if who == "ana":
            await client.apply(COMMAND)  # and still works: lowering a lowered hand changes nothing
        await close_socket(world, client)

    before = world.snapshot()
    run(scenario())
    world.assert_intact(before, room=who in ("facilitator", "screen"))


def test_a_socket_survives_every_junk_frame_in_a_row_then_works(world: World) -> None:
    async def scenario() -> None:
        client = await open_socket(world, "ben")
        watcher = await open_socket(world, "facilitator")
        version = client.version
        for _, payload, error_id, code in JUNK_FRAMES:
            await client.send_raw(payload)
            frame = await client.reply(error_id, timeout=10)
            assert frame["error"]["code"] == code
        assert client.version == version
        ack = await client.apply({"type": "raise_hand"})
        seen = await watcher.wait_for_version(ack["version"])
        assert seen["queue"] == [world.room.ids["Ben"]]
        await client.apply({"type": "lower_hand"})
        await watcher.wait_for_state(lambda v: v["queue"] == [])
        await close_socket(world, client)
        await watcher.close()

    before = world.snapshot()
    run(scenario(), timeout=60)
    room = world.snapshot()["room"]
    assert room["queue"] == [] and room["version"] > before["room"]["version"]  # it worked, and was undone
    assert {k: v for k, v in world.snapshot().items() if k != "room"} == {k: v for k, v in before.items() if k != "room"}


@pytest.mark.parametrize("frame, reply_id", [
    ({"cid": "form-big", "type": "submit_item", "kind": "question", "text": "q" * 200_000, "HEADERS": {}}, "form-big"),
    ({"type": "submit_item", "kind": "question", "text": "q" * 200_000, "HEADERS": {}, "cid": "form-late"}, "form-late"),
    ({"cid": "form-cut", "type": "submit_item", "kind": "question", "text": "q" * 200_000}, "form-cut"),
], ids=["id-first", "id-last", "cut-off"])
def test_an_oversized_form_on_the_pages_socket_gets_an_error_naming_its_command(
        world: World, frame: dict[str, Any], reply_id: str) -> None:
    """The page puts the reply beside the form that sent it, so the id must come back."""
    text = json.dumps(frame)
    if reply_id == "form-cut":
        text = text[:-20]  # over the limit and cut off: the id is still there to read

    async def scenario() -> str:
        url = f"{world.server.ws_base}/live/{world.room.code}?token={world.room.facilitator}"
        async with websockets.connect(url, max_size=None) as page:
            await asyncio.wait_for(page.recv(), 5)  # the page's regions, first
            await page.send(text)
            while True:
                fragment = str(await asyncio.wait_for(page.recv(), 10))
                if "data-reply-id" in fragment:
                    return fragment

    before = world.snapshot()
    fragment = run(scenario())
    assert f'data-reply-id="{reply_id}"' in fragment and 'role="alert"' in fragment
    assert "64 KB" in fragment and "qqqq" not in fragment  # says why, does not echo the text
    world.assert_intact(before)


def socket_cases() -> list[Any]:
    cases = []
    for command in FACILITATOR_COMMANDS:
        cases += [pytest.param(who, command, "forbidden", id=f"{who}-{command['type']}") for who in ("ana", "screen")]
    for command in PARTICIPANT_COMMANDS:
        cases += [pytest.param(who, command, "forbidden", id=f"{who}-{command['type']}")
                  for who in ("facilitator", "screen")]
    cases += [pytest.param(who, command, code, id=f"{who}-{command['type']}-{code}")
              for who, command, _, code in REFUSED_BY_STATE]
    cases += [pytest.param("ana", command, "invalid", id=f"malformed-{name}") for name, command in MALFORMED_COMMANDS]
    return cases


@pytest.mark.parametrize("who, command, code", socket_cases())
def test_a_refused_command_on_the_socket_gets_its_error_frame(world: World, who: str, command: dict[str, Any],
                                                              code: str) -> None:
    async def scenario() -> None:
        client = await open_socket(world, who)
        before, version = world.snapshot(), client.version
        frame = await client.refused(world.fill(command), code, id="refused-1")
        assert frame["id"] == "refused-1"
        await client.probe()
        assert client.version == version and world.snapshot() == before
        await close_socket(world, client)

    before = world.snapshot()
    run(scenario())
    world.assert_intact(before, room=who in ("facilitator", "screen"))


def test_the_sessions_still_run_after_all_of_it(world: World) -> None:
    """The last word: both sessions take commands and push states as if nothing had happened."""
    async def scenario() -> None:
        for session in (world.room, world.other):
            fac = await LiveClient.connect(world.server.ws_base, session.code, session.facilitator)
            screen = await LiveClient.connect(world.server.ws_base, session.code, session.screen)
            pid = next(iter(session.ids.values())) if session is world.other else session.ids["Ana"]
            ack = await fac.apply({"type": "give_turn", "participant_id": pid})
            seen = await screen.wait_for_version(ack["version"])
            assert seen["turn"]["participant_id"] == pid and seen["status"] == "running"
            await fac.apply({"type": "close"})
            await screen.wait_for_state(lambda v: v["status"] == "closed")
            await fac.close()
            await screen.close()

    run(scenario())


def test_the_server_logged_no_error_for_any_of_it(world: World) -> None:
    """Never a 500, and nothing that went wrong unseen: the server's log for this module is clean."""
    assert world.server.log_path is not None, "the server fixture keeps a log"
    with open(world.server.log_path, "rb") as log:
        log.seek(world.log_from)
        text = log.read().decode(errors="replace")
    assert "Traceback" not in text and " ERROR " not in text and "unexpected error" not in text, text[-3000:]
