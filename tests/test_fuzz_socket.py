"""Fuzzing the live socket: hypothesis sends random and malformed frames,
FUZZ_CASES of them (2,000 by default; FUZZ_CASES=20000 for a long local run), as the
facilitator, a participant and the screen of one session, on a real server.

Every frame gets exactly one answer (an ack or an error frame), in order, and the socket
stays open (a participant the fuzzer removed gets 4401 and is replaced). Afterwards the
server logged no error, the fuzzed session still works, and a bystander session on the same
server is exactly as it was.
"""

from __future__ import annotations

import asyncio
import json
import os
import string
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.client import Api, LiveClient, SocketClosed
from tests.support.server import ServerProcess

CASES = int(os.environ.get("FUZZ_CASES", "2000"))
ROLES = ("facilitator", "participant", "screen")

COMMAND_TYPES = [  # every command the core knows ("erase" left out: it would end the fuzzing; tested elsewhere)
    "start", "next_phase", "goto_phase", "start_round", "next_turn", "give_turn", "pause", "resume", "extend",
    "set_presenter", "reveal_items", "hide_item", "remove_participant", "close", "leave", "raise_hand",
    "lower_hand", "pass", "yield_turn", "submit_item", "retract_item", "vote_item", "add_action", "edit_action",
    "remove_action", "rate_wellbeing", "request_word", "withdraw_word", "set_phases", "propose_summary",
    "withdraw_proposal", "consent", "carry_action", "review_action", "expire_turn", "no_such_command", "",
]
FIELDS = ["phase_id", "seconds_per_turn", "participant_id", "kind", "force", "item_id", "text", "due", "receipt",
          "seconds", "score", "action_id", "phases", "confirmed", "agree", "carry", "id", "type"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
field_values = (json_values | st.sampled_from(["question", "feedback", "lobby", "-1", "1e999", "NaN"])
                | st.floats(min_value=-10, max_value=4000) | st.integers(-5, 4000)
                | st.text(alphabet=string.printable + "<>\"'&\u0000\u200b\U0001F600", max_size=1200))
commands = st.builds(lambda kind, fields: {"type": kind, **fields}, st.sampled_from(COMMAND_TYPES),
                     st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=4))
command_ids = st.text(min_size=1, max_size=20) | st.text(min_size=120, max_size=140) | json_values


texts = st.text(alphabet=string.printable + "<>\"'&\u200b\U0001F600", min_size=0, max_size=1100)
seconds = st.floats(min_value=-5, max_value=4000, allow_nan=False) | st.integers(-5, 4000)
REAL_ID = "@real"  # replaced by a real participant or item id of the session when sent
plausible = st.one_of(  # commands shaped as the contract says, with values in and out of range
    st.sampled_from([{"type": t} for t in ("raise_hand", "lower_hand", "pass", "yield_turn", "pause", "resume",
                                          "next_turn", "next_phase", "start", "leave", "request_word",
                                          "withdraw_word")]),
    st.builds(lambda v: {"type": "start_round", "seconds_per_turn": v}, seconds),
    st.builds(lambda v: {"type": "extend", "seconds": v}, seconds),
    st.builds(lambda k, t: {"type": "submit_item", "kind": k, "text": t}, st.sampled_from(["question", "feedback", "x"]),
              texts),
    st.builds(lambda t: {"type": "add_action", "text": t}, texts),
    st.builds(lambda k, f: {"type": "reveal_items", "kind": k, "force": f}, st.sampled_from(["question", "feedback"]),
              st.booleans()),
    st.builds(lambda t: {"type": t, "item_id": REAL_ID}, st.sampled_from(["vote_item", "hide_item"])),
    st.builds(lambda t: {"type": t, "participant_id": REAL_ID},
              st.sampled_from(["give_turn", "set_presenter", "remove_participant"])),
    st.builds(lambda p: {"type": "goto_phase", "phase_id": p}, st.sampled_from(["check-in", "presentation", "x"])),
    st.just({"type": "close"}),
)


def envelope(command_id: Any, command: Any, kind: Any = "command") -> str:
    return json.dumps({"type": kind, "id": command_id, "command": command})


sensible = st.builds(envelope, st.text(string.ascii_letters, min_size=8, max_size=12), plausible)
junk = st.one_of(
    st.builds(envelope, st.text(min_size=1, max_size=20), commands),  # well-formed, random command
    st.builds(envelope, command_ids, commands | json_values),  # odd ids, odd commands
    st.builds(envelope, command_ids, json_values, json_values),  # odd envelopes
    json_values.map(json.dumps),  # any JSON at all
    st.text(max_size=300),  # not JSON
    st.binary(max_size=300),  # binary frames
    st.builds(lambda n: '{"type": "command", "id": "deep", "command": ' + "[" * n + "]" * n + "}",
              st.integers(1, 3000)),
)
frames = st.integers(0, 9).flatmap(lambda n: sensible if n < 6 else junk)  # 60 % well-formed, mostly sensible


class Room:
    """The fuzzed session: its tokens, one open socket per role, the names of its real ids."""

    def __init__(self, server: ServerProcess, loop: asyncio.AbstractEventLoop) -> None:
        self.server = server
        self.loop = loop
        self.sockets: dict[str, LiveClient] = {}
        self.closes: Counter[int | None] = Counter()
        self.answers: Counter[str] = Counter()
        self.renew()

    def renew(self) -> None:
        """A fresh running session with two participants (after the fuzzer closed the last one)."""
        self.loop.run_until_complete(self._close_sockets())
        with Api(self.server.base_url) as api:
            created = api.create_session(title="fuzzed")
            self.code = created["code"]
            self.tokens = {"facilitator": created["facilitator_token"], "screen": created["screen_token"]}
            other = api.join(self.code, "Other")
            self.ids = [other["participant_id"]]
            api.ok(self.code, self.tokens["facilitator"], {"type": "start"})
        self.join()
        for role in ("facilitator", "screen"):
            self.sockets[role] = self.loop.run_until_complete(
                LiveClient.connect(self.server.ws_base, self.code, self.tokens[role]))

    def join(self) -> None:
        with Api(self.server.base_url) as api:
            person = api.join(self.code, "Fuzz")
        self.tokens["participant"] = person["token"]
        self.ids.append(person["participant_id"])
        self.sockets["participant"] = self.loop.run_until_complete(
            LiveClient.connect(self.server.ws_base, self.code, person["token"]))

    async def _close_sockets(self) -> None:
        for client in self.sockets.values():
            await client.close()
        self.sockets.clear()

    def send(self, role: str, frame: str | bytes) -> None:
        client = self.sockets[role]
        try:
            self.loop.run_until_complete(self._exchange(client, frame))
        except (SocketClosed, websockets.ConnectionClosed) as closed:
            code, reason = ((closed.code, closed.reason) if isinstance(closed, SocketClosed) else
                            (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, ""))
            self.closes[code] += 1
            assert role == "participant" and code == 4401, (role, code, reason)
            self.join()  # removed by the facilitator's fuzzed remove_participant: a new one joins
            return
        view = self.sockets["facilitator"].state["view"] if self.sockets["facilitator"].state else {}
        self.ids.extend(i["id"] for i in view.get("items", ()) if i["id"] not in self.ids)
        if view.get("status") == "closed":
            self.renew()

    async def _exchange(self, client: LiveClient, frame: str | bytes) -> None:
        await client.send_raw(frame)
        while True:  # the next ack or error frame answers this one; states may come first
            answer = await client.next_frame(timeout=10)
            if answer["type"] in ("ack", "error"):
                self.answers[answer["type"] if answer["type"] == "ack" else answer["error"]["code"]] += 1
                assert answer["type"] == "ack" or {"code", "reason", "message"} <= set(answer["error"]) <= {"code", "reason", "message", "values"}, answer
                return
            client.frames.clear()  # keep memory flat over 20,000 frames


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("fuzz-socket") / "server.log"
    env = {"REDIS_URL": "", "GROUPS_DB": str(log.parent / "groups.sqlite3"), "LOG_LEVEL": "info",
           # one socket sends thousands of frames back to back: the flood limit is tested in test_security
           "LIVE_MESSAGES_PER_S": "1000000", "LIVE_MESSAGE_BURST": "1000000"}
    proc = ServerProcess(env=env, log_path=log).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


@pytest.fixture(scope="module")
def bystander(fuzz_server: ServerProcess) -> dict[str, Any]:
    with Api(fuzz_server.base_url) as api:
        created = api.create_session(title="bystander")
        code, fac = created["code"], created["facilitator_token"]
        person = api.join(code, "Bea")
        api.ok(code, fac, {"type": "start"})
        api.ok(code, person["token"], {"type": "submit_item", "kind": "question", "text": "still here?"})
        view = api.view_when(code, fac, lambda v: v["pending"]["question"] == 1)  # counted: nothing left to fold
        return {"code": code, "fac": fac, "person": person, "view": view}


@pytest.fixture(scope="module")
def room(fuzz_server: ServerProcess, loop: asyncio.AbstractEventLoop, bystander: dict[str, Any]) -> Room:
    return Room(fuzz_server, loop)


def with_real_ids(frame: str | bytes, room: Room, pick: int) -> str | bytes:
    """Now and then, aim a command at a real participant or item instead of a made-up id."""
    if not isinstance(frame, str) or not room.ids or '"command": {' not in frame:
        return frame
    try:
        data = json.loads(frame)
    except ValueError:
        return frame
    command = data.get("command")
    if isinstance(command, dict):
        for name in ("participant_id", "item_id"):
            if name in command and (command[name] == REAL_ID or pick % 3 == 0):
                command[name] = room.ids[pick % len(room.ids)]
    return json.dumps(data)


@given(role=st.sampled_from(ROLES), frame=frames, pick=st.integers(0, 1000))
@settings(max_examples=CASES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_any_frame_gets_one_answer_and_the_socket_stays_open(room: Room, role: str, frame: str | bytes,
                                                             pick: int) -> None:
    room.send(role, with_real_ids(frame, room, pick))


def test_zz_afterwards_the_server_is_healthy_and_the_sessions_intact(
        fuzz_server: ServerProcess, room: Room, bystander: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
    print("socket fuzzing answers:", dict(room.answers), "closes:", dict(room.closes))
    assert sum(room.answers.values()) + sum(room.closes.values()) >= CASES, room.answers
    assert room.answers["ack"] > 0 and room.answers["invalid"] > 0, room.answers
    with Api(fuzz_server.base_url) as api:
        assert api.view(bystander["code"], bystander["fac"]) == bystander["view"]
        api.ok(bystander["code"], bystander["person"]["token"], {"type": "raise_hand"})
        view = api.view(room.code, room.tokens["facilitator"])
        assert view["code"] == room.code

    async def still_works() -> None:
        for role, client in room.sockets.items():
            try:
                await client.probe()
            except (SocketClosed, websockets.ConnectionClosed) as closed:
                # The last fuzzed facilitator frames may have removed the participant: that
                # socket alone may be closed, with 4401, and the facilitator's view agrees.
                code = closed.code if isinstance(closed, SocketClosed) else (closed.rcvd.code if closed.rcvd else None)
                assert role == "participant" and code == 4401, (role, code)

    loop.run_until_complete(still_works())
    log = fuzz_server.log_path.read_text(errors="replace")
    assert " ERROR " not in log and "Traceback" not in log, log[-3000:]
    assert fuzz_server.proc is not None and fuzz_server.proc.poll() is None
