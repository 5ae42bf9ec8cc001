"""The live sockets' keepalive: one sweep a worker, not two timers a socket.

A phone that lost its network never closes its socket. The server finds it by pinging every
socket every ``WS_PING_S`` and closing one that has sent nothing since its last ping (its pong,
or anything else it sent): so a vanished phone is closed within twice ``WS_PING_S``, and the
room sees it gone ``PRESENCE_OFF_S`` later (docs/live-socket.md).

uvicorn's own keepalive does the same with a timer a socket for each ping, another for its
answer, a random payload, and a frame object serialised for each. At 5,000 phones that is a
thousand pings a second and about a tenth of a core with nobody acting (docs/benchmarks.md).
Here the sockets are spread over a worker's buckets, one timer visits one bucket at a time,
and a ping is two bytes written to the socket: a server's ping needs no mask, and a control
frame is never compressed, so it is the same two bytes on every connection and may go between
any two frames the protocol writes (RFC 6455 5.4, 5.5). Anything the peer sends counts as its
answer; its pong still goes through the protocol's parser, which keeps its own state.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import Protocol, State
from websockets.streams import StreamReader

log = logging.getLogger("talkingpiece.live")
_AT_EOF = StreamReader.at_eof.__code__  # the parser waiting for a frame's first byte
_PARSE = Protocol.parse.__code__
PING = b"\x89\x00"  # a final ping frame with no payload and no mask
TICK_S = 0.25  # how often a bucket is visited: a sweep's work comes in small steps


class Sweep:
    """One worker's keepalive for the sockets pinged every ``interval`` seconds."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self.loop = loop
        self.buckets: list[set[KeptAlive]] = [set() for _ in range(max(1, round(interval / TICK_S)))]
        self.step = interval / len(self.buckets)
        self.at = 0  # the bucket visited next
        self.timer: asyncio.TimerHandle | None = None

    def add(self, socket: KeptAlive) -> int:
        """Put a socket in the bucket visited last in this round: its first ping comes one
        interval after its handshake, as with every ping after."""
        bucket = (self.at - 1) % len(self.buckets)
        self.buckets[bucket].add(socket)
        if self.timer is None:
            self.timer = self.loop.call_later(self.step, self.visit)
        return bucket

    def remove(self, socket: KeptAlive, bucket: int) -> None:
        self.buckets[bucket].discard(socket)

    def visit(self) -> None:
        index = self.at
        self.at = (self.at + 1) % len(self.buckets)
        self.timer = self.loop.call_later(self.step, self.visit) if any(self.buckets) else None
        for socket in list(self.buckets[index]):
            try:
                socket.keepalive()
            except Exception:  # one socket's fault must not stop every other socket's pings
                log.exception("keeping a live socket alive failed; closing it")
                self.remove(socket, index)
                socket.transport.abort()


_SWEEPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, Sweep]] = weakref.WeakKeyDictionary()


def sweep_for(loop: asyncio.AbstractEventLoop, interval: float) -> Sweep:
    sweeps = _SWEEPS.setdefault(loop, {})
    found = sweeps.get(interval)
    if found is None:
        found = sweeps[interval] = Sweep(loop, interval)
    return found


class KeptAlive(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, kept alive by its worker's sweep
    (``uvicorn.Config(ws=KeptAlive, ws_ping_interval=…)``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heard = True  # the peer sent something since the last ping
        self.bucket: int | None = None

    def data_received(self, data: bytes) -> None:
        self.heard = True
        if len(data) == 6 and data[0] == 0x8A and data[1] == 0x80 and self._between_frames():
            return  # the answer to a ping (an empty pong, masked), on its own: nothing for the protocol to do
        super().data_received(data)

    def _between_frames(self) -> bool:
        """Whether the protocol's parser waits for the start of a frame, with nothing buffered:
        then six bytes that read as an empty pong are one, and the parser (which would make a
        frame of them and drop it) can be left as it is. In the middle of a frame they are its
        payload. At a thousand pongs a second at 5,000 phones this spares most of the keepalive's
        reading; anything unexpected in the protocol's make-up takes the parser's way."""
        conn = self.conn
        if conn.state is not State.OPEN or conn.reader.buffer:
            return False
        outer, inner = None, getattr(conn, "parser", None)
        while (below := getattr(inner, "gi_yieldfrom", None)) is not None:
            outer, inner = inner, below
        return (getattr(inner, "gi_code", None) is _AT_EOF
                and getattr(outer, "gi_code", None) is _PARSE)

    def start_keepalive(self) -> None:  # the handshake is done
        if self.ping_interval and self.bucket is None:
            self.heard = True
            self.bucket = sweep_for(self.loop, self.ping_interval).add(self)

    def stop_keepalive(self) -> None:
        if self.bucket is not None and self.ping_interval:
            sweep_for(self.loop, self.ping_interval).remove(self, self.bucket)
            self.bucket = None

    def keepalive(self) -> None:
        if self.close_sent or self.transport.is_closing() or self.conn.state is not State.OPEN:
            self.stop_keepalive()  # closing: the closing handshake has its own timer
            return
        if not self.heard:
            self.stop_keepalive()
            self.keepalive_timeout()  # closes with 1011, as uvicorn's own keepalive does
            return
        self.heard = False
        self.transport.write(PING)
