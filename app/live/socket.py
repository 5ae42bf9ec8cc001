"""The live socket: ``WS /api/sessions/{code}/live?token=…``.

One receiver (this coroutine) and one sender (the connection's pump) per socket. The
receiver handles one command at a time, so a client's commands apply in the order sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from json.decoder import scanstring
from typing import Any

from fastapi import APIRouter, Query, WebSocket
from starlette.websockets import WebSocketDisconnect

from app.facilitation.commands import Command, parse_command
from app.facilitation.errors import FacilitationError, NotFound, Unauthorized, error_object
from app.http import ratelimit
from app.http.dependencies import runtime
from app.http.security import origin_allowed
from app.realtime import close_codes, metrics
from app.realtime.connection import LiveConnection
from app.realtime.frames import ack_frame, error_frame, state_frame
from app.facilitation.cofacilitation import HOST
from app.realtime.interfaces import MISSING_REASON, UNAVAILABLE, presence_key, seat_key, token_key
from app.realtime.runtime import Runtime
from app.realtime.service import Caller, token_hash

router = APIRouter()
log = logging.getLogger("talkingpiece.live")

UNAVAILABLE_MESSAGE = "the session store is unreachable for a moment; nothing was changed, send it again shortly"
ERASE = "erase"  # the facilitator's "end and erase now" (handled here, not by the core: it deletes the session)
MAX_ID = 128


class BadFrame(Exception):
    """A frame that carries no command; ``command_id`` is set when the frame named one."""

    def __init__(self, command_id: str | None, message: str) -> None:
        super().__init__(message)
        self.command_id = command_id
        self.message = message


_JSON_VALUE = json.JSONDecoder()
_BLANK = re.compile(r"[ \t\n\r]*")


def peek_id(text: str, name: str = "id") -> str | None:
    """The command id a frame names, read without decoding the rest of the frame.

    For the frames the socket refuses unread (over the size limit, or over the rate), so
    that their error still names the command it answers. Walks the top-level object's
    members up to the one called ``name`` and stops there: a client that puts its id
    first (as ours do) costs a few microseconds however large the frame. None when the
    frame is no JSON object, has no such member before an error, or the id is not a
    valid one.
    """
    skip = _BLANK.match
    try:
        i = skip(text, 0).end()
        if text[i:i + 1] != "{":
            return None
        i = skip(text, i + 1).end()
        while text[i:i + 1] == '"':
            key, i = scanstring(text, i + 1)
            i = skip(text, i).end()
            if text[i:i + 1] != ":":
                return None
            value, i = _JSON_VALUE.raw_decode(text, skip(text, i + 1).end())
            if key == name:
                return value if isinstance(value, str) and 0 < len(value) <= MAX_ID else None
            i = skip(text, i).end()
            if text[i:i + 1] != ",":
                return None
            i = skip(text, i + 1).end()
    except (ValueError, RecursionError):
        pass
    return None


@dataclass(frozen=True)
class Dialect:
    """How one kind of socket spells commands and replies; the handling in between is shared."""

    decode: Callable[[str], tuple[str, Any]]            # text -> (command id, command data); or BadFrame
    ack: Callable[[str, Command, dict[str, Any], LiveConnection], str]  # a command was applied (on this connection)
    error: Callable[[str | None, Any, dict[str, Any]], str]  # (command id, command data or None, error object)
    id_of: Callable[[str], str | None] = field(default=peek_id)  # the id of a frame refused unread


def json_frame(text: str, id_field: str) -> tuple[str, dict[str, Any]]:
    """A frame both dialects send: a JSON object whose ``id_field`` names the command."""
    try:
        frame = json.loads(text)
    except ValueError:
        raise BadFrame(None, "malformed JSON") from None
    if not isinstance(frame, dict):
        raise BadFrame(None, "a frame must be a JSON object")
    command_id = frame.pop(id_field, None)
    if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_ID:
        raise BadFrame(None, f"'{id_field}' must be a string of 1 to {MAX_ID} characters")
    return command_id, frame


def decode_json_frame(text: str) -> tuple[str, Any]:
    command_id, frame = json_frame(text, "id")
    if frame.get("type") != "command":
        raise BadFrame(command_id, "unknown frame type: send {\"type\": \"command\", ...}")
    return command_id, frame.get("command")


JSON_DIALECT = Dialect(decode=decode_json_frame, ack=lambda cid, _cmd, ack, _conn: ack_frame(cid, ack),
                       error=lambda cid, _data, error: error_frame(cid, error))


@router.websocket("/api/sessions/{code}/live")
async def live(ws: WebSocket, code: str, token: str = "", as_: str = Query("", alias="as")) -> None:
    opened = await open_socket(ws, code, token, console=as_ == "console")
    if opened is not None:
        rt, caller = opened
        await serve(ws, rt, caller, LiveConnection(ws, caller.actor, state_frame))


async def open_socket(ws: WebSocket, code: str, token: str, console: bool = False) -> tuple[Runtime, Caller] | None:
    """The handshake both live sockets share: Origin, accept, then who is this? None if closed.

    Gives the caller, not the state it read: a socket lives for hours, and in Redis mode a
    state kept by its handler would be a private copy per phone.
    """
    rt = runtime(ws)
    if not origin_allowed(ws.scope, rt.settings.origins):
        await ws.close(close_codes.FORBIDDEN_ORIGIN)  # before accept: the handshake is refused with 403
        return None
    if rt.hub.socket_count >= rt.settings.max_connections:  # 503 + Retry-After, or close 1013
        metrics.refused("connections")
        await ratelimit.refuse(ws.scope, ws.receive, ws.send, 503, "unavailable",
                               "this server is at its connection limit; try again shortly", retry_after=10)
        return None
    if token:  # one token holds a handful of sockets at most, on all workers together
        try:
            admitted, _ = await rt.presence.arrive(sockets_key(token), cap=rt.settings.max_sockets_per_token)
        except UNAVAILABLE:
            await ratelimit.refuse(ws.scope, ws.receive, ws.send, 503, "unavailable",
                                   "the session store is unreachable; try again shortly", retry_after=5)
            return None
        if not admitted:
            metrics.refused("token_sockets")
            await ratelimit.refuse(ws.scope, ws.receive, ws.send, 429, "rate_limited",
                                   f"this token has {rt.settings.max_sockets_per_token} live sockets open "
                                   "already: close one first", retry_after=5)
            return None
    opened = None
    try:
        await ws.accept()
        opened = await authenticate(ws, rt, code, token, console)
    finally:
        if opened is None:
            await release_socket(rt, token)
    return opened


async def authenticate(ws: WebSocket, rt: Runtime, code: str, token: str,
                       console: bool = False) -> tuple[Runtime, Caller] | None:
    try:
        _, caller = await rt.service.authenticate(code, token, console=console)
    except UNAVAILABLE:
        await ws.close(close_codes.TRY_AGAIN, "the session store is unreachable; try again shortly")
    except NotFound:
        await ws.close(close_codes.GONE, MISSING_REASON)
    except Unauthorized:
        await ws.close(close_codes.BAD_TOKEN, "bad token")
    else:
        return rt, caller
    return None


def sockets_key(token: str) -> str:
    """The token's socket count, under a name the store cannot tie to a participant."""
    return token_key(hmac.new(token.encode(), b"sockets", hashlib.sha256).hexdigest()[:32])


async def release_socket(rt: Runtime, token: str) -> None:
    if token:
        await last_socket(rt, sockets_key(token))


async def serve(ws: WebSocket, rt: Runtime, caller: Caller, conn: LiveConnection,
                dialect: Dialect = JSON_DIALECT) -> None:
    """Run one authenticated socket until either side ends it (shared with the pages' socket)."""
    try:
        await _serve(ws, rt, caller, conn, dialect)
    finally:
        await release_socket(rt, caller.token)  # taken by ``open_socket``


async def _serve(ws: WebSocket, rt: Runtime, caller: Caller, conn: LiveConnection, dialect: Dialect) -> None:
    code, actor = caller.code, caller.actor
    if actor.role == "facilitator" and actor.seat is None:  # re-issuing the key closes this console
        conn.host_key = token_hash(caller.token)
    if not await attach(ws, rt, code, conn):
        return
    here = presence_key(code, actor.participant_id) if actor.participant_id else None
    if here is not None and await first_socket(rt, here):
        await rt.service.set_connected(code, actor.participant_id, True)  # their first socket on any worker
    seat = seat_key(code, actor.seat or HOST) if actor.role == "facilitator" else None
    if seat is not None and await first_socket(rt, seat):
        await rt.service.set_seat_online(code, actor.seat or HOST, True)  # a console of this seat is open
    sender = asyncio.create_task(conn.pump())
    receiver = asyncio.create_task(receive_commands(ws, rt, caller, conn, dialect))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)
        rt.hub.detach(code, conn)
        if here is not None and await last_socket(rt, here):
            await rt.service.set_connected(code, actor.participant_id, False)  # their last, anywhere
        if seat is not None and await last_socket(rt, seat):
            await rt.service.set_seat_online(code, actor.seat or HOST, False)  # the seat's last console, anywhere


async def attach(ws: WebSocket, rt: Runtime, code: str, conn: LiveConnection) -> bool:
    """Hand the socket to the hub with the session's current state; False if it was closed.

    Its own function so that the state read here is not a local of the socket's coroutine,
    which lives for hours: in Redis mode each read is a private copy, some 25 KB a phone.
    """
    try:
        state = await rt.service.load(code)
    except UNAVAILABLE:
        await ws.close(close_codes.TRY_AGAIN, "the session store is unreachable; try again shortly")
        return False
    except NotFound:
        await ws.close(close_codes.GONE, MISSING_REASON)
        return False
    rt.hub.attach(code, conn, state)
    return True


async def first_socket(rt: Runtime, key: str) -> bool:
    """Count a socket in; True when it is the first for the key on any worker. While Redis is
    away the answer is False and the presence heartbeat puts it right once Redis is back."""
    try:
        return (await rt.presence.arrive(key))[1]
    except UNAVAILABLE:
        return False


async def last_socket(rt: Runtime, key: str) -> bool:
    """Count a socket out; True when it was the last for the key on any worker."""
    try:
        return await rt.presence.depart(key)
    except UNAVAILABLE:
        return False


async def receive_commands(ws: WebSocket, rt: Runtime, caller: Caller, conn: LiveConnection,
                           dialect: Dialect = JSON_DIALECT) -> None:
    limit = rt.settings.max_frame_bytes
    flood = FloodGuard(rt.settings.live_messages_per_s, rt.settings.live_message_burst, rt.service.clock)
    try:
        while True:
            # The loop's turn between two messages: one read can queue hundreds of a flooding
            # socket's frames, and taking them all in one go would hold every room's clocks
            # and sockets back until the last was refused.
            await asyncio.sleep(0)
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            verdict = flood.verdict()
            if verdict == "refuse":
                metrics.refused("socket_messages")
                command_id = dialect.id_of(text) if text is not None else None
                conn.reply(dialect.error(command_id, None, error_object("rate_limited", "too many messages: slow down",
                                                                        "too_many_messages")))
                continue
            if verdict == "drop":
                continue
            if verdict == "close":
                conn.kick(close_codes.POLICY, "too many messages")
                return
            if text is None:
                conn.reply(dialect.error(None, None, error_object("invalid", "send commands as JSON text frames", "bad_frame")))
                continue
            if len(text) > limit:
                too_big = f"frame over the {limit // 1024} KB limit"
                conn.reply(dialect.error(dialect.id_of(text), None, error_object("invalid", too_big, "frame_too_big")))
                continue
            await handle_frame(text, rt, caller, conn, dialect)
    except (WebSocketDisconnect, RuntimeError):
        return


async def handle_frame(text: str, rt: Runtime, caller: Caller, conn: LiveConnection,
                       dialect: Dialect = JSON_DIALECT) -> None:
    try:
        command_id, data = dialect.decode(text)
    except BadFrame as bad:  # a frame cut off after its id still names the command it was
        conn.reply(dialect.error(bad.command_id or dialect.id_of(text), None, error_object("invalid", bad.message, "bad_frame")))
        return
    except RecursionError:  # JSON nested too deeply to parse (a RuntimeError: it would end the socket)
        conn.reply(dialect.error(dialect.id_of(text), None, error_object("invalid", "malformed JSON: nested too deeply",
                                                                         "bad_frame")))
        return
    if isinstance(data, dict) and data.get("type") == ERASE:
        await erase(rt, caller, conn, command_id, data, dialect)
        return
    try:
        command = parse_command(data)
        ack = await rt.service.execute(caller, command, command_id)
    except FacilitationError as exc:
        conn.reply(dialect.error(command_id, data, exc.body()))
        if isinstance(exc, NotFound) and await gone(rt, caller.code):
            conn.kick(close_codes.GONE, MISSING_REASON)  # e.g. erased on another worker, or lost by Redis
        return
    except UNAVAILABLE:  # the command may be sent again with the same id: it applies once
        metrics.redis_error("socket")
        conn.reply(dialect.error(command_id, data, error_object("unavailable", UNAVAILABLE_MESSAGE)))
        return
    conn.reply(dialect.ack(command_id, command, ack, conn))


async def gone(rt: Runtime, code: str) -> bool:
    try:
        return await rt.store.load(code) is None
    except UNAVAILABLE:
        return False


async def erase(rt: Runtime, caller: Caller, conn: LiveConnection, command_id: str, data: Any,
                dialect: Dialect = JSON_DIALECT) -> None:
    """The facilitator's "end and erase now": ack, then every socket of the session closes."""
    if set(data) != {"type"}:
        conn.reply(dialect.error(command_id, data, error_object("invalid", "erase takes no fields", "invalid_field",
                                                               {"field": "erase"})))
        return
    try:
        state = await rt.service.erase(caller)
    except FacilitationError as exc:
        conn.reply(dialect.error(command_id, data, exc.body()))
        return
    except UNAVAILABLE:
        conn.reply(dialect.error(command_id, data, error_object("unavailable", UNAVAILABLE_MESSAGE)))
        return
    if dialect is JSON_DIALECT:  # the pages' socket just closes: its page shows the session is gone
        conn.reply(json.dumps({"type": "ack", "id": command_id, "version": state.version, "erased": True}))
    rt.hub.kick_session(state.code, *close_codes.ERASED)


class FloodGuard:
    """Per-connection message rate: a token bucket, then an error frame, then a close.

    Over the rate, the first refused message of a stretch gets a ``rate_limited`` error
    frame and the rest are dropped unanswered (answering each would flood the reply queue);
    a client still sending past ``burst`` refused messages in a row is closed with 1008.
    Nothing here waits, so a flood never stalls the receiver or the room.
    """

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self.bucket = ratelimit.Buckets(rate, burst, clock, max_keys=1)
        self.burst = burst
        self.refused = 0

    def verdict(self) -> str:
        if self.bucket.take(""):
            self.refused = 0
            return "ok"
        self.refused += 1
        if self.refused == 1:
            return "refuse"
        return "close" if self.refused > self.burst else "drop"
