"""Nothing of a session outlives its expiry except what its members carried forward by
consent. A server of our own with a one-second CLOSED_TTL_S, and the group
store read directly afterwards; plus the group stores' own rules."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from app.realtime.interfaces import GroupRecord
from app.realtime.sqlite.groups import SqliteGroupStore
from tests.support.redis_server import RedisServer
from tests.support.server import ServerProcess

SECRETS = {
    "title": "Meeting about Mrs Example",
    "name": "Zebedee",
    "item": "I worry about the handover on ward nine",
    "uncarried": "Private plan nobody chose to keep",
    "theme": "A theme the group agreed to share",
    "objected": "A change someone objected to",
}
CARRIED = "Ask for a supervision slot"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_nothing_of_a_session_outlives_its_expiry_but_what_was_carried(tmp_path: Path) -> None:
    db = tmp_path / "groups" / "groups.sqlite3"  # the folder does not exist yet: created on first use
    server = ServerProcess(env={"REDIS_URL": "", "CLOSED_TTL_S": "1", "GROUPS_DB": str(db)},
                           log_path=tmp_path / "server.log").start()
    try:
        http = httpx.Client(base_url=server.base_url, timeout=10)
        assert not db.exists()
        group = http.post("/api/groups", json={"name": "Ward 7 group"}).json()
        assert db.exists()
        created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                            json={"title": SECRETS["title"]}).json()
        code, fac = created["code"], auth(created["facilitator_token"])
        people = [http.post(f"/api/sessions/{code}/participants", json={"name": n}).json()
                  for n in (SECRETS["name"], "Yan", "Xia")]

        def send(command: dict, who: dict | None = None) -> dict:
            answer = http.post(f"/api/sessions/{code}/commands", json=command,
                               headers=auth(who["token"]) if who else fac)
            assert answer.status_code == 200, answer.text
            return answer.json()

        send({"type": "start"})
        for i, person in enumerate(people):
            send({"type": "submit_item", "kind": "question", "text": f"{SECRETS['item']} ({i})"}, person)
        while http.get(f"/api/sessions/{code}", headers=fac).json()["pending"]["question"] < 3:
            time.sleep(0.05)  # counted at a fold
        send({"type": "reveal_items", "kind": "question"})
        kept = send({"type": "add_action", "text": CARRIED}, people[0])["action_id"]
        send({"type": "add_action", "text": SECRETS["uncarried"]}, people[0])
        send({"type": "carry_action", "action_id": kept, "carry": True}, people[0])
        theme = send({"type": "propose_summary", "kind": "theme", "text": SECRETS["theme"]})["proposal_id"]
        change = send({"type": "propose_summary", "kind": "change", "text": SECRETS["objected"]})["proposal_id"]
        send({"type": "consent", "proposal_id": theme, "agree": True}, people[1])
        send({"type": "consent", "proposal_id": change, "agree": False}, people[2])
        send({"type": "close"})
        assert http.get(f"/api/sessions/{code}/summary.md", headers=fac).status_code == 200

        time.sleep(1.3)
        assert http.get(f"/api/sessions/{code}", headers=fac).status_code == 404
        assert http.get(f"/api/sessions/{code}/summary.md", headers=fac).status_code == 404
        assert http.get(f"/api/sessions/{code}/summary", headers=auth(people[0]["token"])).status_code == 404

        # The group still has what was carried by choice: the next session's check-in shows it.
        second = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                           json={"title": "Next time"}).json()
        again = http.post(f"/api/sessions/{second['code']}/participants",
                          json={"name": "Z", "member_code": people[0]["member_code"]}).json()
        view = http.get(f"/api/sessions/{second['code']}", headers=auth(again["token"])).json()
        assert [a["text"] for a in view["me"]["carried"]] == [CARRIED]
    finally:
        server.stop()

    # Read the store as an outsider would: only the group's name, hashes and the carried plan.
    with sqlite3.connect(db) as conn:
        rows = [row for table in ("groups", "members") for row in conn.execute(f"SELECT * FROM {table}")]
    stored = repr(rows)
    assert CARRIED in stored
    for what, secret in SECRETS.items():
        assert secret not in stored, what
    for person in people:
        assert person["member_code"] not in stored and person["token"] not in stored
    assert group["group_key"] not in stored
    raw = b"".join(p.read_bytes() for p in db.parent.iterdir())  # the file, its WAL and journal
    for what, secret in SECRETS.items():
        assert secret.encode() not in raw, what


def test_an_older_sessions_close_never_overwrites_newer_plans(tmp_path: Path) -> None:
    async def scenario() -> list:
        store = SqliteGroupStore(str(tmp_path / "g.sqlite3"))
        await store.create_group(GroupRecord(id="g", name="G", key_hash="h", created_at=0))
        await store.add_member("g", "m1", "code-hash")
        await store.carry("g", {"m1": [{"id": "a", "text": "new", "due": None}]}, closed_at=200)
        await store.carry("g", {"m1": [{"id": "b", "text": "old", "due": None}]}, closed_at=100)
        await store.carry("g", {"m1": [{"id": "c", "text": "newest"}]}, closed_at=300)
        await store.carry("other", {"m1": [{"id": "d", "text": "wrong group"}]}, closed_at=400)
        found = await store.find_member("g", "code-hash")
        missing = await store.find_member("g", "nope")
        await store.close()
        return [found.carried if found else None, missing]

    carried, missing = asyncio.run(scenario())
    assert carried == [{"id": "c", "text": "newest"}]
    assert missing is None


@pytest.fixture()
def redis_url(tmp_path: Path):
    """A redis-server of this test's own (a missing binary fails the test: scripts/test installs it)."""
    server = RedisServer(tmp_path).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_the_redis_group_store_keeps_the_same_rules(redis_url: str) -> None:
    from redis.asyncio import Redis

    from app.realtime.redis.groups import RedisGroupStore

    async def scenario() -> tuple:
        client = Redis.from_url(redis_url, decode_responses=True)
        store = RedisGroupStore(client, prefix="tp:group:")
        await store.create_group(GroupRecord(id="g", name="G", key_hash="h", created_at=1.5))
        group = await store.load_group("g")
        await store.add_member("g", "m1", "code-hash")
        await store.carry("g", {"m1": [{"id": "a", "text": "new", "due": None}]}, closed_at=200)
        await store.carry("g", {"m1": [{"id": "b", "text": "old", "due": None}]}, closed_at=100)
        await store.carry("g", {"ghost": [{"id": "x", "text": "no such member"}]}, closed_at=300)
        found = await store.find_member("g", "code-hash")
        result = (group, found, await store.find_member("g", "nope"), await store.count_members("g"),
                  await store.load_group("nope"), await store.redis.exists("tp:group:g:member:ghost"))
        await store.close()
        await client.aclose()
        return result

    group, found, missing, members, no_group, ghost = asyncio.run(scenario())
    assert group == GroupRecord(id="g", name="G", key_hash="h", created_at=1.5)
    assert found is not None and found.id == "m1" and found.carried == [{"id": "a", "text": "new", "due": None}]
    assert missing is None and members == 1 and no_group is None and ghost == 0


def test_a_group_meets_twice_in_redis_mode(redis_url: str, tmp_path: Path) -> None:
    server = ServerProcess(env={"REDIS_URL": redis_url}, log_path=tmp_path / "server.log").start()
    try:
        http = httpx.Client(base_url=server.base_url, timeout=10)
        group = http.post("/api/groups", json={"name": "Redis group"}).json()
        first = http.post("/api/sessions", json={"title": "One", "group": group["group_id"],
                                                 "group_key": group["group_key"]}).json()
        me = http.post(f"/api/sessions/{first['code']}/participants", json={"name": "Ana"}).json()
        http.post(f"/api/sessions/{first['code']}/commands", json={"type": "start"},
                  headers=auth(first["facilitator_token"]))
        action = http.post(f"/api/sessions/{first['code']}/commands", json={"type": "add_action", "text": CARRIED},
                           headers=auth(me["token"])).json()["action_id"]
        http.post(f"/api/sessions/{first['code']}/commands",
                  json={"type": "carry_action", "action_id": action, "carry": True}, headers=auth(me["token"]))
        http.post(f"/api/sessions/{first['code']}/commands", json={"type": "close"},
                  headers=auth(first["facilitator_token"]))
        second = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                           json={"title": "Two"}).json()
        again = http.post(f"/api/sessions/{second['code']}/participants",
                          json={"name": "Ana", "member_code": me["member_code"]}).json()
        view = http.get(f"/api/sessions/{second['code']}", headers=auth(again["token"])).json()
        assert [a["text"] for a in view["me"]["carried"]] == [CARRIED]
    finally:
        server.stop()
