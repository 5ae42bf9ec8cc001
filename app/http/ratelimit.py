"""Abuse limits: token buckets with an injected clock, and the join-code guessing guard.

A join code is short enough to type on a phone, so it is guessable in bulk. The guard
lets each client address spend ``guesses_per_minute`` lookups of codes that do not exist
(refilled continuously); once its bucket is empty, every request of that address that
names a session (HTTP or socket) answers 429 with ``Retry-After`` until it refills,
whether the code exists or not, so a guesser learns nothing while blocked.

How a lookup is known to have missed: the guard puts a callback in a context variable
for the request; ``SessionService.load`` calls ``unknown_code()`` when no session has
the code. The callback spends at most once per request. Once the app is running, the
buckets are the runtime's shared ones (``quotas.py``: in Redis mode, one bucket per
address over all workers); ``Buckets`` is the in-process fallback.

The guard also records the client's address for the request (``client_address``), for
the per-address limits on creating and joining sessions. Every per-address limit counts a
client as ``client_key`` names it: an IPv4 address by itself, an IPv6 address by its
network (a /64 by default), since one machine or home may take any address of its /64 at
will and would otherwise pass every limit by rotating through them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from app.http.errors import error_body
from app.realtime import close_codes, metrics
from app.realtime.interfaces import UNAVAILABLE, UNAVAILABLE_RETRY_S

Clock = Callable[[], float]


class Buckets:
    """One token bucket per key: ``rate`` tokens a second, up to ``burst``.

    Keys are bounded (least recently used dropped first), so a flood of addresses cannot
    grow memory without limit; a dropped key starts again with a full bucket.
    """

    def __init__(self, rate: float, burst: float, clock: Clock, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def _level(self, key: str) -> float:
        tokens, at = self._levels.get(key, (self.burst, self.clock()))
        return min(self.burst, tokens + (self.clock() - at) * self.rate)

    def wait(self, key: str, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are there (0 if they are now); spends nothing."""
        missing = cost - self._level(key)
        return 0.0 if missing <= 0 else missing / self.rate

    def take(self, key: str, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens if there are enough; False (and nothing spent) if not."""
        level = self._level(key)
        ok = level >= cost
        self._levels[key] = (level - cost if ok else level, self.clock())
        self._levels.move_to_end(key)
        while len(self._levels) > self.max_keys:
            self._levels.popitem(last=False)
        return ok

    def spend(self, key: str, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens, down to zero at most."""
        level = self._level(key)
        self._levels[key] = (max(0.0, level - cost), self.clock())
        self._levels.move_to_end(key)
        while len(self._levels) > self.max_keys:
            self._levels.popitem(last=False)


_on_unknown_code: ContextVar[Callable[[], None] | None] = ContextVar("talkingpiece_unknown_code", default=None)
_client: ContextVar[str | None] = ContextVar("talkingpiece_client", default=None)


def client_key(address: str, ipv6_prefix_bits: int = 64) -> str:
    """The client a per-address limit counts for this address.

    An IPv4 address is one client. An IPv6 address counts as its network of
    ``ipv6_prefix_bits`` (``IPV6_PREFIX_BITS``): a provider hands a home or a phone a whole
    /64 and its devices pick addresses in it freely. An IPv4-mapped IPv6 address
    (``::ffff:192.0.2.1``, as a dual-stack listener reports IPv4 clients) is the IPv4 client.
    Anything that is not an address (a test client's name) is counted as it is.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone ("%eth0")
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, ipv6_prefix_bits), strict=False))
    return str(ip)


def client_address() -> str | None:
    """The address of the client of the current request or socket (per-address limits)."""
    return _client.get()


def unknown_code() -> None:
    """A session lookup found no session: charge the client of the current request, if any."""
    callback = _on_unknown_code.get()
    if callback is not None:
        callback()


# Paths that name a session: a blocked address gets 429 on all of them.
SESSION_PATHS = ("/api/sessions/", "/join", "/console/", "/screen/", "/live/", "/summary/")


def names_a_session(path: str) -> bool:
    return path.startswith(SESSION_PATHS) and path.rstrip("/") != "/api/sessions"


class GuessGuard:
    """ASGI middleware: slows join-code guessing per client address (see the module docstring)."""

    def __init__(self, app: ASGIApp, buckets: Buckets, ipv6_prefix_bits: int = 64) -> None:
        self.app = app
        self.buckets = buckets
        self.ipv6_prefix_bits = ipv6_prefix_bits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = client_key((scope.get("client") or ("unknown", 0))[0], self.ipv6_prefix_bits)
        address = _client.set(client)
        try:
            if names_a_session(scope.get("path", "")):
                await self._guarded(scope, receive, send, client)
            else:
                await self.app(scope, receive, send)
        finally:
            _client.reset(address)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, client: str) -> None:
        quotas = _quotas(scope)
        try:
            wait = await quotas.guess_wait(client) if quotas is not None else self.buckets.wait(client)
        except UNAVAILABLE:
            await refuse(scope, receive, send, 503, "unavailable", "the session store is unreachable for a "
                         "moment; try again shortly", retry_after=UNAVAILABLE_RETRY_S)
            return
        if wait > 0:
            metrics.refused("guesses")
            await refuse(scope, receive, send, 429, "rate_limited",
                         "too many lookups of unknown session codes from your address; wait and try again",
                         retry_after=wait)
            return
        spent = False

        def charge() -> None:
            nonlocal spent
            if not spent:
                spent = True
                if quotas is None:
                    self.buckets.spend(client)
                else:  # counted across workers; the miss is answered without waiting for it
                    task = asyncio.get_running_loop().create_task(quotas.guessed(client))
                    _charges.add(task)
                    task.add_done_callback(_charged)

        reset = _on_unknown_code.set(charge)
        try:
            await self.app(scope, receive, send)
        finally:
            _on_unknown_code.reset(reset)


_charges: set[asyncio.Task[None]] = set()


def _charged(task: asyncio.Task[None]) -> None:
    _charges.discard(task)
    if not task.cancelled() and task.exception() is not None:
        pass  # the store was unreachable: this one guess goes uncounted


def _quotas(scope: Scope) -> Any:
    """The running app's shared limits, once its runtime is built (None before, e.g. in unit tests)."""
    app = scope.get("app")
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    return getattr(runtime, "quotas", None)


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str,
                 retry_after: float | None = None) -> None:
    """Answer with the contract's error before the app runs: an HTTP response, or for a socket
    a refused handshake (the denial response where the server supports it, else a close)."""
    body = json.dumps(error_body(code, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
    if scope["type"] == "websocket":
        await receive()  # the handshake's websocket.connect, before any answer to it
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": close_codes.TRY_AGAIN if status == 503 else close_codes.POLICY, "reason": message[:120]})
            return
        start, part = "websocket.http.response.start", "websocket.http.response.body"
    else:
        start, part = "http.response.start", "http.response.body"
    await send({"type": start, "status": status, "headers": headers})
    await send({"type": part, "body": body})
