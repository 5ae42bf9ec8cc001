"""One live socket: a bounded outbox drained by a single sender.

States are coalesced (a phone that falls behind only needs the newest one); replies
(acks and errors) queue up to a limit, past which the client is too slow and is closed
rather than allowed to grow memory or stall the room.

A frame goes out in the caller's own step when it can: the sender is parked with
nothing queued and the socket's write buffer has room. Waking the sender instead costs a
turn of the event loop per socket and leaves a future, a callback handle and the send's
coroutines behind for the garbage collector: at thousands of phones, those collections
were the fan-out's latency tail (docs/benchmarks.md). Only when the frame would have to
wait (the peer reads slowly, or frames are already queued) does the sender take it.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from collections.abc import Callable

from starlette.websockets import WebSocket
from websockets.protocol import SERVER, Protocol, State

from app.facilitation.models import Actor, SessionState
from app.realtime import close_codes
from app.realtime.frames import Cache

# A state's frame for one socket: text, or (the pages' socket) the same text as UTF-8 already.
Render = Callable[[SessionState, Actor, float, Cache], str | bytes]
Write = Callable[[str | bytes], bool]  # sends a text frame at once and says so, or sends nothing and says not


def immediate_writer(ws: WebSocket) -> Write | None:
    """A way to send a frame without waiting, when the server allows it (uvicorn's sans-I/O
    WebSocket protocol, which ``python -m app`` runs); None for any other server.

    That protocol's ASGI ``send`` waits only for its ``writable`` event (cleared while the
    transport's buffer is over its high-water mark) and then writes synchronously. So while
    the event is set one step of the coroutine completes the send; should it ever not, the
    coroutine is closed before it has written anything and the sender takes the frame.

    On an open connection with no extension negotiated (no permessage-deflate) a server's
    text frame is only a header and the UTF-8 text, so it is written to the transport here,
    past the ASGI message, the coroutine and the protocol's frame objects that each send
    would otherwise make for every socket of a room (docs/benchmarks.md). Anything else (a
    compressed connection, one closing or closed) takes the ASGI path.
    """
    send = getattr(ws, "_send", None)
    server = getattr(send, "__self__", None)
    writable = getattr(server, "writable", None)
    if send is None or not isinstance(writable, asyncio.Event):
        return None
    conn, transport = getattr(server, "conn", None), getattr(server, "transport", None)
    direct = (isinstance(conn, Protocol) and conn.side is SERVER and transport is not None
              and all(hasattr(server, name) for name in ("handshake_complete", "close_sent", "disconnected",
                                                          "initial_response")))

    def write(text: str | bytes) -> bool:
        if not writable.is_set():
            return False
        if (direct and not conn.extensions and conn.state is State.OPEN and not conn.expect_continuation_frame
                and server.handshake_complete and not server.close_sent and not server.disconnected
                and server.initial_response is None and not transport.is_closing()):
            data = text if type(text) is bytes else text.encode()  # type: ignore[union-attr]
            transport.write(text_header(len(data)) + data)
            return True
        step = send({"type": "websocket.send", "text": as_text(text)})
        try:
            step.send(None)
        except StopIteration:
            return True
        except Exception:  # the peer is gone: the sender meets the same error and ends the socket
            return False
        step.close()
        return False

    return write


def as_text(frame: str | bytes) -> str:
    """A frame as the text the ASGI path sends (a text frame's payload is UTF-8 on the wire either way)."""
    return frame.decode() if type(frame) is bytes else frame  # type: ignore[union-attr,return-value]


def text_header(length: int) -> bytes:
    """An unmasked final text frame's header (RFC 6455 5.2), as a server sends it."""
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return _MEDIUM.pack(0x81, 126, length)
    return _LONG.pack(0x81, 127, length)


_MEDIUM, _LONG = struct.Struct("!BBH"), struct.Struct("!BBQ")


class LiveConnection:
    kind = "json"  # which socket (metrics): the JSON socket; the pages' socket says "pages"
    __slots__ = ("ws", "actor", "render", "version", "host_key", "_limit", "_replies", "_state", "_closing", "_wake",
                 "_write", "_busy")

    def __init__(self, ws: WebSocket, actor: Actor, render: Render, limit: int = 64) -> None:
        self.ws = ws
        self.actor = actor
        self.render = render
        self.version = -1
        self.host_key: str | None = None  # the facilitator key's hash, on a console opened with it
        self._limit = limit
        self._replies: deque[str] = deque()
        self._state: str | bytes | None = None
        self._closing: tuple[int, str] | None = None
        self._wake = asyncio.Event()
        self._write = immediate_writer(ws)
        self._busy = False  # the sender is between its wake-up and parking again

    def _now(self, text: str | bytes) -> bool:
        """Send ``text`` in this step if nothing is ahead of it and the socket takes it without waiting."""
        return (self._write is not None and not self._busy and not self._wake.is_set()
                and self._write(text))

    def offer(self, state: SessionState, now: float, cache: Cache) -> None:
        if state.version <= self.version or self._closing:
            return
        self.version = state.version
        text = self.render(state, self.actor, now, cache)
        if self._state is None and self._now(text):
            self.taken()
            return
        self._state = text
        self._wake.set()

    def taken(self) -> None:
        """The newest state's frame is on its way (written, or taken by the sender)."""

    def reply(self, text: str) -> None:
        if len(self._replies) >= self._limit:
            self.kick(close_codes.TRY_AGAIN, "too many unread replies")
            return
        if not self._replies and self._state is None and self._now(text):
            return
        self._replies.append(text)
        self._wake.set()

    def kick(self, code: int, reason: str) -> None:
        if self._closing is None:
            self._closing = (code, reason)
            self._wake.set()

    async def pump(self) -> None:
        """Send until the connection is kicked; the caller cancels it when the peer goes."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._busy = True
            while self._replies:
                await self.ws.send_text(self._replies.popleft())
            if self._state is not None:
                await self._send_state()
            if self._closing is not None:
                await self.ws.close(*self._closing)
                return
            self._busy = False

    async def _send_state(self) -> None:
        # Its own frame, so that no local keeps the last frame (a few KB) alive while the
        # socket idles: thousands of idle phones would each hold one.
        text, self._state = self._state, None
        assert text is not None
        self.taken()
        await self.ws.send_text(as_text(text))
