"""``connected`` follows the person across workers, and a dead worker's people go offline.

Two real server processes on one real redis-server, with short presence leases
(``PRESENCE_TTL_S``, ``PRESENCE_HEARTBEAT_S``) so the test waits seconds, not a minute;
the defaults (30 s and 10 s) bound the same wait to 40 s.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.support.client import Api, LiveClient, person
from tests.support.redis_server import RedisServer
from tests.support.server import ServerProcess

pytestmark = pytest.mark.timeout(120)
TTL_S, HEARTBEAT_S = 2.0, 0.5


@pytest.fixture()
def workers(redis_server: RedisServer, tmp_path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": f"tp-{uuid.uuid4().hex[:8]}:",
           "PRESENCE_TTL_S": str(TTL_S), "PRESENCE_HEARTBEAT_S": str(HEARTBEAT_S)}
    pair = [ServerProcess(env=env, log_path=tmp_path / f"worker{i}.log").start() for i in range(2)]
    try:
        yield pair[0], pair[1]
    finally:
        for worker in pair:
            if worker.proc is not None and worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGCONT)
            worker.stop()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 90))


def connected(pid: str, value: bool):
    return lambda view: person(view, pid)["connected"] is value


def test_a_killed_workers_participants_show_as_not_connected_within_its_lease(workers) -> None:
    a, b = workers

    async def scenario() -> None:
        created = Api(a.base_url).create_session(title="A worker dies")
        code = created["code"]
        ana, ben = Api(a.base_url).join(code, "Ana"), Api(a.base_url).join(code, "Ben")
        fac = await LiveClient.connect(a.ws_base, code, created["facilitator_token"])
        on_b = await LiveClient.connect(b.ws_base, code, ana["token"])
        on_a = await LiveClient.connect(a.ws_base, code, ben["token"])
        await fac.wait_for_state(lambda v: connected(ana["participant_id"], True)(v)
                                 and connected(ben["participant_id"], True)(v))

        b.kill()  # kill -9: its sockets never say goodbye
        killed = time.monotonic()
        view = (await fac.wait_for_state(connected(ana["participant_id"], False), timeout=60))["view"]
        took = time.monotonic() - killed
        assert took < TTL_S + HEARTBEAT_S + 3, f"took {took:.1f}s"
        assert person(view, ben["participant_id"])["connected"] is True  # on the live worker
        assert person(view, ana["participant_id"])["present"] is True  # a dropped phone is still in the room

        back = await LiveClient.connect(a.ws_base, code, ana["token"])  # Ana's phone reconnects to a
        await fac.wait_for_state(connected(ana["participant_id"], True))
        for client in (fac, on_a, back):
            await client.close()
        del on_b

    run(scenario())


def test_a_person_with_sockets_on_two_workers_stays_connected_until_the_last_closes(workers) -> None:
    a, b = workers

    async def scenario() -> None:
        created = Api(a.base_url).create_session(title="Two tabs")
        code = created["code"]
        ana = Api(a.base_url).join(code, "Ana")
        fac = await LiveClient.connect(a.ws_base, code, created["facilitator_token"])
        phone = await LiveClient.connect(a.ws_base, code, ana["token"])
        laptop = await LiveClient.connect(b.ws_base, code, ana["token"])
        await fac.wait_for_state(connected(ana["participant_id"], True))
        seen = len(fac.frames)
        await phone.close()
        await asyncio.sleep(2 * HEARTBEAT_S)  # past a heartbeat and a sweep on both workers
        await fac.probe()
        later = [f["view"] for f in fac.frames[seen:] if f["type"] == "state"]
        assert all(person(v, ana["participant_id"])["connected"] for v in later), later
        assert person(fac.view, ana["participant_id"])["connected"] is True
        await laptop.close()
        await fac.wait_for_state(connected(ana["participant_id"], False))
        await fac.close()

    run(scenario())


def test_a_worker_frozen_past_its_lease_shows_its_people_again_when_it_wakes(workers) -> None:
    a, b = workers

    async def scenario() -> None:
        created = Api(a.base_url).create_session(title="A stalled worker")
        code = created["code"]
        ana = Api(a.base_url).join(code, "Ana")
        fac = await LiveClient.connect(a.ws_base, code, created["facilitator_token"])
        phone = await LiveClient.connect(b.ws_base, code, ana["token"])
        await fac.wait_for_state(connected(ana["participant_id"], True))
        assert b.proc is not None
        b.proc.send_signal(signal.SIGSTOP)
        try:
            await fac.wait_for_state(connected(ana["participant_id"], False), timeout=30)
        finally:
            b.proc.send_signal(signal.SIGCONT)
        await fac.wait_for_state(connected(ana["participant_id"], True), timeout=30)
        await phone.probe()  # and the phone's socket on b was open all along
        await fac.close()
        await phone.close()

    run(scenario())
