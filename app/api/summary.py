"""The session summary downloads: JSON and Markdown (the print page is in ``app.pages.prints``).

The facilitator's token yields the group's summary; a participant's token yields their own
copy, which adds their own actions and nothing of anybody else's; the screen's, nothing.
What the summary holds is decided in ``facilitation.summary``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.facilitation.summary import summary_for, to_markdown
from app.http.dependencies import RuntimeDep, SessionCaller, reader_words

router = APIRouter(prefix="/api", tags=["summary"])

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/sessions/{code}/summary")
async def summary_json(who: SessionCaller, rt: RuntimeDep) -> JSONResponse:
    """The summary as JSON: agreed items only; a participant's copy adds their own actions."""
    state, caller = who
    return JSONResponse(summary_for(state, caller.actor, rt.service.clock()), headers=NO_STORE)


@router.get("/sessions/{code}/summary.md")
async def summary_markdown(request: Request, who: SessionCaller, rt: RuntimeDep) -> Response:
    """The summary as a Markdown file, in the reader's language (``?lang=``, else Accept-Language)."""
    state, caller = who
    record = summary_for(state, caller.actor, rt.service.clock())
    disposition = f'attachment; filename="summary-{record["date"]}.md"'
    return Response(to_markdown(record, reader_words(request)), media_type="text/markdown; charset=utf-8",
                    headers={**NO_STORE, "Content-Disposition": disposition})
