"""permessage-deflate on the live socket follows WS_COMPRESSION (off by default, see README).

A browser always offers the extension; whether the server takes it decides ~45 KB of
server memory per phone (docs/benchmarks.md), so an operator must get what they set.
"""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess

OFFER = "permessage-deflate; client_max_window_bits"  # what Chromium sends


def handshake(server: ServerProcess, code: str, token: str) -> str:
    """The raw 101 response to a browser-like upgrade request, headers lower-cased."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall((f"GET /api/sessions/{code}/live?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {OFFER}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
    return head.split(b"\r\n\r\n")[0].decode().lower()


@pytest.mark.parametrize("setting, expected", [(None, False), ("false", False), ("true", True)])
def test_deflate_is_taken_only_when_the_operator_turns_it_on(setting: str | None, expected: bool,
                                                            tmp_path: Path) -> None:
    env = {"REDIS_URL": "", "GROUPS_DB": str(tmp_path / "groups.sqlite3")}
    if setting is not None:
        env["WS_COMPRESSION"] = setting
    server = ServerProcess(env=env, log_path=tmp_path / "server.log").start()
    try:
        made = httpx.post(f"{server.base_url}/api/sessions", json={"title": "Deflate"}).raise_for_status().json()
        head = handshake(server, made["code"], made["facilitator_token"])
        assert head.startswith("http/1.1 101"), head
        assert ("sec-websocket-extensions: permessage-deflate" in head) is expected, head
    finally:
        server.stop()
