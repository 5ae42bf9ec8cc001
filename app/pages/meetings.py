"""The page between meetings: a member's (their code, kept on their phone) or the organiser's
(the group's key, from the link's fragment). Like the print pages, a browser opens a shell that
carries no credential (``/meetings/{id}``); its script (app/web/static/js/pages/meetings.js) fetches the
content block with the credential in the ``Authorization`` header and sends each form to the
JSON API (app/api/between.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.facilitation import journal
from app.http.dependencies import GroupOrMember, Groups
from app.pages.i18n import request_language, words_for
from app.pages.templates import render_block, render_page

router = APIRouter()

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/api/groups/{group_id}/between.html", response_class=HTMLResponse, tags=["between meetings"])
async def between_html(request: Request, who: GroupOrMember, groups: Groups, part: str | None = None) -> HTMLResponse:
    """The page between meetings, in the reader's language; ``part=content`` for its content
    block only. Bearer: the group key (the organiser's page) or a member code (the member's)."""
    group, member, code = who
    shown = groups.view_between(await groups.between(group.id), group.id, code)
    organiser = member is None or bool(group.rota and group.rota[group.rota_next % len(group.rota)]["member_id"]
                                       == member.id)
    diary = None
    if member is not None and code is not None:
        words = words_for(request)
        diary = {"entries": await groups.read_journal(member, code),
                 "prompts": [{**p, "text": journal.prompt_text(p, words)} for p in await groups.journal_prompts(member)]}
    context = {"b": shown, "member": member is not None, "organiser": organiser, "journal": diary}
    lang = request_language(request)
    if part == "content":
        html = render_block("meetings.html", "content", lang=lang, shell=False, **context)
    else:
        html = render_page("meetings.html", lang, shell=False, code=None, **context)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/meetings/{group_id}", include_in_schema=False)
async def meetings_page(request: Request, group_id: str) -> HTMLResponse:
    html = render_page("meetings.html", request_language(request), shell=True, code=group_id[:64], b=None)
    return HTMLResponse(html, headers=NO_STORE)
