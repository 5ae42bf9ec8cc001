"""Reconnect soak: phones whose connections drop with commands in flight lose nothing.

Ten phones each send a run of anonymous questions. A hundred times, chosen at random
(seeded, so a failure replays), a phone's TCP connection is cut right after it sent a
command: no close frame, the way a phone leaving the wifi drops. The phone connects again
(in Redis mode to either of two workers, as a load balancer would pick) and sends the same
command id again, as CONTRACT.md tells clients to. Afterwards:

- no command is lost: every command id was acknowledged, and every question is there;
- none is applied twice: each question is there once, however often it was sent;
- a command sent again is answered with its first acknowledgement (the same item), not an
  error;
- every client ends on the same final version.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests.conftest import STORE_MODES, server_env, store_id
from tests.support.client import Api, LiveClient
from tests.support.server import ServerProcess

PHONES = 10
COMMANDS_EACH = 14
DROPS = 100
SEED = 20261123
WORDS = ["river", "kettle", "harbour", "lantern", "meadow", "compass", "orchard", "pebble", "thistle",
         "candle", "willow", "ember", "quarry", "saddle", "juniper", "marble"]


@pytest.fixture(params=STORE_MODES, ids=store_id)
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """One server embedded; two workers on one Redis (a phone may come back to either)."""
    env = server_env(request.param, request)
    if request.param == "redis":
        env["REDIS_PREFIX"] = f"tp-soak-{uuid.uuid4().hex[:8]}:"
    count = 2 if request.param == "redis" else 1
    started = [ServerProcess(env=env, log_path=tmp_path / f"server{i}.log").start() for i in range(count)]
    try:
        yield started
    finally:
        for server in started:
            server.stop()


def question(phone: int, n: int) -> str:
    return f"what would change if the {WORDS[n % len(WORDS)]} part went first, {'and ' * phone}then?"


async def soak(servers: list[ServerProcess]) -> None:
    rng = random.Random(SEED)
    api = Api(servers[0].base_url)
    created = api.create_session("Soak")
    code = created["code"]
    tokens = [api.join(code, f"Phone {i}")["token"] for i in range(PHONES)]
    fac = await LiveClient.connect(servers[0].ws_base, code, created["facilitator_token"])
    await fac.apply({"type": "start"})

    total = PHONES * COMMANDS_EACH
    # Which sends are followed by a cut: DROPS of them, spread over every phone's commands
    # (a command may be cut more than once, its resend too).
    cuts = Counter(rng.randrange(total) for _ in range(DROPS))
    acks: dict[str, list[dict]] = {}
    dropped = 0
    clients: dict[int, LiveClient] = {}

    async def connect(phone: int) -> LiveClient:
        server = rng.choice(servers)
        for attempt in range(50):
            try:
                return await LiveClient.connect(server.ws_base, code, tokens[phone])
            except (OSError, websockets.ConnectionClosed, TimeoutError):
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError(f"phone {phone} could not reconnect")

    async def run_phone(phone: int) -> None:
        nonlocal dropped
        client = clients[phone] = await connect(phone)
        for n in range(COMMANDS_EACH):
            index = phone * COMMANDS_EACH + n
            command_id = f"p{phone}-q{n}"
            frame = json.dumps({"type": "command", "id": command_id,
                                "command": {"type": "submit_item", "kind": "question", "text": question(phone, n)}})
            while True:
                try:
                    await client.ws.send(frame)
                    if cuts[index] > 0:
                        cuts[index] -= 1
                        await asyncio.sleep(rng.choice([0, 0.001, 0.003, 0.01, 0.02]))  # sometimes it lands first
                        client.ws.transport.abort()  # no close frame: the phone just vanishes
                        dropped += 1
                        raise websockets.ConnectionClosed(None, None)
                    reply = await client.reply(command_id, timeout=15)
                except (websockets.ConnectionClosed, OSError):
                    client = clients[phone] = await connect(phone)
                    continue
                acks.setdefault(command_id, []).append(reply)
                break

    await asyncio.gather(*(run_phone(i) for i in range(PHONES)))
    assert dropped == DROPS

    # Nothing lost, nothing refused: one acknowledgement per command id, each an ack.
    assert len(acks) == total
    refused = {cid: r for cid, replies in acks.items() for r in replies if r["type"] != "ack"}
    assert refused == {}, refused

    # Nothing applied twice: every question exactly once.
    view = (await fac.wait_for_state(lambda v: v["pending"]["question"] >= total, timeout=15))["view"]
    assert view["pending"]["question"] == total
    await fac.apply({"type": "reveal_items", "kind": "question"})
    items = (await fac.wait_for_state(lambda v: len(v["items"]) >= total, timeout=15))["view"]["items"]
    texts = Counter(item["text"] for item in items)
    expected = Counter(question(p, n) for p in range(PHONES) for n in range(COMMANDS_EACH))
    assert texts == expected
    assert len({ack["item_id"] for replies in acks.values() for ack in replies}) == total

    # A command sent again after its acknowledgement was lost gets the first one back.
    phone, n = 3, 5
    again = await clients[phone].send_command(
        {"type": "submit_item", "kind": "question", "text": question(phone, n)}, id=f"p{phone}-q{n}")
    assert again["type"] == "ack" and again["item_id"] == acks[f"p{phone}-q{n}"][0]["item_id"]

    # Every client, on whichever worker, ends on the same final version.
    final = api.view(code, created["facilitator_token"])["version"]
    for client in [fac, *clients.values()]:
        await client.wait_for_version(final, timeout=15)
    versions = {client.version for client in [fac, *clients.values()]}
    assert versions == {final}, versions
    for client in clients.values():
        await client.close()
    await fac.close()


def test_a_hundred_dropped_connections_with_commands_in_flight_lose_nothing(servers: list[ServerProcess]) -> None:
    asyncio.run(asyncio.wait_for(soak(servers), 120))
