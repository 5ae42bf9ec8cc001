"""Clients written from ../shared/CONTRACT.md alone: HTTP over httpx, the live socket over websockets.

Every wait is bounded, so a broken server fails a test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import websockets

from tests.support.server import ServerProcess

View = dict[str, Any]


class Api:
    def __init__(self, server: ServerProcess) -> None:
        self.http = httpx.Client(base_url=server.base_url, timeout=10)

    def create(self, title: str = "Team reflection", **extra: Any) -> dict[str, Any]:
        answer = self.http.post("/api/sessions", json={"title": title, **extra})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def join(self, code: str, name: str) -> dict[str, Any]:
        answer = self.http.post(f"/api/sessions/{code}/participants", json={"name": name})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def send(self, code: str, token: str, command: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        return self.http.post(f"/api/sessions/{code}/commands", json=command, headers=headers)

    def ok(self, code: str, token: str, command: dict[str, Any]) -> dict[str, Any]:
        answer = self.send(code, token, command)
        assert answer.status_code == 200, (command, answer.text)
        return answer.json()

    def view(self, code: str, token: str) -> View:
        answer = self.http.get(f"/api/sessions/{code}", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        return answer.json()


class Live:
    """One live socket. Frames are kept in arrival order; ``state`` is the newest view."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.state: dict[str, Any] | None = None

    @classmethod
    async def connect(cls, server: ServerProcess, code: str, token: str) -> "Live":
        live = cls(await websockets.connect(server.live_url(code, token), max_size=None))
        await live.wait_for_state(lambda v: True)
        return live

    async def _next(self, timeout: float) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        if frame["type"] == "state":
            assert self.state is None or frame["version"] > self.state["version"], "versions only grow"
            self.state = frame
        return frame

    async def wait_for_state(self, predicate: Callable[[View], bool], timeout: float = 10.0) -> View:
        if self.state is not None and predicate(self.state["view"]):
            return self.state["view"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self._next(max(0.01, deadline - loop.time()))
            if frame["type"] == "state" and predicate(frame["view"]):
                return frame["view"]

    async def command(self, command: dict[str, Any], command_id: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """Send a command and return its ack or error frame (other frames are kept)."""
        command_id = command_id or uuid.uuid4().hex
        await self.ws.send(json.dumps({"type": "command", "id": command_id, "command": command}))
        return await self.reply_to(command_id, timeout)

    async def reply_to(self, command_id: str | None, timeout: float = 5.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self._next(max(0.01, deadline - loop.time()))
            if frame["type"] in ("ack", "error") and frame.get("id") == command_id:
                return frame

    async def close(self) -> None:
        await self.ws.close()


def speaker(view: View) -> str | None:
    return view["turn"]["participant_id"] if view["turn"] else None
