"""Browser-facing protections: security headers on every response, and the live
sockets' Origin check.

A WebSocket upgrade is not covered by CORS, so a page on another site could open a
socket with a token it stole or guessed; the socket routes call ``origin_allowed``
before accepting. Clients that send no Origin (phones' apps, scripts, tests) are not
browsers acting for another site and pass.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.ratelimit import refuse

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SecurityHeaders:
    """Adds the headers above to every HTTP response; API answers are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope.get("path", "").startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if is_api:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def origin_allowed(scope: Scope, allowed: tuple[str, ...]) -> bool:
    """Same host as the request, or listed in ALLOWED_ORIGINS; no Origin at all also passes."""
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin in allowed:
        return True
    host = headers.get("x-forwarded-host") or headers.get("host") or ""
    return urlsplit(origin).netloc.lower() == host.split(",")[0].strip().lower()


UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def cross_site(scope: Scope, allowed: tuple[str, ...]) -> bool:
    """A browser sent this request on behalf of another site's page.

    A real Origin decides. Our pages send ``Referrer-Policy: no-referrer``, so a browser
    posts their forms with ``Origin: null``; then Sec-Fetch-Site (sent by every current
    browser) decides. ``null`` with no Sec-Fetch-Site (a sandboxed frame, an old browser) is
    refused; a request with neither header comes from no browser page (curl, scripts, tests).
    """
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if origin is not None and origin != "null":
        return not origin_allowed(scope, allowed)
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    return origin == "null"


class CrossSiteGuard:
    """Refuses form posts (and any other unsafe request) that another site's page sends.

    The pages' forms carry no token a forged form could lack, so the browser's own word on
    where the request comes from decides: Origin first, else Sec-Fetch-Site. Answered 403.
    """

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in UNSAFE_METHODS and cross_site(scope, self.allowed):
            await refuse(scope, receive, send, 403, "forbidden", "cross-site requests are refused")
            return
        await self.app(scope, receive, send)
