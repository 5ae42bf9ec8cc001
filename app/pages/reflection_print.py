"""The private reflection's print-ready page (issue 8).

The reflection is saved and read through the API (``PUT``/``GET /api/sessions/{code}/reflection``,
sealed with the writer's token). This adds the page a phone opens to print it or save it as a
PDF, following the summary's pattern (``summary_routes``): ``/reflection/{code}`` is a shell that
carries no token, its script (web/static/reflection.js) takes the writer's token from the phone's
own storage and fetches the document from ``/api/sessions/{code}/reflection.html`` with it in the
``Authorization`` header, so the token never appears in a URL the server could log.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.api.sessions import RuntimeDep, Token
from app.facilitation.reflection import evidence
from app.pages.templates import render_block, render_page
from app.realtime.service import normalise_code

router = APIRouter(tags=["reflection"])
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/api/sessions/{code}/reflection.html", response_class=HTMLResponse)
async def reflection_html(code: str, token: Token, rt: RuntimeDep, part: str | None = None) -> HTMLResponse:
    """My reflection as a print-ready page (or with ``part=content`` its content block): the date,
    the format, my own actions and my reflection, nothing anyone else wrote. The writer's token only."""
    state, pid, reflection = await rt.service.read_reflection(code, token)
    record = evidence(state, pid, reflection)
    if part == "content":
        html = render_block("reflection.html", "content", r=record, shell=False)
    else:
        html = render_page("reflection.html", r=record, shell=False, code=None)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/reflection/{code}", include_in_schema=False)
async def reflection_page(code: str) -> HTMLResponse:
    """The page the phone opens; its script fills it in with the phone's own token."""
    html = render_page("reflection.html", r=None, shell=True, code=normalise_code(code) or "")
    return HTMLResponse(html, headers=NO_STORE)
