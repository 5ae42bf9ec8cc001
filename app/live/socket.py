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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from app.facilitation.commands import Command, parse_command
from app.facilitation.errors import FacilitationError, NotFound, Unauthorized
from app.facilitation.models import Actor
from app.http import ratelimit
from app.http.security import origin_allowed
from app.realtime.connection import CLOSE_ERASED, LiveConnection
from app.realtime.frames import ack_frame, error_frame, state_frame
from app.realtime.interfaces import MISSING_REASON, UNAVAILABLE, presence_key, token_key
from app.realtime.runtime import Runtime

router = APIRouter()
CLOSE_FORBIDDEN_ORIGIN = 4403
log = logging.getLogger("talkingpiece.live")

CLOSE_BAD_TOKEN = 4401
CLOSE_UNKNOWN_SESSION = 4404
CLOSE_POLICY = 1008  # kept flooding after a rate_limited error frame
CLOSE_TRY_AGAIN = 1013  # the store is unreachable at the handshake: clients reconnect with backoff
UNAVAILABLE_MESSAGE = "the session store is unreachable for a moment; nothing was changed, send it again shortly"
ERASE = "erase"  # the facilitator's "end and erase now" (handled here, not by the core: it deletes the session)
MAX_ID = 128


class BadFrame(Exception):
    """A frame that carries no command; ``command_id`` is set when the frame named one."""

    def __init__(self, command_id: str | None, message: str) -> None:
        super().__init__(message)
        self.command_id = command_id
        self.message = message


@dataclass(frozen=True)
class Dialect:
    """How one kind of socket spells commands and replies; the handling in between is shared."""

    decode: Callable[[str], tuple[str, Any]]            # text -> (command id, command data); or BadFrame
    ack: Callable[[str, Command, dict[str, Any]], str]  # a command was applied
    error: Callable[[str | None, Any, str, str], str]   # (command id, command data or None, code, message)


def decode_json_frame(text: str) -> tuple[str, Any]:
    try:
        frame = json.loads(text)
    except ValueError:
        raise BadFrame(None, "malformed JSON") from None
    if not isinstance(frame, dict):
        raise BadFrame(None, "a frame must be a JSON object")
    command_id = frame.get("id")
    if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_ID:
        raise BadFrame(None, f"'id' must be a string of 1 to {MAX_ID} characters")
    if frame.get("type") != "command":
        raise BadFrame(command_id, "unknown frame type: send {\"type\": \"command\", ...}")
    return command_id, frame.get("command")


JSON_DIALECT = Dialect(decode=decode_json_frame, ack=lambda cid, _cmd, ack: ack_frame(cid, ack),
                       error=lambda cid, _data, code, message: error_frame(cid, code, message))


@router.websocket("/api/sessions/{code}/live")
async def live(ws: WebSocket, code: str, token: str = "") -> None:
    opened = await open_socket(ws, code, token)
    if opened is not None:
        rt, session, actor = opened
        await serve(ws, rt, session, token, actor, LiveConnection(ws, actor, state_frame))


async def open_socket(ws: WebSocket, code: str, token: str) -> tuple[Runtime, str, Actor] | None:
    """The handshake both live sockets share: Origin, accept, then who is this? None if closed.

    Gives the session's normalised code, not the state it read: a socket lives for hours,
    and in Redis mode a state kept by its handler would be a private copy per phone.
    """
    rt: Runtime = ws.app.state.runtime
    if not origin_allowed(ws.scope, rt.settings.origins):
        await ws.close(CLOSE_FORBIDDEN_ORIGIN)  # before accept: the handshake is refused with 403
        return None
    if rt.hub.socket_count >= rt.settings.max_connections:  # 503 + Retry-After, or close 1013
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
            await ratelimit.refuse(ws.scope, ws.receive, ws.send, 429, "rate_limited",
                                   f"this token has {rt.settings.max_sockets_per_token} live sockets open "
                                   "already: close one first", retry_after=5)
            return None
    opened = None
    try:
        await ws.accept()
        opened = await authenticate(ws, rt, code, token)
    finally:
        if opened is None:
            await release_socket(rt, token)
    return opened


async def authenticate(ws: WebSocket, rt: Runtime, code: str, token: str) -> tuple[Runtime, str, Actor] | None:
    try:
        state, actor = await rt.service.authenticate(code, token)
    except UNAVAILABLE:
        await ws.close(CLOSE_TRY_AGAIN, "the session store is unreachable; try again shortly")
    except NotFound:
        await ws.close(CLOSE_UNKNOWN_SESSION, MISSING_REASON)
    except Unauthorized:
        await ws.close(CLOSE_BAD_TOKEN, "bad token")
    else:
        return rt, state.code, actor
    return None


def sockets_key(token: str) -> str:
    """The token's socket count, under a name the store cannot tie to a participant."""
    return token_key(hmac.new(token.encode(), b"sockets", hashlib.sha256).hexdigest()[:32])


async def release_socket(rt: Runtime, token: str) -> None:
    if token:
        await last_socket(rt, sockets_key(token))


async def serve(ws: WebSocket, rt: Runtime, code: str, token: str, actor: Actor, conn: LiveConnection,
                dialect: Dialect = JSON_DIALECT) -> None:
    """Run one authenticated socket until either side ends it (shared with the pages' socket)."""
    try:
        await _serve(ws, rt, code, token, actor, conn, dialect)
    finally:
        await release_socket(rt, token)  # taken by ``open_socket``


async def _serve(ws: WebSocket, rt: Runtime, code: str, token: str, actor: Actor, conn: LiveConnection,
                 dialect: Dialect) -> None:
    try:
        state = await rt.service.load(code)
    except UNAVAILABLE:
        await ws.close(CLOSE_TRY_AGAIN, "the session store is unreachable; try again shortly")
        return
    except NotFound:
        await ws.close(CLOSE_UNKNOWN_SESSION, MISSING_REASON)
        return
    rt.hub.attach(code, conn, state)
    here = presence_key(code, actor.participant_id) if actor.participant_id else None
    if here is not None and await first_socket(rt, here):
        await rt.service.set_connected(code, actor.participant_id, True)  # their first socket on any worker
    sender = asyncio.create_task(conn.pump())
    receiver = asyncio.create_task(receive_commands(ws, rt, code, token, conn, dialect))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)
        rt.hub.detach(code, conn)
        if here is not None and await last_socket(rt, here):
            await rt.service.set_connected(code, actor.participant_id, False)  # their last, anywhere


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


async def receive_commands(ws: WebSocket, rt: Runtime, code: str, token: str, conn: LiveConnection,
                           dialect: Dialect = JSON_DIALECT) -> None:
    limit = rt.settings.max_frame_bytes
    flood = FloodGuard(rt.settings.live_messages_per_s, rt.settings.live_message_burst, rt.service.clock)
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            verdict = flood.verdict()
            if verdict == "refuse":
                conn.reply(dialect.error(None, None, "rate_limited", "too many messages: slow down"))
                continue
            if verdict == "drop":
                continue
            if verdict == "close":
                conn.kick(CLOSE_POLICY, "too many messages")
                return
            text = message.get("text")
            if text is None:
                conn.reply(dialect.error(None, None, "invalid", "send commands as JSON text frames"))
                continue
            if len(text) > limit:
                conn.reply(dialect.error(None, None, "invalid", f"frame over the {limit // 1024} KB limit"))
                continue
            await handle_frame(text, rt, code, token, conn, dialect)
    except (WebSocketDisconnect, RuntimeError):
        return


async def handle_frame(text: str, rt: Runtime, code: str, token: str, conn: LiveConnection,
                       dialect: Dialect = JSON_DIALECT) -> None:
    try:
        command_id, data = dialect.decode(text)
    except BadFrame as bad:
        conn.reply(dialect.error(bad.command_id, None, "invalid", bad.message))
        return
    except RecursionError:  # JSON nested too deeply to parse (a RuntimeError: it would end the socket)
        conn.reply(dialect.error(None, None, "invalid", "malformed JSON: nested too deeply"))
        return
    if isinstance(data, dict) and data.get("type") == ERASE:
        await erase(rt, code, token, conn, command_id, data, dialect)
        return
    try:
        command = parse_command(data)
        ack = await rt.service.execute(code, token, command, command_id)
    except FacilitationError as exc:
        conn.reply(dialect.error(command_id, data, exc.code, exc.message))
        if isinstance(exc, NotFound) and await gone(rt, code):
            conn.kick(CLOSE_ERASED, MISSING_REASON)  # e.g. erased on another worker, or lost by Redis
        return
    except UNAVAILABLE:  # the command may be sent again with the same id: it applies once
        conn.reply(dialect.error(command_id, data, "unavailable", UNAVAILABLE_MESSAGE))
        return
    conn.reply(dialect.ack(command_id, command, ack))


async def gone(rt: Runtime, code: str) -> bool:
    try:
        return await rt.store.load(code) is None
    except UNAVAILABLE:
        return False


async def erase(rt: Runtime, code: str, token: str, conn: LiveConnection, command_id: str, data: Any,
                dialect: Dialect = JSON_DIALECT) -> None:
    """The facilitator's "end and erase now": ack, then every socket of the session closes."""
    if set(data) != {"type"}:
        conn.reply(dialect.error(command_id, data, "invalid", "erase takes no fields"))
        return
    try:
        state = await rt.service.erase(code, token)
    except FacilitationError as exc:
        conn.reply(dialect.error(command_id, data, exc.code, exc.message))
        return
    except UNAVAILABLE:
        conn.reply(dialect.error(command_id, data, "unavailable", UNAVAILABLE_MESSAGE))
        return
    if dialect is JSON_DIALECT:  # the pages' socket just closes: its page shows the session is gone
        conn.reply(json.dumps({"type": "ack", "id": command_id, "version": state.version, "erased": True}))
    rt.hub.kick_session(state.code, CLOSE_ERASED, "the session was erased")


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
