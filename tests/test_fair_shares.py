"""No single client can starve the others: every fair-share limit, from outside.

The core's rules (the door, per-person caps, the content ceiling) are checked on the
core itself; the rates and caps are checked against real servers with small limits, in
both store modes, and in Redis mode over two workers, whose counts must add up.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

import pytest
import websockets

from app.config import AppSettings
from app.facilitation import commands, engine
from app.facilitation.errors import Conflict, Forbidden
from app.facilitation.formats import format_with_durations
from app.facilitation.models import (
    FACILITATOR,
    MAX_ACTION_TEXT,
    MAX_ACTIONS_PER_PERSON,
    MAX_ITEM_TEXT,
    MAX_ITEMS_PER_PERSON,
    MAX_VIEW_BYTES,
    Actor,
    Fresh,
    SessionState,
)
from app.facilitation.views import shared_view
from app.live.htmx import render_regions
from app.realtime.interfaces import Bucket
from app.realtime.memory.limits import LocalLimits
from tests.support.client import Api, LiveClient, error_of
from tests.support.server import ServerProcess

pytestmark = pytest.mark.timeout(180)


# ------------------------------------------------------------------ the core's rules

def room(people: int) -> SessionState:
    state = engine.new_session(code="FAIR22", title="Fair", format=format_with_durations(None, None), now=0.0,
                               salt="salt", facilitator_token_hash="f", screen_token_hash="s")
    for i in range(people):
        state = engine.join(state, participant_id=f"p{i}", name=f"Person {i}", token_hash=f"t{i}", now=0.0).state
    return send(state, {"type": "start"})


def send(state: SessionState, command: dict, actor: Actor = FACILITATOR, n: int = 0) -> SessionState:
    return engine.apply(state, commands.parse_command(command), actor, 1.0, Fresh(id=f"id{n}", secret=f"r{n}")).state


def person(i: int) -> Actor:
    return Actor(role="participant", participant_id=f"p{i}")


def test_a_locked_room_takes_nobody_new_until_it_is_unlocked() -> None:
    state = send(room(2), {"type": "lock_room"})
    assert shared_view(state, 1.0)["locked"] is True
    with pytest.raises(Conflict, match="locked"):
        engine.join(state, participant_id="late", name="Late", token_hash="tl", now=1.0)
    assert send(state, {"type": "lock_room"}).version == state.version  # locking twice changes nothing
    state = send(state, {"type": "unlock_room"})
    assert shared_view(state, 1.0)["locked"] is False
    joined = engine.join(state, participant_id="late", name="Late", token_hash="tl", now=1.0).state
    assert [p.id for p in joined.participants] == ["p0", "p1", "late"]


def test_only_the_facilitator_locks_the_room() -> None:
    with pytest.raises(Forbidden):
        send(room(1), {"type": "lock_room"}, person(0))


def test_one_person_writes_at_most_their_share_of_actions() -> None:
    state = room(2)
    for n in range(MAX_ACTIONS_PER_PERSON):
        state = send(state, {"type": "add_action", "text": f"Plan {n}"}, person(0), n)
    with pytest.raises(Conflict, match="most actions one person may"):
        send(state, {"type": "add_action", "text": "One more"}, person(0), 99)
    state = send(state, {"type": "add_action", "text": "Mine"}, person(1), 100)  # another person still may
    assert len(state.actions) == MAX_ACTIONS_PER_PERSON + 1


def test_no_change_grows_the_content_past_the_ceiling() -> None:
    """500 emoji actions from a dozen people: the view stops growing short of the ceiling."""
    state, refused = room(12), 0
    long_text = "😀" * MAX_ACTION_TEXT
    for n in range(12 * MAX_ACTIONS_PER_PERSON):
        try:
            state = send(state, {"type": "add_action", "text": long_text}, person(n % 12), n)
        except Conflict as exc:
            assert "as much writing as it can show" in exc.message
            refused += 1
    assert refused > 0
    size = len(json.dumps(shared_view(state, 1.0), ensure_ascii=False).encode())
    assert MAX_VIEW_BYTES * 0.8 < size <= MAX_VIEW_BYTES * 1.05
    # Writing that shrinks the content is still taken, and a short action fits again after it.
    mine = next(a for a in state.actions if a.participant_id == "p0")
    state = send(state, {"type": "remove_action", "action_id": mine.id}, person(0), 1000)
    send(state, {"type": "add_action", "text": "Book the room"}, person(0), 1001)


def test_pending_items_count_toward_the_ceiling_before_they_are_revealed() -> None:
    state = room(1)
    before = engine.content_bytes(state)
    state = send(state, {"type": "submit_item", "kind": "question", "text": "é" * MAX_ITEM_TEXT}, person(0))
    assert engine.content_bytes(state) - before >= 2 * MAX_ITEM_TEXT


def test_local_buckets_take_from_every_bucket_or_from_none() -> None:
    limits = LocalLimits()
    a, b = Bucket("a", 1.0, 2), Bucket("b", 1.0, 1)

    async def scenario() -> None:
        assert await limits.take([a, b], now=0.0) == 0.0
        assert await limits.take([a, b], now=0.0) == pytest.approx(1.0)  # b is empty
        assert await limits.take([a], now=0.0) == 0.0  # so a kept its token
        assert await limits.wait(a, now=0.5) == pytest.approx(0.5)
        assert await limits.take([a, b], now=1.0) == 0.0

    asyncio.run(scenario())


# ------------------------------------------------------------------ real servers with small limits

MODES = ["memory", "redis"]


def rotate(servers: list[ServerProcess]) -> Callable[[int], Api]:
    apis = [Api(s.base_url) for s in servers]
    return lambda n: apis[n % len(apis)]


def refused_429(answer) -> None:
    assert answer.status_code == 429, (answer.status_code, answer.text[:300])
    assert int(answer.headers["retry-after"]) >= 1
    assert error_of(answer)["code"] == "rate_limited"


@pytest.mark.parametrize("mode", MODES)
def test_one_address_creates_its_burst_of_sessions_then_waits(start, mode: str) -> None:
    servers = start(mode, {"SESSION_BURST_PER_ADDRESS": "4", "SESSIONS_PER_ADDRESS_PER_HOUR": "1"}, workers=2)
    api = rotate(servers)
    for n in range(4):  # alternating workers: in Redis mode their counts add up
        assert api(n).request("POST", "/api/sessions", json={"title": f"S{n}"}).status_code == 201
    for n in range(4, 6):
        refused_429(api(n).request("POST", "/api/sessions", json={"title": "One too many"}))


@pytest.mark.parametrize("mode", MODES)
def test_one_address_joins_a_roomful_then_waits(start, mode: str) -> None:
    servers = start(mode, {"JOIN_BURST_PER_ADDRESS": "6", "JOINS_PER_ADDRESS_PER_MINUTE": "1"}, workers=2)
    api = rotate(servers)
    code = api(0).create_session()["code"]
    for n in range(6):
        api(n).join(code, f"Person {n}")
    refused_429(api(6).request("POST", f"/api/sessions/{code}/participants", json={"name": "Seventh"}))


def test_the_default_join_burst_lets_a_whole_room_in_from_one_address(server: ServerProcess,
                                                                     request: pytest.FixtureRequest) -> None:
    """The default is what a hospital needs: 200 people behind one Wi-Fi address, in four
    rooms of 50 at once (one room's own pace past its first places: tests/test_limits_hold.py)."""
    defaults = {name.upper(): str(AppSettings.model_fields[name].default)  # the harness raises these
                for name in ("session_burst_per_address", "join_burst_per_address", "session_join_burst_per_address")}
    fresh = ServerProcess(env={**_mode_env(server, request), **defaults}).start()
    try:
        with Api(fresh.base_url) as api:
            codes = [api.create_session(title=f"Room {r}")["code"] for r in range(4)]
            for n in range(200):
                api.join(codes[n % 4], f"Person {n}")
    finally:
        fresh.stop()


def _mode_env(server: ServerProcess, request: pytest.FixtureRequest) -> dict[str, str]:
    if getattr(server, "mode", "memory") == "redis":
        return {"REDIS_URL": server.env["REDIS_URL"], "REDIS_PREFIX": f"tp-{uuid.uuid4().hex[:8]}:"}
    groups = request.getfixturevalue("tmp_path_factory").mktemp("groups") / "groups.sqlite3"
    return {"REDIS_URL": "", "GROUPS_DB": str(groups)}


def test_a_locked_session_refuses_joins_over_http_until_unlocked(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created = api.create_session(title="Everyone is in")
            code, fac_token = created["code"], created["facilitator_token"]
            api.join(code, "Ana")
            fac = await LiveClient.connect(server.ws_base, code, fac_token)
            await fac.apply({"type": "lock_room"})
            assert fac.view["locked"] is True
            answer = api.request("POST", f"/api/sessions/{code}/participants", json={"name": "Intruder"})
            assert answer.status_code == 409 and error_of(answer)["code"] == "conflict"
            assert [p["name"] for p in api.view(code, fac_token)["participants"]] == ["Ana"]
            api.ok(code, fac_token, {"type": "unlock_room"})
            api.join(code, "Ben, late")
            await fac.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("mode", MODES)
def test_one_token_holds_a_handful_of_sockets_on_all_workers_together(start, mode: str) -> None:
    servers = start(mode, {"MAX_SOCKETS_PER_TOKEN": "3"}, workers=2)
    created = Api(servers[0].base_url).create_session()
    code, token = created["code"], created["facilitator_token"]
    urls = [s.live_url(code, token) for s in servers]

    async def scenario() -> None:
        held = [await LiveClient.connect(servers[n % len(servers)].ws_base, code, token) for n in range(3)]
        for url in urls:
            with pytest.raises(websockets.InvalidStatus) as refused:
                await websockets.connect(url)
            assert refused.value.response.status_code == 429
            assert json.loads(refused.value.response.body)["error"]["code"] == "rate_limited"
        other = await LiveClient.connect(servers[-1].ws_base, code, created["screen_token"])  # another token: fine
        await held[0].close()
        for _ in range(50):  # the slot is free once the server has seen the close
            try:
                held[0] = await LiveClient.connect(servers[0].ws_base, code, token)
                break
            except websockets.InvalidStatus:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the closed socket's slot never came back")
        for client in (*held, other):
            await client.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("mode", MODES)
def test_a_token_sending_too_fast_is_refused_over_http_and_on_its_socket(start, mode: str) -> None:
    (app,) = start(mode, {"TOKEN_MESSAGE_BURST": "5", "TOKEN_MESSAGES_PER_S": "0.2"})

    async def scenario() -> None:
        with Api(app.base_url) as api:
            created = api.create_session()
            code = created["code"]
            ana, ben = api.join(code, "Ana"), api.join(code, "Ben")
            api.ok(code, created["facilitator_token"], {"type": "start"})
            for _ in range(5):
                api.ok(code, ana["token"], {"type": "raise_hand"})
            refused_429(api.command(code, ana["token"], {"type": "lower_hand"}))
            phone = await LiveClient.connect(app.ws_base, code, ana["token"])
            error = await phone.refused({"type": "lower_hand"}, "rate_limited", id="too-fast")
            assert error["id"] == "too-fast"  # the client knows which command to send again
            api.ok(code, ben["token"], {"type": "raise_hand"})  # the others are not held back
            await phone.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("mode", MODES)
def test_a_session_takes_its_burst_of_commands_from_everyone_then_slows_them(start, mode: str) -> None:
    servers = start(mode, {"SESSION_MESSAGE_BURST": "9", "SESSION_MESSAGES_PER_S": "0.2"}, workers=2)
    api = rotate(servers)
    created = api(0).create_session()
    code = created["code"]
    people = [api(n).join(code, f"P{n}") for n in range(3)]
    other = api(1).create_session(title="Next door")
    answers = [api(n).command(code, people[n % 3]["token"], {"type": "request_word"}).status_code
               for n in range(9)]
    assert answers == [200] * 9
    refused_429(api(0).command(code, people[0]["token"], {"type": "withdraw_word"}))
    refused_429(api(1).command(code, people[1]["token"], {"type": "withdraw_word"}))
    api(0).ok(other["code"], other["facilitator_token"], {"type": "start"})  # another room is untouched


def test_one_person_submits_at_most_their_share_of_items_and_retracting_frees_one(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            created = api.create_session()
            code = created["code"]
            ana, ben = api.join(code, "Ana"), api.join(code, "Ben")
            api.ok(code, created["facilitator_token"], {"type": "start"})
            phone = await LiveClient.connect(server.ws_base, code, ana["token"])
            receipts = []
            for n in range(MAX_ITEMS_PER_PERSON):
                ack = await phone.send_command({"type": "submit_item", "kind": "question", "text": f"Why {n}?"})
                assert ack["type"] == "ack", ack
                receipts.append(ack["receipt"])
            error = await phone.refused({"type": "submit_item", "kind": "question", "text": "And?"}, "conflict")
            assert "most items one person may" in error["error"]["message"]
            api.ok(code, ben["token"], {"type": "submit_item", "kind": "question", "text": "Ben's"})
            await phone.send_command({"type": "retract_item", "receipt": receipts[0]})
            ack = await phone.send_command({"type": "submit_item", "kind": "question", "text": "Instead?"})
            assert ack["type"] == "ack"
            # the count reaches the room at a fold (the test server folds several times a second)
            waiting = 0
            for _ in range(100):
                waiting = api.view(code, created["facilitator_token"])["pending"]["question"]
                if waiting == MAX_ITEMS_PER_PERSON + 1:
                    break
                await asyncio.sleep(0.05)
            assert waiting == MAX_ITEMS_PER_PERSON + 1
            await phone.close()

    asyncio.run(scenario())


def test_join_code_guesses_count_across_workers(start) -> None:
    servers = start("redis", {"GUESSES_PER_MINUTE": "4"}, workers=2)
    api = rotate(servers)
    for n in range(4):
        assert api(n).request("GET", f"/api/sessions/ZZZZZ{'23456789'[n]}", "x").status_code == 404
    for n in range(2):
        refused_429(api(n).request("GET", "/api/sessions/ZZZZZZ", "x"))


def test_the_console_offers_the_lock_and_then_the_unlock() -> None:
    state = room(2)
    people = render_regions(state, FACILITATOR, 1.0, {})["people"]
    assert 'value="lock_room"' in people and 'value="unlock_room"' not in people
    people = render_regions(send(state, {"type": "lock_room"}), FACILITATOR, 1.0, {})["people"]
    assert 'value="unlock_room"' in people and "nobody new can join" in people
