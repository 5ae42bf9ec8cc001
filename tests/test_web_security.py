"""Headers a browser enforces, and the live sockets' Origin check."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from tests.support.client import Api
from tests.support.server import ServerProcess


@pytest.mark.parametrize("path", ["/", "/api/formats", "/healthz", "/static/js/pages/phone.js", "/api/nowhere", "/docs"])
def test_every_response_carries_the_security_headers(server: ServerProcess, path: str) -> None:
    headers = httpx.get(server.base_url + path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    if path.startswith("/api/"):
        assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/sessions/{code}/live", "/live/{code}"])
def test_a_socket_from_another_site_is_refused_before_it_opens(server: ServerProcess, path: str) -> None:
    with Api(server.base_url) as api:
        created = api.create_session()
    url = f"{server.ws_base}{path.format(code=created['code'])}?token={created['facilitator_token']}"

    async def attempt(origin: str | None) -> str:
        try:
            async with websockets.connect(url, origin=origin) as ws:
                await asyncio.wait_for(ws.recv(), 5)
                return "open"
        except websockets.InvalidStatus as refused:
            return f"refused {refused.response.status_code}"

    assert asyncio.run(attempt("https://evil.example")) == "refused 403"
    assert asyncio.run(attempt(f"http://127.0.0.1:{server.port}")) == "open"
    assert asyncio.run(attempt(None)) == "open"
