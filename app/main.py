"""The ASGI application: routes, error shapes, and the runtime built at start-up."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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
from app.pages import i18n, meetings, prints
from app.pages import routes as pages
from app.realtime import close_codes
from app.realtime.interfaces import UNAVAILABLE_RETRY_S
from app.realtime.runtime import build_runtime


def create_app(settings: AppSettings | None = None, clock: Callable[[], float] = time.time) -> FastAPI:
    settings = settings or AppSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log_privacy.install()  # uvicorn has set up its handlers by now
        app.state.runtime = await build_runtime(settings, clock, on_unknown_code=unknown_code,
                                                client_address=client_address)
        try:
            yield
        finally:
            app.state.runtime.hub.kick_all(close_codes.RESTARTING, "server restarting")
            await app.state.runtime.close()

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

    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        """Liveness: the process answers. An orchestrator restarts it only if this fails,
        never because Redis is away (a restart would not bring Redis back)."""
        return {"status": "ok"}

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    guesses = Buckets(rate=settings.guesses_per_minute / 60, burst=settings.guesses_per_minute, clock=clock)
    app.add_middleware(GuessGuard, buckets=guesses)
    app.add_middleware(CrossSiteGuard, allowed=settings.origins)
    app.add_middleware(SecurityHeaders)  # refusals above carry the headers too
    app.add_middleware(LiveSockets, guesses=guesses)  # sockets skip the HTTP stack (live/fastpath.py)
    return app
