"""The seats audit: the red team's method of minting seats from seats, run until it finds nothing.

Whoever holds a console may try every way to outlast their grant or shut the host out: invite
a co-facilitator and hand them the lead, hand the facilitation to a participant who invites
more, take over while the host's console is closed, revoke upwards, pass the facilitation on.
The core's walk tries random sequences of all of these from every seat, and after each step
holds what SECURITY.md promises:

- every seat holds through an unbroken chain of grants up to the host, and a seat that ended
  never holds again (its token stays refused, whatever happens after);
- the host can always take the lead back, and then close; nobody else may erase, and only a
  lead the host handed it to may close besides the host;
- a seat granted through a participant's facilitation never sees who asked for a private word.

Through the server, in both store modes, a chain four seats deep is cut at two places: every
token below the cut answers 401 and every socket of it, JSON and pages alike, closes with 4401,
while the seats above go on; with two workers on one Redis, sockets on the other worker close too.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from app.facilitation import cofacilitation, commands, engine
from app.facilitation.errors import FacilitationError, Unauthorized
from app.facilitation.formats import format_with_durations
from app.facilitation.models import FACILITATOR, SYSTEM, Actor, Fresh, SessionState
from app.facilitation.views import view_for
from app.realtime.service import actor_for, token_hash
from tests.support.client import Api, LiveClient, SocketClosed, close_all
from tests.support.redis_server import RedisServer
from tests.support.server import ServerProcess

PEOPLE = ("p0", "p1", "p2", "p3")


# ---------------------------------------------------------------- the core's walk

def _room() -> SessionState:
    state = engine.new_session(code="SEAT22", title="t", format=format_with_durations("check-in-out", None), now=0.0,
                               salt="salt", facilitator_token_hash=token_hash("host-token"),
                               screen_token_hash=token_hash("screen-token"))
    for i, pid in enumerate(PEOPLE):
        state = engine.join(state, participant_id=pid, name=f"N{i}", token_hash=token_hash(f"token-{pid}"), now=0.0).state
    state = engine.apply(state, commands.parse_command({"type": "start"}), FACILITATOR, 0.5,
                         Fresh(id="s", secret="s")).state
    word = Actor(role="participant", participant_id="p3", key="k3")
    state = engine.apply(state, commands.parse_command({"type": "request_word"}), word, 0.6, Fresh(id="w", secret="w")).state
    return state


def _seat_actor(state: SessionState, seat: str) -> Actor:
    return FACILITATOR if seat == cofacilitation.HOST else Actor(role="facilitator", seat=seat)


def _moves(state: SessionState, rng: random.Random) -> tuple[str, dict[str, Any] | None, str]:
    """One thing a seat might try: (the seat that tries, the command or None for its console closing/opening, what)."""
    seats = cofacilitation.seats(state)
    who = rng.choice(seats)
    others = [s for s in seats if s != who] + ["host"]
    pick = rng.random()
    if pick < 0.25:
        return who, {"type": "invite_cofacilitator", "name": f"C{rng.randrange(100)}"}, "invite"
    if pick < 0.45:
        to = rng.choice(others + list(PEOPLE))
        return who, {"type": "hand_over", "to": to}, "hand_over"
    if pick < 0.55 and state.cofacilitators:
        return who, {"type": "revoke_cofacilitator", "cofacilitator_id": rng.choice(state.cofacilitators).id}, "revoke"
    if pick < 0.62:
        return who, {"type": "remove_participant", "participant_id": rng.choice(PEOPLE)}, "remove"
    if pick < 0.68:
        return who, {"type": "readmit_participant", "participant_id": rng.choice(PEOPLE)}, "readmit"
    if pick < 0.72:
        return "host", {"type": "take_back"}, "take_back"
    return who, None, "presence"


def _check(state: SessionState, ended: dict[str, str], host_word: str | None, now: float) -> None:
    """``host_word``: the seat the host last handed the lead to, unless the host led since."""
    for seat in cofacilitation.seats(state):
        found = cofacilitation.chain(state, seat)
        assert found is not None and found[-1] == "host", (seat, found)
        me = view_for(state, _seat_actor(state, seat), now)["me"]
        if cofacilitation.through_peer(state, seat):
            assert me["word_requests"] == [], seat
        assert me["may_erase"] is (seat == "host")
        if me["may_close"]:
            assert me["lead"] and seat in ("host", host_word), (seat, host_word)
    for seat, token in ended.items():  # once ended, never back
        assert not cofacilitation.is_seat(state, seat) or seat.startswith(cofacilitation.PEER), seat
        if not seat.startswith(cofacilitation.PEER):
            with pytest.raises(Unauthorized):
                actor_for(state, token)
    # The host is never locked out: take the lead back, then close.
    taken = engine.apply(state, commands.TakeBack(type="take_back"), FACILITATOR, now, Fresh(id="t", secret="t")).state
    assert cofacilitation.lead_of(taken) == "host" and taken.peer_id is None
    closed = engine.apply(taken, commands.Close(type="close"), FACILITATOR, now, Fresh(id="c", secret="c")).state
    assert closed.status.value == "closed"


@pytest.mark.parametrize("seed", range(40))
def test_no_walk_of_minted_seats_outlives_its_grant_or_locks_the_host_out(seed: int) -> None:
    rng = random.Random(seed)
    state = _room()
    ended: dict[str, str] = {}  # co-facilitator seat -> its token, once it ended
    minted: dict[str, str] = {}
    host_word: str | None = None
    now = 1.0
    for step in range(40):
        now += 1.0
        who, command, what = _moves(state, rng)
        before = {co.id for co in state.cofacilitators}
        if command is None:  # a console closes or opens; at the next fold someone may take over
            state = engine.set_seat_online(state, who, rng.random() < 0.5, now).state
            if state.flush_at is not None:
                now = max(now, state.flush_at)
                state = engine.apply(state, commands.FlushTallies(type="flush_tallies"), SYSTEM, now,
                                     Fresh(id="f", secret="")).state
        else:
            fresh = Fresh(id=f"{seed}x{step}", secret=f"secret-{seed}-{step}")
            try:
                done = engine.apply(state, commands.parse_command(command), _seat_actor(state, who), now, fresh)
            except FacilitationError:
                continue
            state = done.state
            if what == "invite":
                minted[done.reply["cofacilitator_id"]] = done.reply["token"]
            if what == "hand_over" and who == "host":
                host_word = cofacilitation.lead_of(state)
        if cofacilitation.lead_of(state) == "host" or (host_word and not cofacilitation.is_seat(state, host_word)):
            host_word = None  # the host leads again, or the seat the host gave its word to ended
        for seat in before - {co.id for co in state.cofacilitators}:
            ended[seat] = minted[seat]
        _check(state, ended, host_word, now)


# ---------------------------------------------------------------- through the server

async def pages_socket(server: ServerProcess, code: str, token: str) -> Any:
    """The pages' live socket (HTML fragments), as a console page opens it."""
    return await websockets.connect(f"{server.ws_base}/live/{code}?token={token}", open_timeout=10)


async def pages_closed(ws: Any, timeout: float = 10.0) -> int | None:
    async def drain() -> int | None:
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
    return await asyncio.wait_for(drain(), timeout)


async def chain_of_four(api: Api, server: ServerProcess) -> dict[str, Any]:
    """Host -> Sam (invited, handed the lead) -> Kim (Sam's, handed the lead) -> Ana (handed the
    facilitation by Kim, leading) -> Lee (Ana's): each holds only through the ones before."""
    created = api.create_session(format="check-in-out")
    code, host = created["code"], created["facilitator_token"]
    ana, ben = api.join(code, "Ana"), api.join(code, "Ben")
    fac = await LiveClient.connect(server.ws_base, code, host)
    await fac.apply({"type": "start"})
    sam = await fac.apply({"type": "invite_cofacilitator", "name": "Sam"})
    await fac.apply({"type": "hand_over", "to": sam["cofacilitator_id"]})
    sam_ws = await LiveClient.connect(server.ws_base, code, sam["token"])
    kim = await sam_ws.apply({"type": "invite_cofacilitator", "name": "Kim"})
    await sam_ws.apply({"type": "hand_over", "to": kim["cofacilitator_id"]})
    kim_ws = await LiveClient.connect(server.ws_base, code, kim["token"])
    await kim_ws.apply({"type": "hand_over", "to": ana["participant_id"]})
    ana_ws = await LiveClient.connect(server.ws_base, code, ana["token"] + "&as=console")
    lee = await ana_ws.apply({"type": "invite_cofacilitator", "name": "Lee"})
    lee_ws = await LiveClient.connect(server.ws_base, code, lee["token"])
    seats = (await fac.wait_for_state(lambda v: len(v["me"]["seats"]) == 4))["view"]["me"]["seats"]
    assert [(s["name"], s["by_name"]) for s in seats] == [("Sam", None), ("Kim", "Sam"), ("Ana", "Kim"), ("Lee", "Ana")]
    return {"code": code, "host": host, "fac": fac, "ben": ben, "ana": ana,
            "sam": (sam, sam_ws), "kim": (kim, kim_ws), "ana_console": ana_ws, "lee": (lee, lee_ws)}


async def refused_everywhere(api: Api, server: ServerProcess, code: str, token: str) -> None:
    assert api.request("GET", f"/api/sessions/{code}", token).status_code == 401
    assert api.command(code, token, {"type": "next_phase"}).status_code == 401
    with pytest.raises(SocketClosed) as refused:
        await LiveClient.connect(server.ws_base, code, token)
    assert refused.value.code == 4401


def test_cutting_a_chain_of_minted_seats_ends_everything_below_the_cut(server: ServerProcess) -> None:
    async def scenario() -> None:
        with Api(server.base_url) as api:
            c = await chain_of_four(api, server)
            code, fac = c["code"], c["fac"]
            lee, lee_ws = c["lee"]
            lee_page = await pages_socket(server, code, lee["token"])
            # The host takes back: Ana's facilitation ends, and Lee's seat with it; Sam and Kim go on.
            await fac.apply({"type": "take_back"})
            assert (await c["ana_console"].closed())[0] == 4401
            assert (await lee_ws.closed())[0] == 4401
            assert await pages_closed(lee_page) == 4401
            await refused_everywhere(api, server, code, lee["token"])
            kim, kim_ws = c["kim"]
            await kim_ws.apply({"type": "next_phase"})
            # Revoking Sam ends Kim too, on every socket, and the host is leading throughout.
            sam, sam_ws = c["sam"]
            kim_page = await pages_socket(server, code, kim["token"])
            await fac.apply({"type": "revoke_cofacilitator", "cofacilitator_id": sam["cofacilitator_id"]})
            for ws in (sam_ws, kim_ws):
                assert (await ws.closed())[0] == 4401
            assert await pages_closed(kim_page) == 4401
            for token in (sam["token"], kim["token"]):
                await refused_everywhere(api, server, code, token)
            view = await fac.wait_for_state(lambda v: v["me"]["seats"] == [])
            assert view["view"]["me"]["lead"] and view["view"]["status"] == "running"
            await close_all([fac])
    asyncio.run(asyncio.wait_for(scenario(), 60))


@pytest.fixture()
def two_workers(redis_server: RedisServer, tmp_path: Any) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": f"tp-{uuid.uuid4().hex[:8]}:"}
    pair = [ServerProcess(env=env, log_path=tmp_path / f"worker{i}.log").start() for i in range(2)]
    try:
        yield pair[0], pair[1]
    finally:
        for worker in pair:
            worker.stop()


def test_a_minted_seats_sockets_on_another_worker_close_when_its_grant_ends(two_workers) -> None:
    a, b = two_workers

    async def scenario() -> None:
        with Api(a.base_url) as api:
            created = api.create_session(format="check-in-out")
            code, host = created["code"], created["facilitator_token"]
            ana = api.join(code, "Ana")
            fac = await LiveClient.connect(a.ws_base, code, host)
            await fac.apply({"type": "start"})
            await fac.apply({"type": "hand_over", "to": ana["participant_id"]})
            console = await LiveClient.connect(b.ws_base, code, ana["token"] + "&as=console")
            kim = await console.apply({"type": "invite_cofacilitator", "name": "Kim"})
            on_b = await LiveClient.connect(b.ws_base, code, kim["token"])
            page_b = await pages_socket(b, code, kim["token"])
            await fac.apply({"type": "take_back"})  # on worker A
            for ws in (console, on_b):
                assert (await ws.closed())[0] == 4401
            assert await pages_closed(page_b) == 4401
            with Api(b.base_url) as other:
                assert other.request("GET", f"/api/sessions/{code}", kim["token"]).status_code == 401
            await close_all([fac])
    asyncio.run(asyncio.wait_for(scenario(), 60))
