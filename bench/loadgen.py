"""A load process: facilitators and phones over real WebSockets on loopback.

Each load process owns whole rooms (a facilitator and its phones), so it can work out
every change's latency by itself: the facilitator notes when it sent a command and
which version it made; each phone (and the room's screen) notes when each version
arrived; a change is delivered when every phone of its room has that version (or a later
one: the server may coalesce states for a phone that is behind).

Three targets. ``json``: the contract's socket, ``/api/sessions/{code}/live``, whose state
frames start with the version and whose acks name it. ``pages``: the socket the console,
the screen and the phones' pages use, ``/live/{code}``, spoken the way htmx does: form
fields as JSON with a ``cid`` and htmx's ``HEADERS``, answered with HTML fragments. Every
frame of a new state carries the page's hidden ``#clock`` region, whose ``data-version``
is read; the ack names no version, so the command's version is the first new one the
console receives. ``raw``: bench/raw_server.py.

The sockets are websockets' sans-I/O client protocol under a bare asyncio.Protocol:
no task per socket and no per-frame JSON parsing on the phones (the version is read
from the frame's fixed prefix), so one load process carries thousands of phones.
The same code drives Talking Piece and the raw broadcast server (bench/raw_server.py).
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

STATE_PREFIX = b'{"type":"state","version":'
PAGE_VERSION = b'data-version="'  # the pages' hidden #clock region, in every frame of a new state
REPLY_ID = b'data-reply-id="'     # the pages' ack or error for one command
HTMX_HEADERS = {"HX-Request": "true", "HX-Trigger": None, "HX-Trigger-Name": None, "HX-Target": "main",
                "HX-Current-URL": "http://127.0.0.1/console"}
clock = time.monotonic  # CLOCK_MONOTONIC: one clock for every process on the machine


def raise_fd_limit(want: int = 65536) -> int:
    """5,000 sockets need more than the usual 1,024 descriptors; every process calls this."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def state_version(data: bytes) -> int | None:
    """The version of a JSON state frame, or of a pages' frame of a new state; None for replies."""
    if data.startswith(STATE_PREFIX):
        end = data.index(b",", len(STATE_PREFIX))
        return int(data[len(STATE_PREFIX):end])
    at = data.find(PAGE_VERSION)
    if at < 0:
        return None
    at += len(PAGE_VERSION)
    return int(data[at:data.index(b'"', at)])


class Client(asyncio.Protocol):
    """One WebSocket client connection; calls ``on_text(bytes)`` for every text frame."""

    def __init__(self, uri: str, deflate: bool, on_text: Any) -> None:
        extensions = [ClientPerMessageDeflateFactory()] if deflate else None  # browsers offer it; [] would send an empty header
        self.proto = ClientProtocol(parse_uri(uri), extensions=extensions, max_size=None)
        self.on_text = on_text
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.proto.send_request(self.proto.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.proto.receive_data(data)
        for event in self.proto.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    self.on_text(event.data)
            elif isinstance(event, Response) and not self.opened.done():
                if event.status_code == 101 and self.proto.handshake_exc is None:
                    self.opened.set_result(None)
                else:
                    self.opened.set_exception(ConnectionError(f"handshake answered {event.status_code}"))
        self._flush()

    def _flush(self) -> None:
        assert self.transport is not None
        for data in self.proto.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def send_text(self, text: str) -> None:
        self.proto.send_text(text.encode())
        self._flush()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()


async def connect(host: str, port: int, path: str, deflate: bool, on_text: Any, timeout: float = 30.0) -> Client:
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: Client(f"ws://{host}:{port}{path}", deflate, on_text), host, port), timeout)
    await asyncio.wait_for(client.opened, timeout)
    return client


class Phone:
    __slots__ = ("client", "arrivals", "first", "last_size")

    def __init__(self) -> None:
        self.client: Client | None = None
        self.arrivals: list[tuple[int, float]] = []  # (version, arrival time)
        self.first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.last_size = 0

    def on_text(self, data: bytes) -> None:
        version = state_version(data)
        if version is None:
            return
        self.arrivals.append((version, clock()))
        self.last_size = len(data)
        if not self.first.done():
            self.first.set_result(None)


@dataclass
class Room:
    code: str
    facilitator_token: str
    phone_tokens: list[str]
    screen_token: str = "screen"
    pages: bool = False  # the pages' socket (htmx form JSON in, HTML out) instead of the JSON one
    facilitator: Client | None = None
    screen: Phone | None = None
    phones: list[Phone] = field(default_factory=list)
    replies: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    sent: list[tuple[float, int]] = field(default_factory=list)  # (command sent at, version it made)
    counter: int = 0
    version: int = -1  # the newest version the facilitator has received
    newer: asyncio.Future[None] | None = None

    @property
    def receivers(self) -> list[Phone]:
        """Whose arrival a change waits for: every phone, and the screen."""
        return self.phones + ([self.screen] if self.screen is not None else [])

    def on_facilitator_text(self, data: bytes) -> None:
        version = state_version(data)
        if version is not None:
            if version > self.version:
                self.version = version
                if self.newer is not None and not self.newer.done():
                    self.newer.set_result(None)
            return
        if self.pages:
            at = data.find(REPLY_ID)
            if at < 0:
                return
            at += len(REPLY_ID)
            cid = data[at:data.index(b'"', at)].decode()
            frame: dict[str, Any] = {"type": "error" if b"notice error" in data else "ack", "id": cid}
        else:
            frame = json.loads(data)
        future = self.replies.pop(frame.get("id") or "", None)
        if future is not None and not future.done():
            future.set_result(frame)

    async def command(self, command: dict[str, Any], timeout: float = 30.0) -> tuple[float, dict[str, Any]]:
        """Send one command; the reply, with the version it made (pages: the first newer state seen)."""
        assert self.facilitator is not None
        self.counter += 1
        cid = f"c{self.counter}"
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self.replies[cid] = future
        base = self.version
        if self.pages:
            self.newer = loop.create_future()
            form = {name: str(value) for name, value in command.items()}  # a form's fields are strings
            text = json.dumps({**form, "cid": cid, "HEADERS": HTMX_HEADERS})
        else:
            text = json.dumps({"type": "command", "id": cid, "command": command})
        sent = clock()
        self.facilitator.send_text(text)
        reply = await asyncio.wait_for(future, timeout)
        if self.pages and reply["type"] == "ack":
            if self.version <= base:
                assert self.newer is not None
                await asyncio.wait_for(self.newer, timeout)
            reply["version"] = self.version
        return sent, reply


class Load:
    """One load process's rooms, driven step by step by the orchestrator."""

    def __init__(self, target: str, host: str, port: int, deflate: bool) -> None:
        self.target, self.host, self.port, self.deflate = target, host, port, deflate
        self.rooms: list[Room] = []

    def live_path(self, code: str, token: str, lang: str = "") -> str:
        if self.target == "raw":
            return f"/{code}?token={token}"
        if self.target == "pages":
            return f"/live/{code}?token={token}" + (f"&lang={lang}" if lang else "")
        return f"/api/sessions/{code}/live?token={token}"

    async def setup(self, rooms: int, phones: int, name: str) -> dict[str, Any]:
        """Create the rooms (sessions and participants over HTTP), connect and start the facilitators
        and connect the screens (a room's screen is there before its phones, as in a real room)."""
        if self.target == "raw":
            self.rooms = [Room(f"{name}-{i}", "facilitator", [f"p{j}" for j in range(phones)]) for i in range(rooms)]
        else:
            limits = httpx.Limits(max_connections=16)
            async with httpx.AsyncClient(base_url=f"http://{self.host}:{self.port}", limits=limits,
                                         timeout=60) as http:
                gate = asyncio.Semaphore(16)

                async def room(i: int) -> Room:
                    async with gate:
                        made = (await http.post("/api/sessions", json={"title": f"{name} {i}"})).raise_for_status().json()
                    tokens = []
                    for j in range(phones):
                        async with gate:
                            joined = await http.post(f"/api/sessions/{made['code']}/participants",
                                                     json={"name": f"Phone {j}"})
                        tokens.append(joined.raise_for_status().json()["token"])
                    return Room(made["code"], made["facilitator_token"], tokens, made["screen_token"],
                                pages=self.target == "pages")

                self.rooms = list(await asyncio.gather(*(room(i) for i in range(rooms))))
        for room in self.rooms:
            room.facilitator = await connect(self.host, self.port, self.live_path(room.code, room.facilitator_token),
                                             self.deflate, room.on_facilitator_text)
        if self.target != "raw":
            for room in self.rooms:
                for command in ({"type": "start"}, {"type": "start_round", "seconds_per_turn": 3600}):
                    _, reply = await room.command(command)
                    if reply.get("type") != "ack":
                        raise RuntimeError(f"{command['type']} refused: {reply}")
        for room in self.rooms:
            screen = Phone()
            screen.client = await connect(self.host, self.port, self.live_path(room.code, room.screen_token),
                                          self.deflate, screen.on_text)
            await asyncio.wait_for(screen.first, 30)
            room.screen = screen
        return {"rooms": len(self.rooms)}

    async def connect_phones(self, in_flight: int = 64, first_timeout: float = 60.0,
                             languages: list[str] | None = None) -> dict[str, Any]:
        """Every room's phones; with ``languages`` the pages' phones take them in turn (a mixed room)."""
        gate = asyncio.Semaphore(in_flight)
        failures = 0
        spoken = languages or [""]

        async def one(room: Room, token: str, lang: str) -> None:
            nonlocal failures
            async with gate:
                for attempt in range(3):  # bounded retries: a burst of handshakes can overflow the backlog
                    phone = Phone()
                    try:
                        phone.client = await connect(self.host, self.port, self.live_path(room.code, token, lang),
                                                     self.deflate, phone.on_text, timeout=first_timeout)
                        await asyncio.wait_for(phone.first, first_timeout)
                        room.phones.append(phone)
                        return
                    except (OSError, asyncio.TimeoutError):
                        if phone.client is not None:
                            phone.client.close()
                        await asyncio.sleep(0.2 * (attempt + 1))
                failures += 1

        started = clock()
        await asyncio.gather(*(one(room, token, spoken[i % len(spoken)])
                               for room in self.rooms for i, token in enumerate(room.phone_tokens)))
        return {"phones": sum(len(r.phones) for r in self.rooms), "failures": failures,
                "seconds": clock() - started}

    async def run(self, duration: float, interval: float, warmup: float = 0.0, settle: float = 3.0,
                  command_timeout: float = 10.0) -> dict[str, Any]:
        """Every facilitator changes the turn once per ``interval`` (random phase) for ``warmup``
        seconds that are not counted, then for ``duration`` seconds that are."""
        for room in self.rooms:
            for phone in room.receivers:
                phone.arrivals.clear()
        start = clock()
        counted_from = start + warmup
        end = counted_from + duration
        errors = commands = 0

        async def drive(room: Room) -> None:
            nonlocal errors, commands
            due = start + random.uniform(0, interval)
            while due < end:
                await asyncio.sleep(max(0.0, due - clock()))
                sent = clock()  # what a command that timed out is counted from
                try:
                    commands += 1
                    sent, reply = await room.command({"type": "next_turn"}, timeout=command_timeout)
                    # The round ended (a conflict; the pages' error names no code, and only that refuses here)
                    if reply.get("type") == "error" and (room.pages or reply["error"]["code"] == "conflict"):
                        commands += 1
                        sent, reply = await room.command({"type": "start_round", "seconds_per_turn": 3600},
                                                         timeout=command_timeout)
                except asyncio.TimeoutError:
                    reply = {"type": "timeout"}
                if sent < counted_from:
                    pass
                elif reply.get("type") != "ack":
                    errors += 1
                else:
                    room.sent.append((sent, int(reply["version"])))
                due = max(due + interval, clock())

        await asyncio.gather(*(drive(room) for room in self.rooms))
        await self._settle(settle)
        latencies: list[float] = []
        changes = delivered = 0
        sizes: list[int] = []
        for room in self.rooms:
            sizes.extend(p.last_size for p in room.phones if p.last_size)
            for sent, version in room.sent:
                changes += 1
                worst = 0.0
                for phone in room.receivers:
                    arrived = next((t for v, t in phone.arrivals if v >= version), None)
                    if arrived is None:
                        break
                    worst = max(worst, arrived - sent)
                else:
                    delivered += 1
                    latencies.append(worst)
        return {"changes": changes, "delivered": delivered, "errors": errors, "latencies": latencies,
                "commands": commands,
                "frame_bytes": sum(sizes) / len(sizes) if sizes else 0, "seconds": clock() - start}

    async def _settle(self, limit: float) -> None:
        """Wait (bounded) until every phone has the version of its room's last change."""
        deadline = clock() + limit
        while clock() < deadline:
            if all(not room.sent or all(p.arrivals and p.arrivals[-1][0] >= room.sent[-1][1] for p in room.receivers)
                   for room in self.rooms):
                return
            await asyncio.sleep(0.05)

    def close(self) -> None:
        for room in self.rooms:
            if room.facilitator is not None:
                room.facilitator.close()
            for phone in room.receivers:
                if phone.client is not None:
                    phone.client.close()


def worker(conn: Any, target: str, host: str, port: int, deflate: bool, seed: int) -> None:
    """A load process's main: obeys ("setup" | "connect" | "run" | "close", args) from the pipe."""
    raise_fd_limit()
    random.seed(seed)

    async def main() -> None:
        load = Load(target, host, port, deflate)
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not await loop.run_in_executor(None, conn.poll, 3600):
                    return
                step, args = conn.recv()
                try:
                    if step == "setup":
                        answer: Any = await load.setup(**args)
                    elif step == "connect":
                        answer = await load.connect_phones(**args)
                    elif step == "run":
                        answer = await load.run(**args)
                    else:
                        conn.send(("ok", None))
                        return
                    conn.send(("ok", answer))
                except Exception as exc:  # reported to the orchestrator, which stops the run
                    conn.send(("error", f"{type(exc).__name__}: {exc}"))
                    return
        finally:
            load.close()
            await asyncio.sleep(0.2)

    asyncio.run(main())
