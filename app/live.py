"""The live socket: ``WS /api/sessions/{code}/live?token=…``.

One receiver (this coroutine) and one sender (the connection's pump) per socket. The
receiver handles one command at a time, so a client's commands apply in the order sent.
"""

from __future__ import annotations

import asyncio
import json
import logging

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from .facilitation.commands import parse_command
from .facilitation.errors import FacilitationError, NotFound, Unauthorized
from .facilitation.models import Actor
from .realtime.connection import LiveConnection
from .realtime.frames import ack_frame, error_frame, error_frame_for, state_frame
from .realtime.runtime import Runtime

router = APIRouter()
log = logging.getLogger("talkingpiece.live")

CLOSE_BAD_TOKEN = 4401
CLOSE_UNKNOWN_SESSION = 4404
MAX_ID = 128


@router.websocket("/api/sessions/{code}/live")
async def live(ws: WebSocket, code: str, token: str = "") -> None:
    rt: Runtime = ws.app.state.runtime
    await ws.accept()
    try:
        state, actor = await rt.service.authenticate(code, token)
    except NotFound:
        await ws.close(CLOSE_UNKNOWN_SESSION, "no session with that code")
        return
    except Unauthorized:
        await ws.close(CLOSE_BAD_TOKEN, "bad token")
        return
    await serve(ws, rt, state.code, token, actor, LiveConnection(ws, actor, state_frame))


async def serve(ws: WebSocket, rt: Runtime, code: str, token: str, actor: Actor, conn: LiveConnection) -> None:
    """Run one authenticated socket until either side ends it (shared with the pages' socket)."""
    first = rt.hub.attach(code, conn, await rt.service.load(code))
    if first and actor.participant_id:
        await rt.service.set_connected(code, actor.participant_id, True)
    sender = asyncio.create_task(conn.pump())
    receiver = asyncio.create_task(receive_commands(ws, rt, code, token, conn))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)
        last = rt.hub.detach(code, conn)
        if last and actor.participant_id:
            await rt.service.set_connected(code, actor.participant_id, False)


async def receive_commands(ws: WebSocket, rt: Runtime, code: str, token: str, conn: LiveConnection) -> None:
    limit = rt.settings.max_frame_bytes
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                conn.reply(error_frame(None, "invalid", "send commands as JSON text frames"))
                continue
            if len(text) > limit:
                conn.reply(error_frame(None, "invalid", f"frame over the {limit // 1024} KB limit"))
                continue
            await handle_frame(text, rt, code, token, conn)
    except (WebSocketDisconnect, RuntimeError):
        return


async def handle_frame(text: str, rt: Runtime, code: str, token: str, conn: LiveConnection) -> None:
    try:
        frame = json.loads(text)
    except ValueError:
        conn.reply(error_frame(None, "invalid", "malformed JSON"))
        return
    if not isinstance(frame, dict):
        conn.reply(error_frame(None, "invalid", "a frame must be a JSON object"))
        return
    command_id = frame.get("id")
    if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_ID:
        conn.reply(error_frame(None, "invalid", f"'id' must be a string of 1 to {MAX_ID} characters"))
        return
    if frame.get("type") != "command":
        conn.reply(error_frame(command_id, "invalid", "unknown frame type: send {\"type\": \"command\", ...}"))
        return
    try:
        command = parse_command(frame.get("command"))
        ack = await rt.service.execute(code, token, command, command_id)
    except FacilitationError as exc:
        conn.reply(error_frame_for(command_id, exc))
        return
    conn.reply(ack_frame(command_id, ack))
