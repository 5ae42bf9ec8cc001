"""Every HTTP error leaves as ``{"error": {"code", "reason", "message"}}``: never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.facilitation.errors import FacilitationError, error_object
from app.realtime import metrics
from app.realtime.interfaces import UNAVAILABLE, UNAVAILABLE_RETRY_S
from app.realtime.service import SessionFull

log = logging.getLogger("talkingpiece.http")

HTTP_CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "invalid", 415: "invalid",
              422: "invalid", 429: "rate_limited", 503: "unavailable"}


def error_body(code: str, message: str, reason: str | None = None,
               values: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The contract's error body; every refusal, whichever layer sends it, is built here."""
    return {"error": error_object(code, message, reason, values)}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   reason: str | None = None, values: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, reason, values), status_code=status, headers=headers)


def describe(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body",)) or "body"
        msg = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            msg = "the body is not valid JSON"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts) or "invalid input"


def install(app: FastAPI) -> None:
    @app.exception_handler(FacilitationError)
    async def _facilitation(request: Request, exc: FacilitationError) -> JSONResponse:
        retry = getattr(exc, "retry_after", None)  # a fair-share limit (quotas.py) says when
        return error_response(exc.status, exc.code, exc.message, {"Retry-After": str(retry)} if retry else None,
                              exc.reason, exc.values)

    @app.exception_handler(SessionFull)
    async def _full(request: Request, exc: SessionFull) -> JSONResponse:
        return error_response(503, "unavailable", "this server is at its session limit; try again shortly",
                              {"Retry-After": "30"})

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        metrics.redis_error("http")
        log.warning("store unreachable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return error_response(503, "unavailable", "the session store is unreachable for a moment; "
                              "nothing was changed, try again shortly", {"Retry-After": str(UNAVAILABLE_RETRY_S)})

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, _unavailable)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid", describe(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code if 400 <= exc.status_code < 500 or exc.status_code == 503 else 400
        if status == 400:  # FastAPI's "error parsing the body" (not UTF-8, JSON nested too deep): invalid input
            status = 422
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        return error_response(status, HTTP_CODES.get(status, "invalid"), message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return error_response(500, "internal", "something went wrong on our side; the session is intact")
