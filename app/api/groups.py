"""HTTP routes for recurring groups: create a group, read it, start its sessions.

The group key is a bearer capability, stored only as a hash; ``GroupCaller`` checks it.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Response

from app.facilitation import record

from app.api.schemas import (
    CreateGroup,
    GroupCreated,
    GroupOut,
    GroupOptions,
    GroupStatements,
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
            "members": await groups.store.count_members(group.id), "statements": group.statements,
            "least_heard_first": group.least_heard_first, "rota": [e["name"] for e in group.rota],
            "next_facilitator": group.rota[group.rota_next % len(group.rota)]["name"] if group.rota else None}


@router.put("/groups/{group_id}/options")
async def set_options(group: GroupCaller, body: GroupOptions, groups: Groups) -> dict[str, Any]:
    """The group's options for its next sessions (bearer: the group key)."""
    return {"least_heard_first": await groups.set_least_heard_first(group, body.least_heard_first)}


@router.put("/groups/{group_id}/evaluation")
async def set_evaluation(group: GroupCaller, body: GroupStatements, groups: Groups) -> dict[str, Any]:
    """The statements the group's next sessions ask at the check-out (bearer: the group key)."""
    return {"statements": await groups.set_statements(group, body.statements)}


NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/groups/{group_id}/record")
async def read_record(group: GroupCaller, groups: Groups) -> dict[str, Any]:
    """The group's meetings as counts, oldest first, every cell below k suppressed (null)."""
    return {"meetings": record.shown(await groups.record(group))}


@router.get("/groups/{group_id}/record.csv")
async def record_csv(group: GroupCaller, groups: Groups) -> Response:
    """The record for a commissioner: one row per meeting and statement; a cell below k reads ``<k``."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(record.table(await groups.record(group)))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={**NO_STORE, "Content-Disposition": 'attachment; filename="group-record.csv"'})


@router.delete("/groups/{group_id}/record", status_code=204)
async def erase_record(group: GroupCaller, groups: Groups) -> Response:
    """Erase the group's record of meetings, for good."""
    await groups.erase_record(group)
    return Response(status_code=204, headers=NO_STORE)


@router.post("/groups/{group_id}/sessions", status_code=201, response_model=SessionCreated,
             response_model_exclude_none=True)
async def start_group_session(group: GroupCaller, body: SessionSetup, rt: RuntimeDep) -> dict[str, Any]:
    """Start the group's next session (bearer: the group key). Answers like ``POST /api/sessions``."""
    return created_reply(rt, await create(rt, body, group), group.id)
