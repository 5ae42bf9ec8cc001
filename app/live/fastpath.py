"""Live sockets go from the server to their handler past the HTTP stack.

A live socket stays open for the whole session, and every layer it passes on the way in
(middleware, router, FastAPI's endpoint wrappers) keeps a frame alive for as long as it
does: with thousands of phones those frames were a third of what each phone costs the
server (docs/benchmarks.md). None of those layers acts on a socket except the join-code
guessing guard, which wraps the handlers here too; the Origin check and the connection cap
are in the handlers' shared handshake (``app.live.socket.open_socket``). The routes stay registered
with the router as well, so the sockets behave the same either way.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from app.http.ratelimit import Buckets, GuessGuard
from app.live import htmx
from app.live import socket as live

Handler = Callable[[WebSocket, str, str, str], Awaitable[None]]

ROUTES: tuple[tuple[re.Pattern[str], Handler], ...] = (
    (re.compile(r"/api/sessions/([^/]+)/live"), live.live),
    (re.compile(r"/live/([^/]+)"), htmx.live_pages),
)


def route(path: str) -> tuple[Handler, str] | None:
    for pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match:
            return handler, match.group(1)
    return None


class LiveSockets:
    """ASGI middleware, outermost of ours: a live socket's handshake goes straight to its handler."""

    def __init__(self, app: ASGIApp, guesses: Buckets, ipv6_prefix_bits: int = 64) -> None:
        self.app = app
        self._guarded = GuessGuard(self._serve, guesses, ipv6_prefix_bits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and route(scope["path"]) is not None:
            await self._guarded(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = route(scope["path"])
        assert found is not None
        handler, code = found
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = query.get("token", [""])[-1]
        who = query.get("as", [""])[-1]  # ``as=console``: a participant's token opening the console they were handed
        if handler is htmx.live_pages:  # the pages' socket speaks its viewer's language
            await htmx.live_pages(WebSocket(scope, receive, send), code, token, who, query.get("lang", [""])[-1][:20])
        else:
            await handler(WebSocket(scope, receive, send), code, token, who)
