"""The print-ready pages: the session summary and the private reflection.

Each is one template (app/web/templates/summary.html, reflection.html on _print_page.html)
served two ways. A browser opens ``/summary/{code}`` or ``/reflection/{code}``: a shell
that carries no key; its script (app/web/static/js/pages/, with js/api.js) takes the key from the URL fragment
or the phone's own storage and fetches the content block from ``…/summary.html`` or
``…/reflection.html?part=content`` with it in the ``Authorization`` header, so no key is
ever in a URL the server could log. With a bearer token, the ``.html`` URL gives the whole
printable document directly (for a script, or a test).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.facilitation import record
from app.facilitation.reflection import evidence
from app.facilitation.summary import STATUS_WORDS, summary_for
from app.http.dependencies import GroupReader, Groups, MemberCaller, OptionalBearer, RuntimeDep, SessionCaller
from app.pages.i18n import plurals_for, request_language, words_for
from app.pages.names import summary_named
from app.pages.templates import render_block, render_page, templates
from app.realtime.service import normalise_code

router = APIRouter()

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
templates.globals["status_words"] = STATUS_WORDS


def _document(request: Request, template: str, part: str | None, **record: Any) -> HTMLResponse:
    """The whole printable page, or with ``part=content`` only the block its shell fills in,
    in the reader's language (the shell's script sends ``?lang=``: its fetch carries no cookie)."""
    lang = request_language(request)
    if part == "content":
        html = render_block(template, "content", lang=lang, shell=False, **record)
    else:
        html = render_page(template, lang, shell=False, code=None, **record)
    return HTMLResponse(html, headers=NO_STORE)


def _shell(request: Request, template: str, code: str, **empty: Any) -> HTMLResponse:
    html = render_page(template, request_language(request), shell=True, code=normalise_code(code) or "", **empty)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/api/sessions/{code}/summary.html", response_class=HTMLResponse, tags=["summary"])
async def summary_html(request: Request, who: SessionCaller, rt: RuntimeDep, part: str | None = None) -> HTMLResponse:
    """The summary's print-ready page (the browser's print to PDF), or with ``part=content`` its content."""
    state, caller = who
    return _document(request, "summary.html", part, s=summary_named(summary_for(state, caller.actor, rt.service.clock())))


@router.get("/api/sessions/{code}/reflection.html", response_class=HTMLResponse, tags=["reflection"])
async def reflection_html(request: Request, who: SessionCaller, rt: RuntimeDep,
                          part: str | None = None) -> HTMLResponse:
    """My reflection as a print-ready page: the date, the format, my own actions and my
    reflection, nothing anyone else wrote. The writer's token only."""
    return _document(request, "reflection.html", part, r=evidence(*rt.service.read_reflection(*who)))


@router.get("/api/groups/{group_id}/record.html", response_class=HTMLResponse, tags=["groups"])
async def record_html(request: Request, group: GroupReader, key: OptionalBearer, groups: Groups,
                      part: str | None = None) -> HTMLResponse:
    """The group's record as a page of small charts (attendance, evenness, each statement's
    mean), every cell below k suppressed; with ``part=content`` only its content. The group key
    or the report link's key."""
    following = group.rota[group.rota_next % len(group.rota)]["name"] if group.rota else None  # the rota (options)
    charts = record.charts(await groups.record(group, key), words_for(request))
    rhythm_ = await groups.next_meeting(group.id)  # the next date, in the group's time zone
    return _document(request, "record.html", part, g={"name": group.name, "next_facilitator": following, **charts,
                                                      **rhythm_})


@router.get("/api/groups/{group_id}/cpd.html", response_class=HTMLResponse, tags=["cpd"])
async def cpd_html(request: Request, who: MemberCaller, groups: Groups, part: str | None = None) -> HTMLResponse:
    """My CPD record as a print-ready page; with ``part=content`` only its content, in the
    reader's language. My member code."""
    return _document(request, "cpd.html", part, c=await groups.cpd_record(*who, words_for(request), plurals_for(request)))


@router.get("/cpd/{group_id}", include_in_schema=False)
async def cpd_page(request: Request, group_id: str) -> HTMLResponse:
    """The CPD record's print page for a browser: its script reads the member code this phone
    keeps for the group (or a #member= fragment), never a URL the server sees."""
    html = render_page("cpd.html", request_language(request), shell=True, code=group_id[:64], c=None)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/group/{group_id}", include_in_schema=False)
async def record_page(request: Request, group_id: str) -> HTMLResponse:
    html = render_page("record.html", request_language(request), shell=True, code=group_id[:64], g=None)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/summary/{code}", include_in_schema=False)
async def summary_page(request: Request, code: str) -> HTMLResponse:
    return _shell(request, "summary.html", code, s=None)


@router.get("/reflection/{code}", include_in_schema=False)
async def reflection_page(request: Request, code: str) -> HTMLResponse:
    return _shell(request, "reflection.html", code, r=None)
