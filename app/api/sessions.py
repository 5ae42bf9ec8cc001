"""The public HTTP API of ../shared/CONTRACT.md: thin routes over the session service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api import groups as group_routes
from app.facilitation.commands import PhasePick, parse_command
from app.facilitation.errors import Unauthorized
from app.facilitation.formats import builtin_formats
from app.facilitation.models import (
    MAX_NAME,
    MAX_PHASE_S,
    MAX_TITLE,
    Actor,
    SessionState,
)
from app.facilitation.reflection import Reflection, evidence, to_markdown
from app.facilitation.views import view_for
from app.realtime.runtime import Runtime

router = APIRouter(prefix="/api")

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_NAME)]
PhaseSeconds = Annotated[int, Field(ge=1, le=MAX_PHASE_S)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PhaseOut(BaseModel):
    id: str
    title: str
    kind: str
    duration_s: int


class FormatOut(BaseModel):
    id: str
    title: str
    summary: str
    phases: list[PhaseOut]


class CreateSession(Strict):
    title: Title
    format: Annotated[str, StringConstraints(max_length=64)] | None = None
    durations: Annotated[dict[Annotated[str, StringConstraints(max_length=64)], PhaseSeconds],
                         Field(max_length=50)] | None = None
    # Issue 7 (see docs/formats.md and docs/groups.md): a custom format file, the phases in
    # the order to run them (left out = skipped), and the recurring group with its key.
    format_toml: Annotated[str, StringConstraints(max_length=32_000)] | None = None
    phases: Annotated[list[PhasePick], Field(min_length=1, max_length=50)] | None = None
    group: Annotated[str, StringConstraints(max_length=64)] | None = None
    group_key: Annotated[str, StringConstraints(max_length=128)] | None = None


class SessionCreated(BaseModel):
    code: str
    facilitator_token: str
    screen_token: str
    join_url: str
    console_url: str
    screen_url: str
    group: str | None = None


class JoinSession(Strict):
    name: Name
    member_code: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class Joined(BaseModel):
    participant_id: str
    token: str
    member_code: str | None = None  # a group member's personal code: shown once, on first join


class Ack(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: int


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def bearer(authorization: Annotated[str | None, Header()] = None) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send your token as 'Authorization: Bearer <token>'")
    return authorization[7:].strip()


Token = Annotated[str, Depends(bearer)]


async def viewer(code: str, token: Token, rt: RuntimeDep) -> tuple[SessionState, Actor]:
    return await rt.service.authenticate(code, token)


Viewer = Annotated[tuple[SessionState, Actor], Depends(viewer)]


def links(request: Request, rt: Runtime, code: str, facilitator: str, screen: str) -> dict[str, str]:
    base = (rt.settings.public_url or "").rstrip("/")
    return {"join_url": f"{base}/join/{code}",
            "console_url": f"{base}/console/{code}#key={facilitator}",
            "screen_url": f"{base}/screen/{code}#key={screen}"}


@router.get("/formats", response_model=list[FormatOut])
async def formats() -> list[dict[str, Any]]:
    return [f.model_dump() for f in builtin_formats().values()]


@router.post("/sessions", status_code=201, response_model=SessionCreated, response_model_exclude_none=True)
async def create_session(body: CreateSession, request: Request, rt: RuntimeDep,
                         authorization: Annotated[str | None, Header()] = None) -> dict[str, str]:
    created = await group_routes.create_session(rt, body, authorization)
    return {"code": created.code, "facilitator_token": created.facilitator_token,
            "screen_token": created.screen_token, "group": body.group,
            **links(request, rt, created.code, created.facilitator_token, created.screen_token)}


@router.post("/sessions/{code}/participants", status_code=201, response_model=Joined, response_model_exclude_none=True)
async def join_session(code: str, body: JoinSession, rt: RuntimeDep) -> dict[str, str | None]:
    state = await rt.service.load(code)
    result = await rt.groups.join(state, body.name, body.member_code)
    return {"participant_id": result.joined.participant_id, "token": result.joined.token,
            "member_code": result.member_code}


@router.get("/sessions/{code}")
async def get_view(who: Viewer, rt: RuntimeDep) -> dict[str, Any]:
    state, actor = who
    return view_for(state, actor, rt.service.clock())


@router.delete("/sessions/{code}", status_code=204, responses={403: {"description": "not the facilitator"}})
async def erase_session(code: str, token: Token, rt: RuntimeDep) -> Response:
    """End and erase now (facilitator only): every socket of the session closes (4404) and the
    store keeps nothing of it; afterwards every endpoint answers 404 for the code."""
    state = await rt.service.erase(code, token)
    rt.hub.kick_session(state.code, 4404, "the session was erased")
    return Response(status_code=204)


@router.put("/sessions/{code}/reflection", status_code=204)
async def save_reflection(code: str, token: Token, rt: RuntimeDep, body: Reflection) -> Response:
    """Keep my private reflection (Gibbs' six prompts). Sealed with my token: nobody else can read it."""
    await rt.service.save_reflection(code, token, body)
    return Response(status_code=204)


@router.get("/sessions/{code}/reflection")
async def read_reflection(code: str, token: Token, rt: RuntimeDep, download: str | None = None) -> Response:
    """My reflection, with my own actions: JSON, or ``?download=md`` for a Markdown file."""
    state, pid, reflection = await rt.service.read_reflection(code, token)
    record = evidence(state, pid, reflection)
    if download == "md":
        name = f"reflection-{record['date']}.md"
        return Response(to_markdown(record), media_type="text/markdown; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
    return JSONResponse(record, headers={"Cache-Control": "no-store"})


@router.post("/sessions/{code}/commands", response_model=Ack)
async def send_command(
    code: str, token: Token, rt: RuntimeDep,
    command: Annotated[dict[str, Any], Body(examples=[{"type": "raise_hand"}])],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> dict[str, Any]:
    """Apply one command. With an ``Idempotency-Key`` header, a retry is applied once."""
    await rt.service.authenticate(code, token)
    return await rt.service.execute(code, token, parse_command(command), idempotency_key)
