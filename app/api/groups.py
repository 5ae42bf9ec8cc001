"""HTTP routes for recurring groups: create a group, read it, start its sessions.

The group key is a bearer capability, stored only as a hash; ``GroupCaller`` checks it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.facilitation import record, spreadsheet

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
from app.facilitation import cpd
from app.http.dependencies import (
    GroupCaller,
    GroupReader,
    Groups,
    MemberCaller,
    OptionalBearer,
    RuntimeDep,
    reader_plurals,
    reader_words,
)

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
            "least_heard_first": group.least_heard_first, "report_link": group.report_hash is not None,
            "rota": [e["name"] for e in group.rota],
            "next_facilitator": group.rota[group.rota_next % len(group.rota)]["name"] if group.rota else None,
            "next_at": await groups.next_at(group.id)}


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
async def read_record(group: GroupReader, key: OptionalBearer, groups: Groups) -> dict[str, Any]:
    """The group's meetings as counts, oldest first, every cell below k suppressed (null).
    The group key or the report link's key."""
    return {"meetings": record.shown(await groups.record(group, key))}


@router.get("/groups/{group_id}/record.csv")
async def record_csv(group: GroupReader, key: OptionalBearer, groups: Groups) -> Response:
    """The record for a commissioner: one row per meeting and statement; a cell below k reads ``<k``."""
    text = spreadsheet.document(record.table(await groups.record(group, key)))
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={**NO_STORE, "Content-Disposition": 'attachment; filename="group-record.csv"'})


@router.post("/groups/{group_id}/report-link", status_code=201)
async def create_report_link(group: GroupCaller, group_key: OptionalBearer, groups: Groups) -> Response:
    """A read-only link to the record (charts and CSV, nothing else), replacing any earlier one.
    The ``report_key`` is shown once; the link is ``/group/{id}#report=<report_key>``."""
    assert group_key is not None  # GroupCaller checked it
    key = await groups.create_report_link(group, group_key)
    return JSONResponse({"report_key": key, "path": f"/group/{group.id}#report={key}"}, status_code=201,
                        headers=NO_STORE)


@router.delete("/groups/{group_id}/report-link", status_code=204)
async def revoke_report_link(group: GroupCaller, groups: Groups) -> Response:
    """Revoke the report link: its key opens nothing from now on."""
    await groups.revoke_report_link(group)
    return Response(status_code=204, headers=NO_STORE)


@router.delete("/groups/{group_id}/record", status_code=204)
async def erase_record(group: GroupCaller, groups: Groups) -> Response:
    """Erase the group's record of meetings, for good."""
    await groups.erase_record(group)
    return Response(status_code=204, headers=NO_STORE)


@router.get("/groups/{group_id}/cpd", tags=["cpd"])
async def cpd_json(who: MemberCaller, groups: Groups) -> JSONResponse:
    """My own CPD record (bearer: my member code): each meeting I took part in, my role, my
    own actions and how they went, my reflections, under the NMC's and Social Work England's
    headings. It names no one else, and nothing anonymous is in it."""
    return JSONResponse(await groups.cpd_record(*who), headers=NO_STORE)


@router.get("/groups/{group_id}/cpd.md", tags=["cpd"])
async def cpd_markdown(request: Request, who: MemberCaller, groups: Groups) -> Response:
    """My CPD record as a Markdown file (bearer: my member code), in the reader's language."""
    _, ngettext = reader_words(request), reader_plurals(request)
    text = cpd.to_markdown(await groups.cpd_record(*who, _, ngettext), _, ngettext)
    return Response(text, media_type="text/markdown; charset=utf-8",
                    headers={**NO_STORE, "Content-Disposition": 'attachment; filename="my-cpd-record.md"'})


@router.delete("/groups/{group_id}/cpd", status_code=204, tags=["cpd"])
async def erase_cpd(who: MemberCaller, groups: Groups) -> Response:
    """Erase my CPD entries in this group, for good (bearer: my member code)."""
    await groups.erase_cpd(who[0])
    return Response(status_code=204, headers=NO_STORE)


@router.post("/groups/{group_id}/sessions", status_code=201, response_model=SessionCreated,
             response_model_exclude_none=True)
async def start_group_session(group: GroupCaller, body: SessionSetup, rt: RuntimeDep) -> dict[str, Any]:
    """Start the group's next session (bearer: the group key). Answers like ``POST /api/sessions``."""
    return created_reply(rt, await create(rt, body, group), group.id)
