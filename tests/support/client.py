"""Test clients written from the public contract (docs/live-socket.md, /docs): the HTTP API over httpx, the live socket over websockets.

``Api`` is synchronous (bad-input tests fire many small requests); ``LiveClient`` is async
and reads frames on demand, so a test decides exactly when it looks at the socket. Every
wait is bounded: a broken server fails a test with a timeout instead of hanging it.

A live client keeps every frame it has received (``frames``), checks on each state frame
that versions only grow, and remembers the newest state (``state``). Because the server
coalesces states for a socket that reads slowly, predicates should describe where the
session ends up, not each step on the way.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import websockets
from websockets.exceptions import ConnectionClosed

Frame = dict[str, Any]
View = dict[str, Any]

HTTP_TIMEOUT = 15.0
FRAME_TIMEOUT = 5.0


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token is not None else {}


# A refusal says why in data: the contract's keys (and "values" when a sentence needs some).
ERROR_KEYS = {"code", "reason", "message"}


class Api:
    """The contract's HTTP calls. ``create_session``/``join``/``ok``/``view`` assert success;
    ``command`` and ``request`` return the raw response for tests that expect refusals."""

    def __init__(self, base_url: str, timeout: float = HTTP_TIMEOUT) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout)

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        """Any request; ``json=`` is sent as ASCII JSON, so even lone surrogates travel as escapes."""
        headers = {**bearer(token), **kwargs.pop("headers", {})}
        if "json" in kwargs:
            kwargs["content"] = json.dumps(kwargs.pop("json")).encode()
            headers.setdefault("content-type", "application/json")
        return self.http.request(method, path, headers=headers, **kwargs)

    def formats(self) -> list[dict[str, Any]]:
        answer = self.request("GET", "/api/formats")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def create_session(self, title: str = "Tuesday supervision", **extra: Any) -> dict[str, Any]:
        """``POST /api/sessions``: the code and the facilitator's and screen's tokens."""
        answer = self.request("POST", "/api/sessions", json={"title": title, **extra})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def join(self, code: str, name: str) -> dict[str, Any]:
        """``POST /api/sessions/{code}/participants``: ``{participant_id, token}``."""
        answer = self.request("POST", f"/api/sessions/{code}/participants", json={"name": name})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def command(self, code: str, token: str | None, command: Any,
                idempotency_key: str | None = None) -> httpx.Response:
        """``POST /api/sessions/{code}/commands``; the response, whatever it is."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
        return self.request("POST", f"/api/sessions/{code}/commands", token, json=command, headers=headers)

    def ok(self, code: str, token: str, command: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        """Send a command that must be applied; its ``{"version", ...}`` answer."""
        answer = self.command(code, token, command, idempotency_key)
        assert answer.status_code == 200, (command, answer.status_code, answer.text)
        return answer.json()

    def view(self, code: str, token: str) -> View:
        answer = self.request("GET", f"/api/sessions/{code}", token)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def view_when(self, code: str, token: str, predicate: Callable[[View], bool], timeout: float = 10.0) -> View:
        """The view once ``predicate`` holds: anonymous counts reach the views at a later fold."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.view(code, token)
            if predicate(view):
                return view
            assert time.monotonic() < deadline, f"the view never got there: {view.get('pending')}"
            time.sleep(0.05)


class SocketClosed(AssertionError):
    """The server closed the socket while a test still expected frames."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"socket closed by the server: {code} {reason!r}")
        self.code = code
        self.reason = reason


class LiveClient:
    """One live socket: ``WS /api/sessions/{code}/live?token=…``."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        self.state: Frame | None = None  # the newest state frame

    @classmethod
    async def connect(cls, ws_base: str, code: str, token: str | None, *, first_state: bool = True,
                      timeout: float = FRAME_TIMEOUT) -> "LiveClient":
        """Open a socket; by default wait for the first state frame the contract promises."""
        url = f"{ws_base}/api/sessions/{code}/live"
        if token is not None:
            url += f"?token={token}"
        ws = await asyncio.wait_for(websockets.connect(url, max_size=None, max_queue=1024, open_timeout=timeout),
                                    timeout)
        client = cls(ws)
        if first_state:
            await client.wait_for_state(lambda view: True, timeout)
        return client

    @property
    def view(self) -> View:
        assert self.state is not None, "no state frame yet"
        return self.state["view"]

    @property
    def version(self) -> int:
        return self.state["version"] if self.state else -1

    # ------------------------------------------------------------ reading

    async def next_frame(self, timeout: float = FRAME_TIMEOUT) -> Frame:
        """The next frame from the server (raises ``SocketClosed`` if it closes instead)."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as closed:
            rcvd = closed.rcvd
            raise SocketClosed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
        assert isinstance(raw, str), "the server sends text frames only"
        frame = json.loads(raw)
        self.frames.append(frame)
        if frame["type"] == "state":
            assert frame["version"] > self.version, f"versions only grow: {frame['version']} after {self.version}"
            assert frame["view"]["version"] == frame["version"]
            self.state = frame
        return frame

    async def wait_for_state(self, predicate: Callable[[View], bool], timeout: float = FRAME_TIMEOUT,
                             *, since: int = -1) -> Frame:
        """The newest state if its view satisfies ``predicate``, else the first later one that does.

        ``since`` ignores states older than that version: a socket the test has not read for
        a while still holds an old newest state, which may satisfy a predicate by accident.
        """
        def good(frame: Frame) -> bool:
            return frame["version"] >= since and predicate(frame["view"])

        if self.state is not None and good(self.state):
            return self.state
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no state satisfied the predicate within {timeout}s; newest: "
                                   f"{json.dumps(self.state)[:2000] if self.state else None}")
            try:
                frame = await self.next_frame(left)
            except (TimeoutError, asyncio.TimeoutError):
                continue
            if frame["type"] == "state" and good(frame):
                return frame

    async def wait_for_version(self, version: int, timeout: float = FRAME_TIMEOUT) -> View:
        """The view once this socket has seen ``version`` (or a newer one)."""
        return (await self.wait_for_state(lambda view: view["version"] >= version, timeout))["view"]

    async def reply(self, command_id: str | None, timeout: float = FRAME_TIMEOUT) -> Frame:
        """The next ack or error frame carrying ``command_id`` (other frames are kept)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no reply to {command_id!r} within {timeout}s")
            try:
                frame = await self.next_frame(left)
            except (TimeoutError, asyncio.TimeoutError):
                continue
            if frame["type"] in ("ack", "error") and frame.get("id") == command_id:
                return frame

    async def collect(self, quiet: float = 0.2, limit: float = FRAME_TIMEOUT) -> list[Frame]:
        """Every frame that arrives until the socket has been quiet for ``quiet`` seconds."""
        got: list[Frame] = []
        deadline = asyncio.get_running_loop().time() + limit
        while asyncio.get_running_loop().time() < deadline:
            try:
                got.append(await self.next_frame(quiet))
            except (TimeoutError, asyncio.TimeoutError):
                break
        return got

    async def closed(self, timeout: float = FRAME_TIMEOUT) -> tuple[int | None, str]:
        """Wait for the server to close the socket: ``(close code, reason)``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"the socket stayed open for {timeout}s")
            try:
                await self.next_frame(left)
            except SocketClosed as closed:
                return closed.code, closed.reason
            except (TimeoutError, asyncio.TimeoutError):
                continue

    # ------------------------------------------------------------ sending

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def send_command(self, command: Any, id: str | None = None, timeout: float = FRAME_TIMEOUT) -> Frame:
        """Send ``{"type": "command", "id", "command"}``; the ack or error frame for that id."""
        command_id = id or uuid.uuid4().hex
        await self.ws.send(json.dumps({"type": "command", "id": command_id, "command": command}))
        return await self.reply(command_id, timeout)

    async def apply(self, command: dict[str, Any], id: str | None = None, timeout: float = FRAME_TIMEOUT) -> Frame:
        """Send a command that must be applied; return its ack once this socket sees its state."""
        frame = await self.send_command(command, id, timeout)
        assert frame["type"] == "ack", (command, frame)
        await self.wait_for_version(frame["version"], timeout)
        return frame

    async def refused(self, command: Any, code: str, id: str | None = None) -> Frame:
        """Send a command that must be refused with error ``code``; the error frame."""
        frame = await self.send_command(command, id)
        assert frame["type"] == "error", (command, frame)
        assert set(frame) == {"type", "id", "error"} and ERROR_KEYS <= set(frame["error"]) <= ERROR_KEYS | {"values"}, frame
        assert frame["error"]["code"] == code, (command, frame)
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", frame["error"]["reason"]), frame  # why, as a stable word
        assert isinstance(frame["error"]["message"], str) and frame["error"]["message"]
        return frame

    async def probe(self) -> None:
        """Prove the socket is open and its receiver alive: an unknown command gets its error."""
        await self.refused({"type": "no-such-command"}, "invalid", id=f"probe-{uuid.uuid4().hex[:8]}")

    async def close(self) -> None:
        await self.ws.close()


async def all_see(clients: Iterable[LiveClient], predicate: Callable[[View], bool],
                  timeout: float = FRAME_TIMEOUT) -> list[View]:
    """Every socket receives a state satisfying ``predicate``, and at least as new as the newest
    state any of them had received when called: their views, in order."""
    clients = list(clients)
    since = max((c.version for c in clients), default=-1)
    frames = await asyncio.gather(*(c.wait_for_state(predicate, timeout, since=since) for c in clients))
    return [f["view"] for f in frames]


async def close_all(clients: Iterable[LiveClient]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


def speaker(view: View) -> str | None:
    """Who holds the floor, or None."""
    return view["turn"]["participant_id"] if view["turn"] else None


def person(view: View, participant_id: str) -> dict[str, Any]:
    return next(p for p in view["participants"] if p["id"] == participant_id)


def spoken(view: View, participant_id: str) -> float:
    return person(view, participant_id)["spoken_s"]


def error_of(response: httpx.Response) -> dict[str, str]:
    """The contract's error body, checked for shape: ``{"code", "reason", "message"}`` (and ``values``)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"} and ERROR_KEYS <= set(body["error"]) <= ERROR_KEYS | {"values"}, body
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", body["error"]["reason"]), body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    assert "Traceback" not in body["error"]["message"]
    return body["error"]
