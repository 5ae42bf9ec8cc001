"""What a server's store holds, as text a test can search: every Redis key under the suite's
prefix with its value, or in memory mode the rows and the raw bytes of the sessions file the
server writes its sessions through to."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

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


def session_file(server: ServerProcess) -> Path:
    """The embedded mode's sessions file of a server started by ``ServerProcess``."""
    return Path(server.env.get("SESSIONS_DB") or server.data_dir / "sessions.sqlite3")


def file_dump(server: ServerProcess) -> dict[str, str]:
    """``{"sessions:<code>": state JSON, "acks:<code>:<key>": ack JSON}`` from a memory-mode
    server's sessions file (read-only, as a second process may read it)."""
    path = session_file(server)
    if not path.exists():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dump = {f"sessions:{code}": state for code, state in conn.execute("SELECT code, state FROM sessions")}
        dump.update({f"acks:{code}:{key}": ack for code, key, ack in conn.execute("SELECT code, key, ack FROM acks")})
    finally:
        conn.close()
    return dump


def store_dump(server: ServerProcess, request: pytest.FixtureRequest) -> dict[str, str]:
    """What the server's store holds at rest: Redis keys, or the rows of the sessions file."""
    dump = redis_dump(server, request)
    return file_dump(server) if dump is None else dump


def file_bytes(server: ServerProcess) -> bytes:
    """Every byte of the sessions file and its write-ahead log, as anyone with the disk reads them."""
    path = session_file(server)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def wait_for_file(server: ServerProcess, holds: Callable[[bytes], bool], timeout: float = 5.0) -> bytes:
    """The file's bytes once ``holds`` them (writes go to disk a moment after the change)."""
    deadline = time.monotonic() + timeout
    while True:
        data = file_bytes(server)
        if holds(data) or time.monotonic() > deadline:
            return data
        time.sleep(0.02)
