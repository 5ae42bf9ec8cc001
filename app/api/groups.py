"""HTTP routes for recurring groups (issue 7): create a group, read it, start its sessions.

Thin like app/api.py: parse, authorise with the group key (a bearer capability, stored
only as a hash), call ``GroupService``. ``create_session`` is also the body of
``POST /api/sessions``, so both ways of starting a group's session behave the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.facilitation.commands import PhasePick
from app.facilitation.errors import Invalid, Unauthorized
from app.facilitation.formats import resolve_format
from app.facilitation.models import MAX_PHASE_S, MAX_TITLE
from app.realtime.group_service import GroupService
from app.realtime.service import Created

if TYPE_CHECKING:
    from app.api.sessions import CreateSession
    from app.realtime.runtime import Runtime

router = APIRouter(prefix="/api", tags=["groups"])

GroupName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
PhaseSeconds = Annotated[int, Field(ge=1, le=MAX_PHASE_S)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CreateGroup(Strict):
    name: GroupName


class GroupCreated(BaseModel):
    group_id: str
    group_key: str
    name: str


class GroupOut(BaseModel):
    id: str
    name: str
    created_at: float
    members: int


class GroupSession(Strict):
    title: Title
    format: Annotated[str, StringConstraints(max_length=64)] | None = None
    durations: Annotated[dict[Annotated[str, StringConstraints(max_length=64)], PhaseSeconds],
                         Field(max_length=50)] | None = None
    format_toml: Annotated[str, StringConstraints(max_length=32_000)] | None = None
    phases: Annotated[list[PhasePick], Field(min_length=1, max_length=50)] | None = None


def groups(request: Request) -> GroupService:
    return request.app.state.runtime.groups


Groups = Annotated[GroupService, Depends(groups)]


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def group_key(authorization: Annotated[str | None, Header()] = None) -> str:
    key = _bearer(authorization)
    if not key:
        raise Unauthorized("send the group key as 'Authorization: Bearer <group_key>'")
    return key


GroupKey = Annotated[str, Depends(group_key)]


async def create_session(rt: "Runtime", body: "CreateSession | GroupSession", authorization: str | None,
                         group_id: str | None = None) -> Created:
    """A session with its format resolved (built-in or custom, re-timed, reordered, skipped),
    in a group when one is named (its key in ``group_key`` or as the bearer token)."""
    picks = [(p.id, p.duration_s) for p in body.phases] if body.phases is not None else None
    spec = resolve_format(body.format, body.durations, body.format_toml, picks)
    group_id = group_id or getattr(body, "group", None)
    if group_id is None:
        if getattr(body, "group_key", None) is not None:
            raise Invalid("group_key: name the group too (group)")
        return await rt.service.create_session(body.title, body.format, body.durations, spec=spec)
    assert rt.groups is not None
    key = getattr(body, "group_key", None) or _bearer(authorization)
    return await rt.groups.start_session(group_id, key, body.title, spec)


@router.post("/groups", status_code=201, response_model=GroupCreated)
async def create_group(body: CreateGroup, service: Groups) -> dict[str, Any]:
    """Keep a recurring group. The ``group_key`` is shown once: keep it to start the group's sessions."""
    created = await service.create_group(body.name)
    return {"group_id": created.group_id, "group_key": created.group_key, "name": body.name}


@router.get("/groups/{group_id}", response_model=GroupOut)
async def read_group(group_id: str, key: GroupKey, service: Groups) -> dict[str, Any]:
    group = await service.authenticate(group_id, key)
    return {"id": group.id, "name": group.name, "created_at": group.created_at,
            "members": await service.store.count_members(group.id)}


@router.post("/groups/{group_id}/sessions", status_code=201, response_model_exclude_none=True)
async def start_group_session(group_id: str, body: GroupSession, request: Request,
                              authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Start the group's next session (bearer: the group key). Answers like ``POST /api/sessions``."""
    from app.api.sessions import links  # api imports this module: import at call time

    rt = request.app.state.runtime
    if not _bearer(authorization):
        raise Unauthorized("send the group key as 'Authorization: Bearer <group_key>'")
    created = await create_session(rt, body, authorization, group_id=group_id)
    return {"code": created.code, "facilitator_token": created.facilitator_token,
            "screen_token": created.screen_token, "group": group_id,
            **links(request, rt, created.code, created.facilitator_token, created.screen_token)}
