"""What a server's store holds, as text a test can search: every Redis key under the suite's
prefix with its value. (The memory store lives inside the server process; tests read it
through the API instead.)"""

from __future__ import annotations

import json

import pytest

from tests.support.server import ServerProcess


def redis_dump(server: ServerProcess, request: pytest.FixtureRequest) -> dict[str, str] | None:
    """``{key: value as JSON text}`` for a Redis-mode server; None for the memory mode."""
    if getattr(server, "mode", "memory") != "redis":
        return None
    client = request.getfixturevalue("redis_server").client()
    prefix = server.env.get("REDIS_PREFIX", "tp:")
    dump: dict[str, str] = {}
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            kind = client.type(key)
            if kind == "string":
                value: object = client.get(key)
            elif kind == "hash":
                value = client.hgetall(key)
            elif kind == "zset":
                value = client.zrange(key, 0, -1, withscores=True)
            elif kind == "set":
                value = sorted(client.smembers(key))
            elif kind == "list":
                value = client.lrange(key, 0, -1)
            elif kind == "stream":
                value = client.xrange(key)
            else:
                value = kind
            dump[key] = json.dumps(value, default=str)
    finally:
        client.close()
    return dump
