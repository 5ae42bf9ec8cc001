"""The public HTTP API (the v1 contract; OpenAPI at /docs): thin routes over the session service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import (
    Ack,
    CreateSession,
    FormatOut,
    Joined,
    JoinSession,
    Knock,
    Knocked,
    KnockStatus,
    SessionCreated,
    SessionSetup,
)
from app.facilitation.commands import parse_command
from app.facilitation.errors import Conflict, Invalid, PossibleIdentifier, Unauthorized
from app.facilitation.formats import builtin_formats, resolve_format
from app.facilitation.reflection import Reflection, evidence, to_markdown
from app.facilitation.views import view_for
from app.http.dependencies import OptionalBearer, RuntimeDep, SessionCaller, reader_words
from app.realtime import close_codes
from app.realtime.interfaces import GroupRecord
from app.realtime.runtime import Runtime
from app.realtime.service import Created

router = APIRouter(prefix="/api")


async def create(rt: Runtime, setup: SessionSetup, group: GroupRecord | None) -> Created:
    """A session with its format resolved (built-in or custom, re-timed, reordered, skipped)."""
    picks = [(p.id, p.duration_s) for p in setup.phases] if setup.phases is not None else None
    spec = resolve_format(setup.format, setup.durations, setup.format_toml, picks)
    if group is not None:
        return await rt.groups.start_session(group, setup.title, spec)
    return await rt.service.create_session(setup.title, setup.format, setup.durations, spec=spec)


def created_reply(rt: Runtime, created: Created, group_id: str | None) -> dict[str, Any]:
    """``SessionCreated``: the tokens once, and the three pages' links (each carries its capability
    in the URL fragment, which browsers do not send to the server)."""
    base = (rt.settings.public_url or "").rstrip("/")
    return {"code": created.code, "facilitator_token": created.facilitator_token,
            "screen_token": created.screen_token, "group": group_id,
            "join_url": f"{base}/join/{created.code}",
            "console_url": f"{base}/console/{created.code}#key={created.facilitator_token}",
            "screen_url": f"{base}/screen/{created.code}#key={created.screen_token}"}


@router.get("/formats", response_model=list[FormatOut])
async def formats() -> list[dict[str, Any]]:
    return [f.model_dump() for f in builtin_formats().values()]


@router.post("/sessions", status_code=201, response_model=SessionCreated, response_model_exclude_none=True)
async def create_session(body: CreateSession, rt: RuntimeDep, bearer: OptionalBearer) -> dict[str, Any]:
    """Create a session; in a recurring group when ``group`` is named, with its key in ``group_key``
    or as the bearer token."""
    group = None
    if body.group is not None:
        group = await rt.groups.authenticate(body.group, body.group_key or bearer)
    elif body.group_key is not None:
        raise Invalid("group_key: name the group too (group)")
    return created_reply(rt, await create(rt, body, group), body.group)


@router.post("/sessions/{code}/participants", status_code=201, response_model=Joined, response_model_exclude_none=True)
async def join_session(code: str, body: JoinSession, rt: RuntimeDep) -> dict[str, str | None]:
    state = await rt.service.load(code)
    result = await rt.groups.join(state, body.name, body.member_code)
    return {"participant_id": result.joined.participant_id, "token": result.joined.token,
            "member_code": result.member_code}


@router.post("/sessions/{code}/knocks", status_code=202, response_model=Knocked, response_model_exclude_none=True)
async def knock(code: str, body: Knock, rt: RuntimeDep) -> dict[str, str | None]:
    """Ask to be let into a locked session. The facilitators see the name (``me.waiting``) and
    admit or decline it; the token answers ``GET …/knock`` meanwhile, and is the participant's
    token once admitted. In a recurring group's session the ``member_code`` is read as at a
    join: the member is let in as the member they are (or, without one, as a new member, whose
    code is in the answer and opens the group once they are let in, never if they are turned
    away). 409 when the room is open (join instead), full or closed."""
    state = await rt.service.load(code)
    knocked = await rt.groups.knock(state, body.name, body.member_code)
    return {"knock_id": knocked.joined.participant_id, "token": knocked.joined.token,
            "member_code": knocked.member_code}


@router.get("/sessions/{code}/knock", response_model=KnockStatus, response_model_exclude_none=True)
async def knock_status(code: str, rt: RuntimeDep, bearer: OptionalBearer) -> dict[str, str | None]:
    """The knocker's phone asks, with its token as the bearer: waiting, admitted or declined. A
    removed participant's phone asks the same (``removed`` until it is let back in), so that
    waiting at the door is never an error."""
    if not bearer:
        raise Unauthorized("send the knock's token as the bearer token")
    status, participant_id = await rt.service.knock_status(code, bearer)
    return {"status": status, "participant_id": participant_id}


@router.get("/sessions/{code}")
async def get_view(who: SessionCaller, rt: RuntimeDep) -> dict[str, Any]:
    state, caller = who
    return view_for(state, caller.actor, rt.service.clock())


@router.delete("/sessions/{code}", status_code=204, responses={403: {"description": "not the session's own facilitator"}})
async def erase_session(who: SessionCaller, rt: RuntimeDep) -> Response:
    """End and erase now (the host only: the facilitator token, whoever leads): every socket of
    the session closes (4404) and the store keeps nothing of it; afterwards every endpoint
    answers 404 for the code."""
    state = await rt.service.erase(who[1])
    rt.hub.kick_session(state.code, *close_codes.ERASED)
    return Response(status_code=204)


@router.put("/sessions/{code}/reflection", status_code=204,
            responses={200: {"description": "with ``?ask=1``: not saved, the guard's question (``possible_identifier``)"}})
async def save_reflection(who: SessionCaller, rt: RuntimeDep, body: Reflection, ask: bool = False) -> Response:
    """Keep my private reflection (Gibbs' six prompts). Sealed with my token: nobody else can read it.

    Text that looks like it identifies someone is refused (422 ``possible_identifier``) unless
    ``confirmed``; with ``?ask=1`` that question is an answer, not an error: 200
    ``{"saved": false, "possible_identifier": message}`` (the phone asks it without a refused request)."""
    try:
        await rt.service.save_reflection(who[1], body)
    except PossibleIdentifier as exc:
        if not ask:
            raise
        return JSONResponse({"saved": False, "possible_identifier": exc.message}, headers={"Cache-Control": "no-store"})
    return Response(status_code=204)


@router.get("/sessions/{code}/reflection")
async def read_reflection(request: Request, who: SessionCaller, rt: RuntimeDep, download: str | None = None) -> Response:
    """My reflection, with my own actions: JSON, or ``?download=md`` for a Markdown file (in the
    reader's language: ``?lang=``, else Accept-Language)."""
    record = evidence(*rt.service.read_reflection(*who))
    if download == "md":
        name = f"reflection-{record['date']}.md"
        return Response(to_markdown(record, reader_words(request)), media_type="text/markdown; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
    return JSONResponse(record, headers={"Cache-Control": "no-store"})


@router.post("/sessions/{code}/commands", response_model=Ack)
async def send_command(
    who: SessionCaller, rt: RuntimeDep,
    command: Annotated[dict[str, Any], Body(examples=[{"type": "raise_hand"}])],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> dict[str, Any]:
    """Apply one command. With an ``Idempotency-Key`` header, a retry is applied once."""
    return await rt.service.execute(who[1], parse_command(command), idempotency_key)


class InviteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60, description='the name the console shows them by, e.g. "Sam"')


@router.post("/sessions/{code}/cofacilitators", status_code=201,
             responses={403: {"description": "not the lead facilitator"}})
async def invite_cofacilitator(who: SessionCaller, rt: RuntimeDep, body: InviteBody,
                               idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
                               ) -> dict[str, Any]:
    """Invite a co-facilitator (the lead only): their own token, once, and their console link.
    They see the same console and may run the session; the lead may revoke them."""
    ack = await rt.service.execute(who[1], parse_command({"type": "invite_cofacilitator", "name": body.name}),
                                   idempotency_key)
    if "cofacilitator_id" not in ack or "token" not in ack:  # the key answered another command before
        raise Conflict("that Idempotency-Key was already used for another command")
    base = (rt.settings.public_url or "").rstrip("/")
    return {"cofacilitator_id": ack["cofacilitator_id"], "name": ack["name"], "token": ack["token"],
            "console_url": f"{base}/console/{who[0].code}#key={ack['token']}"}


@router.delete("/sessions/{code}/cofacilitators/{cofacilitator_id}", status_code=204,
               responses={403: {"description": "not the lead facilitator"}, 404: {"description": "no such co-facilitator"}})
async def revoke_cofacilitator(cofacilitator_id: str, who: SessionCaller, rt: RuntimeDep) -> Response:
    """Revoke a co-facilitator (the lead only): their token, and that of every seat they
    granted, stops working at once (401) and their open sockets close (4401); the session goes on."""
    await rt.service.execute(who[1], parse_command({"type": "revoke_cofacilitator",
                                                    "cofacilitator_id": cofacilitator_id}))
    return Response(status_code=204)
