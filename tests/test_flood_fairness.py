"""One busy room cannot delay another room's turn ends by more than 0.5 s.

A real server; one room flooded by every socket its participants may open, each sending
as fast as the per-socket limit lets it, with commands that change the room (so every
one is fanned out to all its sockets); meanwhile another room runs a round of short
turns. How late each turn of the quiet room ended is read from the server's own clock:
the next turn's ``started_at`` against the previous turn's ``ends_at``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import pytest
import websockets

from tests.conftest import STORE_MODES, store_id
from tests.support.client import Api, LiveClient
from tests.support.server import ServerProcess

pytestmark = pytest.mark.timeout(240)

FLOODERS, SOCKETS_EACH, TURNS, TURN_S = 12, 5, 6, 1.0
LATE_LIMIT_S = 0.5


@pytest.fixture(params=STORE_MODES, ids=store_id)
def app(request: pytest.FixtureRequest, tmp_path) -> Iterator[ServerProcess]:
    env = {"REDIS_URL": "", "GROUPS_DB": str(tmp_path / "groups.sqlite3"), "LOG_LEVEL": "info"}
    if request.param == "redis":
        env = {"REDIS_URL": request.getfixturevalue("redis_server").url,
               "REDIS_PREFIX": f"tp-{uuid.uuid4().hex[:8]}:", "LOG_LEVEL": "info"}
    server = ServerProcess(env=env, log_path=tmp_path / "server.log").start()
    try:
        yield server
    finally:
        server.stop()


async def flood(url: str, stop: asyncio.Event, sent: list[int]) -> None:
    """One socket sending hand up, hand down at the per-socket limit, reading what comes back."""
    try:
        async with websockets.connect(url, max_size=None, max_queue=None) as ws:
            async def drain() -> None:
                async for _ in ws:
                    pass

            reader = asyncio.create_task(drain())
            n = 0
            while not stop.is_set():
                kind = "raise_hand" if n % 2 == 0 else "lower_hand"
                await ws.send(json.dumps({"type": "command", "id": f"f{n}", "command": {"type": kind}}))
                n += 1
                sent[0] += 1
                await asyncio.sleep(1 / 20)
            reader.cancel()
    except websockets.ConnectionClosed:
        pass  # closed for flooding, or too slow: that is the server defending itself


def test_a_flooded_room_does_not_make_another_rooms_turns_end_late(app: ServerProcess) -> None:
    async def scenario() -> list[float]:
        api = Api(app.base_url)
        busy = api.create_session(title="Flooded")
        flooders = [api.join(busy["code"], f"F{n}") for n in range(FLOODERS)]
        api.ok(busy["code"], busy["facilitator_token"], {"type": "start"})
        quiet = api.create_session(title="Quiet")
        for n in range(TURNS + 1):  # one round: a turn end between each two of them
            api.join(quiet["code"], f"Q{n}")
        api.ok(quiet["code"], quiet["facilitator_token"], {"type": "start"})
        watcher = await LiveClient.connect(app.ws_base, quiet["code"], quiet["facilitator_token"])

        stop, sent = asyncio.Event(), [0]
        floods = [asyncio.create_task(flood(app.live_url(busy["code"], f["token"]), stop, sent))
                  for f in flooders for _ in range(SOCKETS_EACH)]
        await asyncio.sleep(2)  # the flood is at full strength
        lateness: list[float] = []
        try:
            api.ok(quiet["code"], quiet["facilitator_token"], {"type": "start_round", "seconds_per_turn": TURN_S})
            previous = (await watcher.wait_for_state(lambda v: v["turn"] is not None, timeout=10))["view"]["turn"]
            while len(lateness) < TURNS:
                view = (await watcher.wait_for_state(
                    lambda v: v["turn"] is not None and v["turn"]["started_at"] > previous["started_at"],
                    timeout=15))["view"]
                lateness.append(view["turn"]["started_at"] - previous["ends_at"])
                previous = view["turn"]
        finally:
            stop.set()
            await asyncio.gather(*floods, return_exceptions=True)
        assert sent[0] > FLOODERS * SOCKETS_EACH * 20, f"the flood was too weak to prove anything: {sent[0]}"
        await watcher.close()
        api.close()
        return lateness

    lateness = asyncio.run(asyncio.wait_for(scenario(), 200))
    print("turn ends late by", [round(x, 3) for x in lateness])
    assert max(lateness) <= LATE_LIMIT_S, lateness

