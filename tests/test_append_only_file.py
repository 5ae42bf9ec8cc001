"""What a Redis append-only file holds, as the red team read it: byte by byte.

A Redis keeping an append-only file (Redis 7: a base file and increments in appendonlydir/)
logs every write, so an erased session, a group's erased record, a member's erased CPD
record or journal stayed readable in it. After each erase the workers ask Redis to rewrite
the file; once it has, none of the erased texts is in any of its files, and what was not
erased still is. A Redis whose CONFIG is refused gets a warning in the log and erases still
work.

The key the fair shares hash client addresses and session codes with was kept in Redis too,
so the file's reader could recompute the hashes and tell which address joined which session.
It is an operator's setting now, never written to Redis: the file holds the hashed buckets
and not the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis as sync_redis
from redis.asyncio import Redis

from app.realtime.interfaces import GroupRecord
from app.realtime.redis.groups import RedisGroupStore
from app.realtime.redis.rewrites import Rewrites
from tests.support.client import Api
from tests.support.redis_server import RedisServer
from tests.support.server import ROOT, ServerProcess, free_port
from tests.test_store_history import marker

pytestmark = pytest.mark.timeout(120)


def aof_bytes(workdir: Path) -> bytes:
    """Every file in appendonlydir/ as it is now (base, increments, manifest, and any a
    rewrite is writing), skipping one that disappears while it is read."""
    data = []
    for path in sorted((workdir / "appendonlydir").iterdir()):
        try:
            data.append(path.read_bytes())
        except FileNotFoundError:
            pass
    return b"".join(data)


def wait_until_gone(server: RedisServer, gone: list[str], timeout: float = 30.0) -> bytes:
    """The files once the erased texts are in none of them and no rewrite is running."""
    client = server.client()
    deadline = time.monotonic() + timeout
    try:
        while True:
            settled = int(client.info("persistence")["aof_rewrite_in_progress"]) == 0
            data = aof_bytes(server.workdir)
            left = [m for m in gone if m.encode() in data]
            if settled and not left:
                return data
            assert time.monotonic() < deadline, f"still in the append-only file: {left}"
            time.sleep(0.2)
    finally:
        client.close()


@pytest.fixture()
def aof_redis(tmp_path: Path):
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis", own=True, keep_data=True).start()
    # A rewritten file starts with a snapshot, whose strings Redis compresses by default:
    # uncompressed, every text in it can be found byte by byte, as a reader would find it.
    client = server.client()
    client.config_set("rdbcompression", "no")
    client.close()
    try:
        yield server
    finally:
        server.stop()


def test_erased_and_expired_sessions_leave_the_append_only_file(aof_redis: RedisServer, tmp_path: Path) -> None:
    proc = ServerProcess(env={"REDIS_URL": aof_redis.url, "REDIS_PREFIX": "tp-aof:", "REDIS_REWRITE_INTERVAL_S": "1",
                              "CLOSED_TTL_S": "2"}, log_path=tmp_path / "server.log").start()
    try:
        api = Api(proc.base_url)
        marks: dict[str, list[str]] = {}
        rooms: dict[str, tuple[str, str]] = {}
        for kind in ("erased", "expired", "kept"):
            name, text = f"Name {marker()}", f"question {marker()}"
            created = api.create_session(title=f"Title {marker()}")
            code, fac = rooms[kind] = created["code"], created["facilitator_token"]
            person = api.join(code, name)
            api.ok(code, fac, {"type": "start"})
            api.ok(code, person["token"], {"type": "submit_item", "kind": "question", "text": text})
            marks[kind] = [name.split()[1], text.split()[1]]
        assert all(m.encode() in aof_bytes(aof_redis.workdir) for ms in marks.values() for m in ms)

        code, fac = rooms["erased"]  # "Erase everything now"
        response = api.request("DELETE", f"/api/sessions/{code}", fac)
        assert response.status_code == 204, response.text
        data = wait_until_gone(aof_redis, marks["erased"])
        assert all(m.encode() in data for m in marks["expired"] + marks["kept"])  # the file read is the live one

        code, fac = rooms["expired"]  # closed: Redis expires it CLOSED_TTL_S later, by itself
        api.ok(code, fac, {"type": "close"})
        data = wait_until_gone(aof_redis, marks["expired"])
        assert all(m.encode() in data for m in marks["kept"])
        api.close()
    finally:
        proc.stop()


def test_an_erased_record_cpd_and_journal_leave_the_append_only_file(aof_redis: RedisServer) -> None:
    meeting_mark, cpd_mark, journal_mark, kept_mark = (marker() for _ in range(4))

    async def scenario() -> None:
        client = Redis.from_url(aof_redis.url, decode_responses=True)
        rewrites = Rewrites(client, interval_s=0.5, expired=_none_expired, clock=time.monotonic)
        await rewrites.start()
        assert rewrites.enabled
        store = RedisGroupStore(client, prefix="tp-aof:group:")
        store.on_erased = rewrites.erased
        await store.create_group(GroupRecord(id="g1", name=f"Group {kept_mark}", key_hash="k", created_at=1.0))
        await store.add_member("g1", "m1", "c1")
        for n in range(3):
            await store.add_meeting("g1", {"id": f"meet{n}", "at": 10.0 + n, "note": f"{meeting_mark}{n}"})
        await store.add_cpd("g1", {"m1": {"id": "e1", "at": 10.0, "sealed": cpd_mark, "reflection": None}})
        await store.change_doc("g1", "journal:m1", lambda d: [{"id": "j1", "sealed": journal_mark}])
        assert all(m.encode() in aof_bytes(aof_redis.workdir) for m in (meeting_mark, cpd_mark, journal_mark))
        await store.erase_record("g1", 20.0)
        await store.erase_cpd("g1", "m1", 20.0)
        await store.change_doc("g1", "journal:m1", lambda d: None, erases=True)
        await asyncio.to_thread(wait_until_gone, aof_redis, [meeting_mark, cpd_mark, journal_mark])
        assert kept_mark.encode() in aof_bytes(aof_redis.workdir)
        assert 1 <= rewrites.requested <= 2  # three erases in a burst: coalesced
        await rewrites.close()
        await client.aclose()

    asyncio.run(scenario())


async def _none_expired() -> int:
    return 0


def test_a_redis_that_refuses_config_is_warned_about_and_erases_still_work(
        aof_redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    admin = sync_redis.Redis.from_url(aof_redis.url)
    admin.execute_command("ACL", "SETUSER", "managed", "on", ">pw", "~*", "&*", "+@all", "-config")
    admin.close()
    url = aof_redis.url.replace("redis://", "redis://managed:pw@")

    async def scenario() -> None:
        client = Redis.from_url(url, decode_responses=True)
        rewrites = Rewrites(client, interval_s=0.5, expired=_none_expired, clock=time.monotonic)
        with caplog.at_level(logging.WARNING, logger="talkingpiece.redis"):
            await rewrites.start()
        assert not rewrites.enabled
        assert any("schedule BGREWRITEAOF" in r.getMessage() for r in caplog.records)
        store = RedisGroupStore(client, prefix="tp-managed:group:")
        store.on_erased = rewrites.erased
        await store.create_group(GroupRecord(id="g1", name="Group", key_hash="k", created_at=1.0))
        await store.add_meeting("g1", {"id": "m", "at": 10.0})
        await store.erase_record("g1", 20.0)
        assert await store.meetings("g1") == [] and rewrites.requested == 0
        await rewrites.close()
        await client.aclose()

    asyncio.run(scenario())


# ---------------------------------------------------------------- the fair shares' key

def test_the_limits_key_never_reaches_the_append_only_file(aof_redis: RedisServer, tmp_path: Path) -> None:
    secret = "".join(marker() for _ in range(4))  # 48 letters
    admin = aof_redis.client()
    admin.set("tp-key:rl:secret", "an older version's key")  # what an older version left there
    proc = ServerProcess(env={"REDIS_URL": aof_redis.url, "REDIS_PREFIX": "tp-key:", "REDIS_REWRITE_INTERVAL_S": "1",
                              "LIMITS_SECRET": secret}, log_path=tmp_path / "server.log").start()
    try:
        api = Api(proc.base_url)
        created = api.create_session(title="Keyed")
        code, fac = created["code"], created["facilitator_token"]
        address = "203.0.113.9"
        joined = api.request("POST", f"/api/sessions/{code}/participants", json={"name": "Ana"},
                             headers={"X-Forwarded-For": address})
        assert joined.status_code == 201, joined.text
        assert admin.get("tp-key:rl:secret") is None
        assert api.request("DELETE", f"/api/sessions/{code}", fac).status_code == 204  # a rewrite follows
        data = wait_until_gone(aof_redis, ["an older version's key"])
        hidden = hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
        assert f"rl:join:{hidden}".encode() in data  # the bucket of that address is in the file
        assert secret.encode() not in data  # and nothing to recompute it with
        assert not [k for k in admin.keys("*") if secret in (admin.dump(k) or b"").decode(errors="replace")]
        api.close()
    finally:
        proc.stop()
        admin.close()


def test_redis_mode_without_a_limits_key_refuses_to_start(aof_redis: RedisServer) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LIMITS_SECRET"}
    done = subprocess.run([sys.executable, "-m", "app", "--port", str(free_port())], cwd=ROOT, capture_output=True, check=False,
                          text=True, timeout=30, env={**env, "REDIS_URL": aof_redis.url, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1
    assert "LIMITS_SECRET must be set" in done.stderr


def test_a_redis_that_refuses_the_rewrite_is_warned_about_once(aof_redis: RedisServer,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    admin = sync_redis.Redis.from_url(aof_redis.url)
    admin.execute_command("ACL", "SETUSER", "norewrite", "on", ">pw", "~*", "&*", "+@all", "-bgrewriteaof")
    admin.close()

    async def scenario() -> None:
        client = Redis.from_url(aof_redis.url.replace("redis://", "redis://norewrite:pw@"), decode_responses=True)
        rewrites = Rewrites(client, interval_s=0.1, expired=_none_expired, clock=time.monotonic)
        await rewrites.start()
        assert rewrites.enabled
        with caplog.at_level(logging.WARNING, logger="talkingpiece.redis"):
            for _ in range(3):
                rewrites.erased()
                if rewrites._task is not None:
                    await rewrites._task  # refused: the worker stops asking
        assert not rewrites.enabled and rewrites.requested == 0
        assert sum("refuses to rewrite" in r.getMessage() for r in caplog.records) == 1
        await rewrites.close()
        await client.aclose()

    asyncio.run(scenario())
