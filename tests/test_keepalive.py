"""A phone that lost its network is found by the server's pings and shown offline; one that
answers them stays as long as it likes.

A vanished phone never closes its socket: without the pings the console would show it online
for good. The server pings every socket every ``WS_PING_S`` and closes one that sent nothing
since its last ping (docs/live-socket.md). Here ``WS_PING_S`` is half a second.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from pathlib import Path

import pytest

from app.live.keepalive import Sweep
from tests.support.client import Api, LiveClient, person
from tests.support.server import ServerProcess

PING_S = 0.5


def frames(sock: socket.socket, limit: float, until: bytes | None = None) -> list[tuple[int, bytes, float]]:
    """Every frame the server sends until it closes the connection, or one holds ``until``, or
    ``limit`` seconds: (opcode, payload, seconds since the handshake). Nothing is sent back."""
    data, out, start = b"", [], time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < limit and not (until and any(until in p for _, p, _ in out)):
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            break
        data += chunk
        while len(data) >= 2:
            length, at = data[1] & 0x7F, 2
            if length == 126:
                (length,), at = struct.unpack("!H", data[2:4]), 4
            elif length == 127:
                (length,), at = struct.unpack("!Q", data[2:10]), 10
            if len(data) < at + length:
                break
            out.append((data[0] & 0x0F, data[at:at + length], time.monotonic() - start))
            data = data[at + length:]
    return out


def open_silent(server: ServerProcess, code: str, token: str) -> socket.socket:
    """A participant's socket from a phone that then goes silent, as one does when its network goes."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall((f"GET /api/sessions/{code}/live?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


@pytest.mark.parametrize("compression", ["false", "true"])  # a ping goes between compressed frames too
def test_a_silent_phone_is_closed_within_two_pings_and_shown_offline_while_an_answering_one_stays(
        compression: str, tmp_path: Path) -> None:
    server = ServerProcess(env={"REDIS_URL": "", "GROUPS_DB": str(tmp_path / "groups.sqlite3"),
                                "WS_PING_S": str(PING_S), "WS_COMPRESSION": compression},
                           log_path=tmp_path / "server.log").start()
    try:
        with Api(server.base_url) as api:
            made = api.create_session("Pings")
            code = made["code"]
            lost, kept = api.join(code, "Ana"), api.join(code, "Ben")

        async def scene() -> None:
            console = await LiveClient.connect(server.ws_base, code, made["facilitator_token"])
            answering = await LiveClient.connect(server.ws_base, code, kept["token"])  # answers every ping
            silent = open_silent(server, code, lost["token"])
            try:
                await console.wait_for_state(lambda v: person(v, lost["participant_id"])["connected"])
                seen = await asyncio.to_thread(frames, silent, 10 * PING_S)
                opcodes = [op for op, _, _ in seen]
                assert 0x9 in opcodes, "the server pings the socket"
                assert opcodes[-1] == 0x8, f"the server closes it: {opcodes}"
                assert struct.unpack("!H", seen[-1][1][:2])[0] == 1011
                pinged = next(at for op, _, at in seen if op == 0x9)
                assert PING_S * 0.5 <= pinged <= PING_S * 2.5, "the first ping comes about one interval in"
                assert seen[-1][2] <= pinged + PING_S * 2.5, "closed once a ping went unanswered an interval"
                await console.wait_for_state(lambda v: not person(v, lost["participant_id"])["connected"])
                # Six intervals on, the phone that answers is still connected and still served
                # (with compression on, it took the extension: the pings went between its frames).
                assert (answering.ws.protocol.extensions != []) == (compression == "true")
                await asyncio.sleep(6 * PING_S)
                await answering.probe()
                assert person(console.view, kept["participant_id"])["connected"]
            finally:
                silent.close()
                await answering.close()
                await console.close()

        asyncio.run(scene())
    finally:
        server.stop()


def test_one_socket_that_fails_its_ping_is_closed_and_the_others_are_still_pinged() -> None:
    """The sweep is one timer for every socket of a worker: a fault on one must not end the
    pings of all the others (which would leave every vanished phone shown online)."""

    class Transport:
        aborted = 0

        def abort(self) -> None:
            self.aborted += 1

    class Socket:
        def __init__(self, fails: bool) -> None:
            self.fails, self.pinged, self.transport = fails, 0, Transport()

        def keepalive(self) -> None:
            self.pinged += 1
            if self.fails:
                raise OSError("the socket broke")

    async def scene() -> tuple[Socket, Socket]:
        sweep = Sweep(asyncio.get_running_loop(), 0.1)
        broken, fine = Socket(fails=True), Socket(fails=False)
        sweep.add(broken)  # type: ignore[arg-type]
        sweep.add(fine)  # type: ignore[arg-type]
        await asyncio.sleep(0.65)
        return broken, fine

    broken, fine = asyncio.run(scene())
    assert broken.pinged == 1 and broken.transport.aborted == 1, "the failing socket is closed at once"
    assert fine.pinged >= 4, "the others are still pinged every interval"


def test_bytes_that_read_as_a_pong_in_the_middle_of_a_frame_are_its_payload(tmp_path: Path) -> None:
    """The server takes an empty pong that arrives on its own without its parser (a thousand a
    second at 5,000 phones). Six bytes arriving alone in the middle of a frame can read the same
    (a client chooses its mask): they are the frame's, and the command it carries is answered."""
    server = ServerProcess(env={"REDIS_URL": "", "GROUPS_DB": str(tmp_path / "groups.sqlite3")},
                           log_path=tmp_path / "server.log").start()
    try:
        with Api(server.base_url) as api:
            made = api.create_session("Pongs")
            ana = api.join(made["code"], "Ana")
        sock = open_silent(server, made["code"], ana["token"])
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            text = b'{"id":"c1","type":"command","command":{"type":"raise_hand"}}'
            mask = bytes((0x8A ^ text[0], 0x80 ^ text[1], 0x35, 0x5C))  # its first six bytes masked: 8A 80 ...
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
            assert masked[:2] == b"\x8a\x80"
            sock.sendall(bytes((0x81, 0x80 | len(text))) + mask)
            time.sleep(0.2)
            sock.sendall(masked[:6])  # alone, as a pong would come
            time.sleep(0.2)
            sock.sendall(masked[6:])
            replies = [payload for op, payload, _ in frames(sock, 5.0, until=b'"c1"') if op == 0x1]
            assert any(b'"c1"' in r for r in replies), "the command is answered: its bytes were not taken for a pong"
            # And a real pong at a frame's start is taken as one: the socket goes on being served.
            sock.sendall(bytes((0x8A, 0x80)) + b"\x01\x02\x03\x04")
            time.sleep(0.2)
            again = b'{"id":"c2","type":"command","command":{"type":"lower_hand"}}'
            sock.sendall(bytes((0x81, 0x80 | len(again))) + b"\x00\x00\x00\x00" + again)
            replies = [payload for op, payload, _ in frames(sock, 5.0, until=b'"c2"') if op == 0x1]
            assert any(b'"c2"' in r for r in replies)
        finally:
            sock.close()
    finally:
        server.stop()

