"""HTTP routes for a group between its meetings: the agreement, topics and cases, the
schedule and its calendar file, and each member's private journal.

Members act with their member code as the bearer (``MemberCaller``); the key holder, or the
member the rota names next, organises (``GroupOrganiser``). Every answer is ``no-store``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.facilitation import journal, rhythm
from app.api.schemas import (
    AgreementAnswer,
    AgreementDraft,
    JournalChoice,
    JournalWrite,
    MoveIn,
    PresenterConsent,
    ScheduleIn,
    Settle,
    TopicMark,
    TopicOffer,
)
from app.http.dependencies import GroupOrganiser, GroupOrMember, Groups, MemberCaller, reader_words

router = APIRouter(prefix="/api/groups/{group_id}", tags=["between meetings"])

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _reply(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


async def _shown(groups: Any, group_id: str, code: str | None) -> JSONResponse:
    return _reply(groups.view_between(await groups.between(group_id), group_id, code))


@router.get("/between")
async def read_between(who: GroupOrMember, groups: Groups) -> JSONResponse:
    """The agreement (and the template to start one from), the topics and cases offered with how
    many would like each, the settled plan and the schedule with the next date. Bearer: the
    group key, or a member code (then also which are mine, which I marked, whether I agreed)."""
    group, _, code = who
    return await _shown(groups, group.id, code)


@router.put("/agreement")
async def draft_agreement(group: GroupOrganiser, body: AgreementDraft, groups: Groups) -> JSONResponse:
    """Draft or edit the agreement: a changed text is a new version that everyone agrees to again."""
    await groups.draft_agreement(group.id, body.text)
    return await _shown(groups, group.id, None)


@router.post("/agreement/agree")
async def agree(who: MemberCaller, body: AgreementAnswer, groups: Groups) -> JSONResponse:
    """I agree to this version (``agree: false`` takes it back). The group keeps a count, never who."""
    member, code = who
    await groups.agree(member, code, body.version, body.agree)
    return await _shown(groups, member.group_id, code)


@router.post("/topics", status_code=201)
async def propose(who: MemberCaller, body: TopicOffer, groups: Groups) -> JSONResponse:
    """Propose a topic or offer a case (``kind``), named to the group or, without ``name``, anonymously."""
    member, code = who
    topic_id = await groups.propose(member, code, body.kind, body.text, body.name)
    return _reply({"id": topic_id}, 201)


@router.put("/topics/{topic_id}/mark")
async def mark(topic_id: str, who: MemberCaller, body: TopicMark, groups: Groups) -> JSONResponse:
    """I would like this one (``like: false`` takes the mark back): a count, one per member."""
    member, code = who
    await groups.mark(member, code, topic_id[:64], body.like)
    return await _shown(groups, member.group_id, code)


@router.delete("/topics/{topic_id}", status_code=204)
async def withdraw(topic_id: str, who: MemberCaller, groups: Groups) -> Response:
    """Its author withdraws a topic or case."""
    member, code = who
    await groups.withdraw(member, code, topic_id[:64])
    return Response(status_code=204, headers=NO_STORE)


@router.post("/plan")
async def settle(group: GroupOrganiser, body: Settle, groups: Groups) -> JSONResponse:
    """Settle the next meeting's topic or case; a case asks its author to consent to present it."""
    await groups.settle(group.id, body.topic_id)
    return await _shown(groups, group.id, None)


@router.delete("/plan", status_code=204)
async def unsettle(group: GroupOrganiser, groups: Groups) -> Response:
    """Put the settled topic or case back on the list."""
    await groups.settle(group.id, None)
    return Response(status_code=204, headers=NO_STORE)


@router.post("/plan/consent")
async def consent(who: MemberCaller, body: PresenterConsent, groups: Groups) -> JSONResponse:
    """The case's author: I will present it at the next meeting (or not)."""
    member, code = who
    await groups.consent_to_present(member, code, body.agree)
    return await _shown(groups, member.group_id, code)


@router.put("/schedule")
async def set_schedule(group: GroupOrganiser, body: ScheduleIn, groups: Groups) -> JSONResponse:
    """When the group meets (null: no schedule)."""
    await groups.set_schedule(group.id, body.schedule)
    return await _shown(groups, group.id, None)


@router.post("/schedule/moves")
async def move_meeting(group: GroupOrganiser, body: MoveIn, groups: Groups) -> JSONResponse:
    """A one-off change: the meeting on ``date`` moves to ``to`` (local), or is cancelled (null)."""
    await groups.move_meeting(group.id, body.date, body.to)
    return await _shown(groups, group.id, None)


@router.get("/calendar.ics")
async def calendar(request: Request, who: GroupOrMember, groups: Groups) -> Response:
    """The group's meetings as a calendar file (RFC 5545): the rule and its changes, no one's name,
    nothing said. Bearer: the group key or a member code."""
    text = await groups.calendar(who[0].id, rhythm.summary(reader_words(request)))
    return Response(text, media_type="text/calendar; charset=utf-8",
                    headers={**NO_STORE, "Content-Disposition": 'attachment; filename="group-meetings.ics"'})


@router.get("/journal", tags=["journal"])
async def read_journal(request: Request, who: MemberCaller, groups: Groups) -> JSONResponse:
    """My journal, opened with my member code (nothing else opens it), newest last, and its prompts."""
    member, code = who
    words = reader_words(request)
    prompts = [{**p, "text": journal.prompt_text(p, words)} for p in await groups.journal_prompts(member)]
    return _reply({"entries": await groups.read_journal(member, code), "prompts": prompts})


@router.post("/journal", status_code=201, tags=["journal"])
async def write_journal(who: MemberCaller, body: JournalWrite, groups: Groups) -> JSONResponse:
    """Add an entry, sealed to my code; ``bring`` takes it to the next check-in as my own words,
    ``cpd`` adds it to my CPD record."""
    member, code = who
    return _reply({"id": await groups.write_journal(member, code, body.text, body.bring, body.cpd)}, 201)


@router.patch("/journal/{entry_id}", tags=["journal"])
async def choose(entry_id: str, who: MemberCaller, body: JournalChoice, groups: Groups) -> JSONResponse:
    member, _ = who
    await groups.choose_journal(member, entry_id[:64], body.bring, body.cpd)
    return _reply({"id": entry_id[:64]})


@router.delete("/journal/{entry_id}", status_code=204, tags=["journal"])
async def erase_entry(entry_id: str, who: MemberCaller, groups: Groups) -> Response:
    await groups.erase_journal(who[0], entry_id[:64])
    return Response(status_code=204, headers=NO_STORE)


@router.delete("/journal", status_code=204, tags=["journal"])
async def erase_journal(who: MemberCaller, groups: Groups) -> Response:
    """Erase my whole journal in this group, for good."""
    await groups.erase_journal(who[0], None)
    return Response(status_code=204, headers=NO_STORE)
