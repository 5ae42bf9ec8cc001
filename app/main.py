"""The ASGI application: routes, error shapes, and the runtime built at start-up."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from app.api import between as between_api
from app.api import docs as api_docs
from app.api import groups as group_api
from app.api import sessions as session_api
from app.api import summary as summary_api
from app.config import AppSettings
from app.http import errors, log_privacy
from app.http.body_limit import BodyLimit
from app.http.ratelimit import Buckets, GuessGuard, client_address, unknown_code
from app.http.security import CrossSiteGuard, SecurityHeaders
from app.live import htmx as htmx_socket
from app.live import socket as json_socket
from app.live.fastpath import LiveSockets
from app.live.keepalive import KeptAlive  # the WebSocket protocol uvicorn runs the live sockets on (app/__main__.py)
from app.pages import i18n, meetings, prints
from app.pages import routes as pages
from app.realtime import close_codes, metrics
from app.realtime.interfaces import UNAVAILABLE_RETRY_S
from app.realtime.runtime import build_runtime

log = logging.getLogger("talkingpiece")


def log_config(settings: AppSettings) -> dict[str, Any] | None:
    """How ``python -m app`` has uvicorn set up logging: None for uvicorn's own plain lines,
    or JSON lines from the first one (``LOG_FORMAT=json``, app/http/log_privacy.py)."""
    return log_privacy.config(settings.log_level, settings.log_format == "json")


def create_app(settings: AppSettings | None = None, clock: Callable[[], float] = time.time) -> FastAPI:
    settings = settings or AppSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log_privacy.install(json_lines=settings.log_format == "json")  # uvicorn has set up its handlers by now
        port = metrics.serve_port(settings.metrics_host, settings.metrics_port) if settings.metrics_port else None
        if settings.trusts_any_proxy:
            log.warning("FORWARDED_ALLOW_IPS=%s believes the X-Forwarded-For of every client: any client can "
                        "then pick its own address and pass every per-address limit (join-code guessing, "
                        "sessions created, joins). Set it to your proxy's address (SECURITY.md)",
                        settings.forwarded_allow_ips)
        app.state.runtime = await build_runtime(settings, clock, on_unknown_code=unknown_code,
                                                client_address=client_address)
        try:
            yield
        finally:
            app.state.runtime.hub.kick_all(*close_codes.SERVER_RESTARTING)
            await app.state.runtime.close()
            if port is not None:
                port.close()
            metrics.worker_stopped()

    app = FastAPI(title="Talking Piece", version="1.0",
                  summary="Facilitated reflective practice sessions, kept in step live.", lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # app/api/docs.py serves /docs, assets and all
    errors.install(app)
    app.state.words_for = i18n.words_for  # the downloads' words in the reader's language
    app.state.plurals_for = i18n.plurals_for  # and their counts
    app.include_router(session_api.router)
    app.include_router(group_api.router)
    app.include_router(between_api.router)
    app.include_router(api_docs.router)
    app.include_router(prints.router)
    app.include_router(meetings.router)
    app.include_router(summary_api.router)
    app.include_router(json_socket.router)
    app.include_router(pages.router)
    app.include_router(htmx_socket.router)
    app.mount("/static", pages.static_files(), name="static")
    app.add_exception_handler(pages.FormTooLarge, pages.form_too_large)

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        """Readiness: 503 while the store is unreachable, so a balancer sends nobody here."""
        if await request.app.state.runtime.healthy():
            return JSONResponse({"status": "ok"})
        return errors.error_response(503, "unavailable", "the session store is unreachable",
                                     {"Retry-After": str(UNAVAILABLE_RETRY_S)})

    @app.get("/metrics", include_in_schema=False)
    def metrics_page(request: Request) -> Response:
        """Prometheus' scrape (docs/operations.md), for the operator alone: as if there were no such
        page unless METRICS_TOKEN is set, and 401 to a request that does not bear it."""
        token = settings.metrics_token
        if not token:
            raise HTTPException(404)
        offered = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(offered, f"Bearer {token}".encode()):
            raise HTTPException(401, "the metrics need the operator's bearer token", {"WWW-Authenticate": "Bearer"})
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        """Liveness: the process answers. An orchestrator restarts it only if this fails,
        never because Redis is away (a restart would not bring Redis back)."""
        return {"status": "ok"}

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    guesses = Buckets(rate=settings.guesses_per_minute / 60, burst=settings.guesses_per_minute, clock=clock)
    app.add_middleware(GuessGuard, buckets=guesses, ipv6_prefix_bits=settings.ipv6_prefix_bits)
    app.add_middleware(CrossSiteGuard, allowed=settings.origins)
    app.add_middleware(SecurityHeaders)  # refusals above carry the headers too
    # sockets skip the HTTP stack (live/fastpath.py)
    app.add_middleware(LiveSockets, guesses=guesses, ipv6_prefix_bits=settings.ipv6_prefix_bits)
    return app
