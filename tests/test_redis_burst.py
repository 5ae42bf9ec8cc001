"""A burst of more Redis work than a worker has connections waits; it does not fail.

A room of phones reconnecting at once, or many rooms starting together, is more commands
at the same moment than REDIS_MAX_CONNECTIONS. redis-py's default pool answers that with
"Too many connections", which reached people as a 500 or a socket closed without an ack.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.support.redis_server import RedisServer
from tests.support.server import ServerProcess

ROOMS, PEOPLE = 8, 12


async def burst(base: str) -> tuple[list[int], list[dict]]:
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=200)) as http:
        made = await asyncio.gather(*(http.post("/api/sessions", json={"title": f"Burst {i}"})
                                      for i in range(ROOMS)))
        codes = [m.json()["code"] for m in made]
        keys = {m.json()["code"]: m.json()["facilitator_token"] for m in made}
        joins = await asyncio.gather(*(http.post(f"/api/sessions/{code}/participants", json={"name": f"P{j}"})
                                       for code in codes for j in range(PEOPLE)))
        states = [(await http.get(f"/api/sessions/{code}", headers={"Authorization": f"Bearer {keys[code]}"})).json()
                  for code in codes]
    return [m.status_code for m in made] + [j.status_code for j in joins], states


def test_more_concurrent_commands_than_redis_connections_all_succeed(redis_server: RedisServer,
                                                                     tmp_path: Path) -> None:
    env = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": "tp-burst:", "REDIS_MAX_CONNECTIONS": "3"}
    server = ServerProcess(env=env, log_path=tmp_path / "server.log").start()
    try:
        statuses, states = asyncio.run(burst(server.base_url))
    finally:
        server.stop()
    assert statuses.count(201) == ROOMS + ROOMS * PEOPLE, sorted(set(statuses))
    for state in states:
        assert len(state["participants"]) == PEOPLE, state
    log = (tmp_path / "server.log").read_text()
    assert "Too many connections" not in log and "Traceback" not in log
