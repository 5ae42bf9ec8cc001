"""``REDIS_PREFIX`` covers every key and channel the app touches, so deployments can share one Redis.

A real redis-server of this test's own is watched with MONITOR while a group meets: a
session in the group, a timed round that ends on the server, anonymous items and votes, a
carried action, a live socket, close and erase. Every key any command names (Lua scripts'
own calls included) and every channel published or subscribed to must start with the prefix.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import redis
import websockets

from tests.support.redis_server import RedisServer
from tests.support.server import ServerProcess

PREFIX = "shared-by-two:"
# Commands whose arguments from the first on are keys (or channels), and how many of them.
FIRST_KEYS = {"get": 1, "set": 1, "del": 99, "unlink": 99, "exists": 99, "expire": 1, "pexpire": 1,
              "expireat": 1, "pexpireat": 1, "hset": 1, "hget": 1, "hgetall": 1, "hdel": 1, "hmget": 1,
              "hincrby": 1, "incr": 1, "incrby": 1, "sadd": 1, "srem": 1, "scard": 1, "smembers": 1,
              "zadd": 1, "zrem": 1, "zrangebyscore": 1, "zrange": 1, "zscore": 1, "zcard": 1, "ttl": 1,
              "pttl": 1, "getdel": 1, "setex": 1, "psetex": 1, "publish": 1, "subscribe": 99,
              "unsubscribe": 99, "psubscribe": 99, "watch": 99}


def watch(url: str, seen: list[list[str]], stop: threading.Event) -> None:
    # No read timeout: redis-py's default (5 s) would end the watch while a loaded machine
    # is still starting the server, before the app has sent Redis anything.
    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=None)
    with client.monitor() as monitor:
        for entry in monitor.listen():
            seen.append(entry["command"].split(" "))
            if stop.is_set():
                return


def named_keys(words: list[str]) -> list[str]:
    name, args = words[0].lower().strip('"'), [w.strip('"') for w in words[1:]]
    if name in ("eval", "evalsha"):
        count = int(args[1])
        return args[2:2 + count]
    many = FIRST_KEYS.get(name, 0)
    return args[:many] if many < 99 else args


def test_every_key_and_channel_the_app_writes_starts_with_redis_prefix(tmp_path: Path) -> None:
    store = RedisServer(tmp_path).start()
    seen: list[list[str]] = []
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(store.url, seen, stop), daemon=True)
    watcher.start()
    server = ServerProcess(env={"REDIS_URL": store.url, "REDIS_PREFIX": PREFIX}, log_path=tmp_path / "server.log")
    server.start()
    try:
        a_group_meets(server)
    finally:
        server.stop()
        stop.set()
        redis.Redis.from_url(store.url).ping()  # one more command, so the watcher sees the stop
        watcher.join(5)
        leftover = redis.Redis.from_url(store.url, decode_responses=True).keys("*")
        store.stop()
    keys = [key for words in seen if words for key in named_keys(words)]
    assert len(keys) > 50, "the watch saw the app's traffic"
    assert not sorted({k for k in keys if not k.startswith(PREFIX)})
    assert leftover and all(key.startswith(PREFIX) for key in leftover)


def a_group_meets(server: ServerProcess) -> None:
    http = httpx.Client(base_url=server.base_url, timeout=10)
    group = http.post("/api/groups", json={"name": "Shared Redis"}).json()
    key = {"Authorization": f"Bearer {group['group_key']}"}
    created = http.post(f"/api/groups/{group['group_id']}/sessions", json={"title": "One"}, headers=key).json()
    code, fac = created["code"], {"Authorization": f"Bearer {created['facilitator_token']}"}
    people = [http.post(f"/api/sessions/{code}/participants", json={"name": n}).json() for n in ("Ana", "Ben", "Cy")]

    def send(command: dict, who: dict = fac) -> dict:
        answer = http.post(f"/api/sessions/{code}/commands", json=command, headers=who)
        assert answer.status_code == 200, answer.text
        return answer.json()

    asyncio.run(screen_connects(server, code, created["screen_token"]))  # the session's channel
    send({"type": "start"})
    send({"type": "start_round", "seconds_per_turn": 1})
    for person in people:
        send({"type": "submit_item", "kind": "question", "text": "What would help most?"},
             {"Authorization": f"Bearer {person['token']}"})
    ana = {"Authorization": f"Bearer {people[0]['token']}"}
    action = send({"type": "add_action", "text": "Book a supervision slot"}, ana)["action_id"]
    send({"type": "carry_action", "action_id": action, "carry": True}, ana)
    time.sleep(1.5)  # the first turn ends on the server's deadline
    send({"type": "reveal_items", "kind": "question"})
    item = http.get(f"/api/sessions/{code}", headers=fac).json()["items"][0]["id"]
    send({"type": "vote_item", "item_id": item}, ana)
    send({"type": "close"})
    http.get(f"/api/groups/{group['group_id']}", headers=key)
    other = http.post("/api/sessions", json={"title": "Erased at once"}).json()
    http.delete(f"/api/sessions/{other['code']}", headers={"Authorization": f"Bearer {other['facilitator_token']}"})


async def screen_connects(server: ServerProcess, code: str, token: str) -> None:
    async with websockets.connect(f"{server.ws_base}/api/sessions/{code}/live?token={token}") as ws:
        await ws.recv()
