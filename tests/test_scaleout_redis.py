"""Several workers on one Redis behave as one: nothing lost, nothing applied twice.

Two real server processes share a real redis-server. Clients pick a worker as a load
balancer would, and move to the other when theirs dies.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from tests.support.client import Api, LiveClient, speaker
from tests.support.redis_server import RedisServer
from tests.support.server import ServerProcess


@pytest.fixture()
def workers(redis_server: RedisServer, tmp_path) -> Iterator[tuple[ServerProcess, ServerProcess, str]]:
    prefix = f"tp-{uuid.uuid4().hex[:8]}:"
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": prefix, "CLOSED_TTL_S": "600"}
    pair = [ServerProcess(env=env, log_path=tmp_path / f"worker{i}.log").start() for i in range(2)]
    try:
        yield pair[0], pair[1], prefix
    finally:
        for worker in pair:
            worker.stop()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_facilitator_on_one_worker_and_phones_on_the_other_see_every_change(workers) -> None:
    a, b, _ = workers

    async def scenario() -> None:
        created = Api(a.base_url).create_session(title="Two workers")
        people = [Api(b.base_url).join(created["code"], n) for n in ("Ana", "Ben")]
        fac = await LiveClient.connect(a.ws_base, created["code"], created["facilitator_token"])
        phones = [await LiveClient.connect(b.ws_base, created["code"], p["token"]) for p in people]
        await fac.send_command({"type": "start"})
        await fac.send_command({"type": "start_round", "seconds_per_turn": 1})
        for phone in phones:
            await phone.wait_for_state(lambda v: speaker(v) == people[0]["participant_id"])
        await phones[1].send_command({"type": "raise_hand"})
        view = (await fac.wait_for_state(lambda v: v["participants"][1]["hand_raised"]))["view"]
        # Every socket on both workers went through the same versions, in order, ending together.
        final = (await fac.wait_for_state(lambda v: v["round"] is None and v["version"] > view["version"]))["view"]
        for phone in phones:
            await phone.wait_for_state(lambda v: v["version"] == final["version"])
        seen = [[f["version"] for f in live.frames if f["type"] == "state"] for live in (fac, *phones)]
        assert all(s == sorted(set(s)) for s in seen)
        assert [p["spoken_s"] for p in final["participants"]] == [1.0, 1.0]
        for live in (fac, *phones):
            await live.close()

    run(scenario())


def test_a_hundred_concurrent_votes_and_items_over_two_workers_all_count_once(workers) -> None:
    a, b, _ = workers

    async def scenario() -> None:
        api = Api(a.base_url)
        created = api.create_session(title="Busy room")
        code = created["code"]
        people = [Api([a, b][i % 2].base_url).join(code, f"P{i}") for i in range(50)]
        api.ok(code, created["facilitator_token"], {"type": "start"})
        phones = [await LiveClient.connect([a, b][i % 2].ws_base, code, p["token"]) for i, p in enumerate(people)]
        submitted = await asyncio.gather(*[
            phone.send_command({"type": "submit_item", "kind": "question", "text": f"Question {i}?"})
            for i, phone in enumerate(phones)])
        assert all(s["type"] == "ack" for s in submitted)
        api.view_when(code, created["facilitator_token"], lambda v: v["pending"]["question"] == 50)
        api.ok(code, created["facilitator_token"], {"type": "reveal_items", "kind": "question"})
        items = api.view(code, created["facilitator_token"])["items"]
        assert sorted(i["text"] for i in items) == sorted(f"Question {i}?" for i in range(50))
        target = items[0]["id"]
        votes = await asyncio.gather(*[phone.send_command({"type": "vote_item", "item_id": target}, id=f"v{i}")
                                       for i, phone in enumerate(phones)])
        again = await asyncio.gather(*[phone.send_command({"type": "vote_item", "item_id": target}, id=f"v{i}")
                                       for i, phone in enumerate(phones)])
        assert all(v["type"] == "ack" for v in votes) and again == votes  # resent ids: acknowledged, not recounted
        view = api.view_when(code, created["facilitator_token"],  # counted at a fold, not one by one
                             lambda v: next(i["votes"] for i in v["items"] if i["id"] == target) >= 50)
        await asyncio.sleep(1.0)  # a few folds more: no vote counted twice
        view = api.view(code, created["facilitator_token"])
        assert next(i["votes"] for i in view["items"] if i["id"] == target) == 50
        assert len(view["items"]) == 50
        # Together: each phone holds dozens of unread states, and closing one by one is slow.
        await asyncio.gather(*(phone.close() for phone in phones), return_exceptions=True)

    run(scenario())


def test_a_killed_worker_loses_nothing_and_the_round_ends_on_time(workers) -> None:
    a, b, _ = workers

    async def scenario() -> None:
        created = Api(b.base_url).create_session(title="Resilient")
        code = created["code"]
        people = [Api(a.base_url).join(code, n) for n in ("Ana", "Ben", "Cleo")]
        fac = await LiveClient.connect(a.ws_base, code, created["facilitator_token"])
        phones = [await LiveClient.connect(a.ws_base, code, p["token"]) for p in people]
        await phones[0].send_command({"type": "raise_hand"})
        await fac.send_command({"type": "start"})
        await phones[1].send_command({"type": "submit_item", "kind": "feedback", "text": "Thank you"}, id="fb-1")
        await fac.send_command({"type": "start_round", "seconds_per_turn": 1.5})
        started = (await fac.wait_for_state(lambda v: v["round"] is not None))["view"]

        a.kill()  # kill -9 the worker that served everyone and scheduled the deadlines

        fac = await LiveClient.connect(b.ws_base, code, created["facilitator_token"])
        phones = [await LiveClient.connect(b.ws_base, code, p["token"]) for p in people]
        resent = await phones[1].send_command({"type": "submit_item", "kind": "feedback", "text": "Thank you"},
                                         id="fb-1")
        assert resent["type"] == "ack"  # the phone resends what it was unsure of: still applied once
        final = (await fac.wait_for_state(lambda v: v["round"] is None, timeout=15))["view"]
        turns = [f["view"]["turn"] for f in fac.frames if f["type"] == "state" and f["view"]["turn"]]
        assert all(t["duration_s"] == 1.5 for t in turns)
        assert [p["spoken_s"] for p in final["participants"]] == [1.5, 1.5, 1.5]
        assert final["pending"]["feedback"] == 1
        assert final["version"] > started["version"]
        for live in (fac, *phones):
            await live.close()

    run(scenario())


def test_a_closed_session_expires_from_redis(workers, redis_server: RedisServer) -> None:
    a, _, prefix = workers
    api = Api(a.base_url)
    created = api.create_session(title="Confidential")
    api.join(created["code"], "Ana")
    client = redis_server.client()
    key = f"{prefix}s:{created['code']}"
    assert client.pttl(key) > 600_000  # open sessions: the idle expiry
    api.ok(created["code"], created["facilitator_token"], {"type": "close"})
    assert 0 < client.pttl(key) <= 600_000  # closed: CLOSED_TTL_S
    client.close()


def test_erasing_on_one_worker_closes_the_sockets_on_the_other_at_once(workers) -> None:
    """The phones on another worker hear of the erasure through Redis, not at their next command."""
    a, b, _ = workers

    async def scenario() -> None:
        created = Api(a.base_url).create_session(title="Erase across workers")
        code = created["code"]
        person = Api(b.base_url).join(code, "Ana")
        phone = await LiveClient.connect(b.ws_base, code, person["token"])
        screen = await LiveClient.connect(b.ws_base, code, created["screen_token"])
        fac = await LiveClient.connect(a.ws_base, code, created["facilitator_token"])
        ack = await fac.send_command({"type": "erase"}, id="erase-now")
        assert ack["type"] == "ack" and ack["erased"] is True
        for client in (phone, screen):  # they send nothing: the close must come to them
            assert (await client.closed(timeout=3))[0] == 4404

    run(scenario())


def test_a_cofacilitator_on_another_worker_is_revoked_there_and_takes_over_only_when_every_lead_console_closed(
        workers) -> None:
    a, b, _ = workers

    async def scenario() -> None:
        with Api(a.base_url) as api:
            created = api.create_session(format="check-in-out")
            code, host = created["code"], created["facilitator_token"]
            sam = api.request("POST", f"/api/sessions/{code}/cofacilitators", host, json={"name": "Sam"}).json()
            kim = api.request("POST", f"/api/sessions/{code}/cofacilitators", host, json={"name": "Kim"}).json()
            lead_a = await LiveClient.connect(a.ws_base, code, host)
            lead_b = await LiveClient.connect(b.ws_base, code, host)
            co = await LiveClient.connect(b.ws_base, code, sam["token"])
            other = await LiveClient.connect(b.ws_base, code, kim["token"])
            # Revoked through worker A: Kim's socket on worker B closes with 4401.
            assert api.request("DELETE", f"/api/sessions/{code}/cofacilitators/{kim['cofacilitator_id']}",
                               host).status_code == 204
            assert (await other.closed())[0] == 4401
            await lead_a.close()
            await co.probe()
            await asyncio.sleep(0.8)  # the lead still has a console open on worker B
            assert co.view["me"]["lead"] is False
            await lead_b.close()
            led = await co.wait_for_state(lambda v: v["me"]["lead"], timeout=10)
            assert led["view"]["me"]["lead_name"] == "Sam"
            await co.close()
    run(scenario())
