"""What people and operators see when Redis goes away, and how the app comes back.

Each test runs a real server process on a real redis-server of its own, and does to that
Redis what happens in production: SIGSTOP (a frozen host: connections open, nothing
answers), kill -9 (connections reset), and a restart with or without its data.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import Api, LiveClient, speaker
from tests.support.redis_server import RedisServer
from tests.support.server import ServerProcess

pytestmark = pytest.mark.timeout(120)


@pytest.fixture()
def redis_alone(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", own=True)
    server.workdir.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def redis_keeping_data(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis-aof", own=True, keep_data=True)
    server.workdir.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def app_on(redis: RedisServer, tmp_path: Path, name: str = "app") -> ServerProcess:
    env = {"REDIS_URL": redis.url, "REDIS_PREFIX": f"tp-{uuid.uuid4().hex[:6]}:", "REDIS_TIMEOUT_S": "1"}
    return ServerProcess(env=env, log_path=tmp_path / f"{name}.log")


@pytest.fixture()
def app(redis_alone: RedisServer, tmp_path: Path) -> Iterator[ServerProcess]:
    server = app_on(redis_alone, tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 90))


def unavailable(response: httpx.Response) -> None:
    """The contract's answer while the store is unreachable: 503, Retry-After, the error body."""
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert int(response.headers["retry-after"]) >= 1
    assert response.json() == {"error": {"code": "unavailable", "reason": "try_again", "message": response.json()["error"]["message"]}}


def eventually(check, timeout: float = 10.0):
    """``check()`` until it returns a true value (assertions inside count as not yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (AssertionError, httpx.HTTPError):
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("still not true after the timeout")
        time.sleep(0.1)


def test_while_redis_is_frozen_requests_answer_503_and_sockets_stay_open(app: ServerProcess,
                                                                         redis_alone: RedisServer) -> None:
    async def scenario() -> None:
        api = Api(app.base_url)
        created = api.create_session(title="Frozen Redis")
        code, fac_token = created["code"], created["facilitator_token"]
        person = api.join(code, "Ana")
        phone = await LiveClient.connect(app.ws_base, code, person["token"])
        fac = await LiveClient.connect(app.ws_base, code, fac_token)

        redis_alone.freeze()
        try:
            unavailable(api.request("GET", f"/api/sessions/{code}", fac_token))
            unavailable(api.command(code, fac_token, {"type": "start"}))
            unavailable(api.request("POST", "/api/sessions", json={"title": "New"}))
            unavailable(api.request("GET", "/healthz"))
            assert api.request("GET", "/livez").status_code == 200
            error = await phone.send_command({"type": "raise_hand"}, id="hand-1", timeout=10)
            assert error["type"] == "error" and error["id"] == "hand-1"
            assert error["error"]["code"] == "unavailable"
        finally:
            redis_alone.thaw()

        # Back within seconds, with no 500: the phone resends its command under the same id.
        eventually(lambda: api.request("GET", "/healthz").status_code == 200)
        api.ok(code, fac_token, {"type": "start"})
        ack = await phone.send_command({"type": "raise_hand"}, id="hand-1")
        assert ack["type"] == "ack"
        view = (await fac.wait_for_state(lambda v: v["queue"] == [person["participant_id"]]))["view"]
        assert view["status"] == "running"
        api.close()
        await phone.close()
        await fac.close()

    run(scenario())


def test_after_redis_is_killed_and_restarted_empty_everything_answers_again_without_a_500(
        app: ServerProcess, redis_alone: RedisServer) -> None:
    """kill -9 resets every pooled connection; the first request after the restart must not
    meet a dead one, and the idle sockets of the lost session are closed with 4404."""
    async def scenario() -> None:
        api = Api(app.base_url)
        created = api.create_session(title="Lost with Redis")
        code = created["code"]
        person = api.join(code, "Ana")
        api.ok(code, created["facilitator_token"], {"type": "start"})
        phone = await LiveClient.connect(app.ws_base, code, person["token"])
        screen = await LiveClient.connect(app.ws_base, code, created["screen_token"])

        redis_alone.kill()
        unavailable(api.request("GET", f"/api/sessions/{code}", created["facilitator_token"]))
        unavailable(api.request("GET", "/healthz"))
        error = await phone.send_command({"type": "raise_hand"}, id="while-down")
        assert error["type"] == "error" and error["error"]["code"] == "unavailable"

        redis_alone.restart()  # no persistence: the session is gone
        started = time.monotonic()
        for client in (phone, screen):  # idle: nobody speaks, the close must come to them
            assert await client.closed(timeout=10) == (4404, "no session with that code")
        assert time.monotonic() - started < 10
        assert api.request("GET", "/healthz").status_code == 200
        answers = [api.request("GET", f"/api/sessions/{code}", created["facilitator_token"]).status_code
                   for _ in range(20)]
        assert answers == [404] * 20
        fresh = api.create_session(title="After the restart")
        api.join(fresh["code"], "Ben")
        api.close()

    run(scenario())


def test_a_turn_due_while_redis_was_down_ends_as_soon_as_it_is_back(redis_keeping_data: RedisServer,
                                                                    tmp_path: Path) -> None:
    app = app_on(redis_keeping_data, tmp_path).start()

    async def scenario() -> None:
        api = Api(app.base_url)
        created = api.create_session(title="Deadline across an outage")
        code, fac_token = created["code"], created["facilitator_token"]
        people = [api.join(code, n) for n in ("Ana", "Ben")]
        fac = await LiveClient.connect(app.ws_base, code, fac_token)
        api.ok(code, fac_token, {"type": "start"})
        api.ok(code, fac_token, {"type": "start_round", "seconds_per_turn": 2})
        first = (await fac.wait_for_state(lambda v: speaker(v) == people[0]["participant_id"]))["view"]
        ends_at = first["turn"]["ends_at"]

        redis_keeping_data.kill()
        await asyncio.sleep(max(0.0, ends_at - time.time()) + 2)  # the deadline passes while Redis is down
        redis_keeping_data.restart()  # with its data (append-only file)
        back = time.time()
        second = (await fac.wait_for_state(lambda v: speaker(v) == people[1]["participant_id"], timeout=15))["view"]
        assert second["turn"]["started_at"] - back < 5, "the missed deadline fired late"
        assert second["round"]["marks"] == {people[0]["participant_id"]: "spoke"}
        api.close()
        await fac.close()

    try:
        run(scenario())
    finally:
        app.stop()


def test_a_frozen_redis_does_not_keep_a_turn_from_ending_once_thawed(app: ServerProcess,
                                                                     redis_alone: RedisServer) -> None:
    async def scenario() -> None:
        api = Api(app.base_url)
        created = api.create_session(title="Frozen through a deadline")
        code, fac_token = created["code"], created["facilitator_token"]
        people = [api.join(code, n) for n in ("Ana", "Ben")]
        phone = await LiveClient.connect(app.ws_base, code, people[1]["token"])
        api.ok(code, fac_token, {"type": "start"})
        api.ok(code, fac_token, {"type": "start_round", "seconds_per_turn": 1})
        first = (await phone.wait_for_state(lambda v: speaker(v) == people[0]["participant_id"]))["view"]
        redis_alone.freeze()
        try:
            await asyncio.sleep(max(0.0, first["turn"]["ends_at"] - time.time()) + 3)
        finally:
            redis_alone.thaw()
        thawed = time.time()
        second = (await phone.wait_for_state(lambda v: speaker(v) == people[1]["participant_id"], timeout=15))["view"]
        assert second["turn"]["started_at"] - thawed < 5
        api.close()
        await phone.close()

    run(scenario())
