"""HTTP routes for recurring groups: create a group, read it, start its sessions.

The group key is a bearer capability, stored only as a hash; ``GroupCaller`` checks it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.schemas import (
    CreateGroup,
    GroupCreated,
    GroupOut,
    SessionCreated,
    SessionSetup,
)
from app.api.sessions import create, created_reply
from app.http.dependencies import GroupCaller, Groups, RuntimeDep

router = APIRouter(prefix="/api", tags=["groups"])


@router.post("/groups", status_code=201, response_model=GroupCreated)
async def create_group(body: CreateGroup, groups: Groups) -> dict[str, Any]:
    """Keep a recurring group. The ``group_key`` is shown once: keep it to start the group's sessions."""
    created = await groups.create_group(body.name)
    return {"group_id": created.group_id, "group_key": created.group_key, "name": body.name}


@router.get("/groups/{group_id}", response_model=GroupOut)
async def read_group(group: GroupCaller, groups: Groups) -> dict[str, Any]:
    return {"id": group.id, "name": group.name, "created_at": group.created_at,
            "members": await groups.store.count_members(group.id)}


@router.post("/groups/{group_id}/sessions", status_code=201, response_model=SessionCreated,
             response_model_exclude_none=True)
async def start_group_session(group: GroupCaller, body: SessionSetup, rt: RuntimeDep) -> dict[str, Any]:
    """Start the group's next session (bearer: the group key). Answers like ``POST /api/sessions``."""
    return created_reply(rt, await create(rt, body, group), group.id)
