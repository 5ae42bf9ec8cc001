"""The session summary downloads (issue 7): JSON, Markdown, and a print-ready HTML page.

The facilitator's token yields the group's summary; a participant's token yields their
own copy, which adds their own actions and nothing of anybody else's. The screen's
token yields nothing. What the summary holds is decided in ``facilitation.summary``.

The print page at ``/summary/{code}`` carries no token server-side (like the console):
web/static/summary.js reads it from the URL fragment (``#key=…``), fetches the page's
content block from ``/api/sessions/{code}/summary.html?part=content`` with it, and offers
the Markdown download. The same template renders the whole page for a bearer request,
so a script or a test can fetch the printable document directly.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.facilitation.errors import Forbidden, Unauthorized
from app.facilitation.models import Actor, SessionState
from app.facilitation.summary import STATUS_WORDS, summary, to_markdown
from app.pages.templates import render_block, render_page, templates
from app.realtime.service import normalise_code

router = APIRouter(tags=["summary"])

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


# The pages' one environment renders the summary too (web/templates/summary.html).
templates.filters["minutes"] = _minutes
templates.globals["status_words"] = STATUS_WORDS


async def reader(code: str, request: Request, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """The summary this token may read: the facilitator's, or a participant's own copy."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send your token as 'Authorization: Bearer <token>'")
    service = request.app.state.runtime.service
    state, actor = await service.authenticate(code, authorization[7:].strip())
    return _summary_for(state, actor, service.clock())


def _summary_for(state: SessionState, actor: Actor, now: float) -> dict[str, Any]:
    if actor.role == "facilitator":
        return summary(state, now)
    if actor.role == "participant":
        return summary(state, now, participant_id=actor.participant_id)
    raise Forbidden("the screen has no summary to download: the facilitator and each participant have theirs")


Summary = Annotated[dict[str, Any], Depends(reader)]


def _filename(record: dict[str, Any], ext: str) -> str:
    return f"summary-{record['date']}.{ext}"


@router.get("/api/sessions/{code}/summary")
async def summary_json(record: Summary) -> JSONResponse:
    """The summary as JSON: agreed items only; a participant's copy adds their own actions."""
    return JSONResponse(record, headers=NO_STORE)


@router.get("/api/sessions/{code}/summary.md")
async def summary_markdown(record: Summary) -> Response:
    """The summary as a Markdown file."""
    return Response(to_markdown(record), media_type="text/markdown; charset=utf-8",
                    headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{_filename(record, "md")}"'})


@router.get("/api/sessions/{code}/summary.html")
async def summary_html(record: Summary, part: str | None = None) -> HTMLResponse:
    """The print-ready page (the browser's print to PDF), or with ``part=content`` its content block."""
    if part == "content":
        html = render_block("summary.html", "content", s=record, shell=False)
    else:
        html = render_page("summary.html", s=record, shell=False, code=None)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/summary/{code}", include_in_schema=False)
async def summary_page(code: str) -> HTMLResponse:
    """The page a browser opens (``#key=<token>``); its script fills it in."""
    normal = normalise_code(code) or ""
    html = render_page("summary.html", s=None, shell=True, code=normal)
    return HTMLResponse(html, headers=NO_STORE)
