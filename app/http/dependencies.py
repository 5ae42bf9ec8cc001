"""The request's credentials, each read and checked in exactly one dependency.

A session's token (facilitator, screen or participant) and a group's key both arrive as
``Authorization: Bearer <token>``. Every route that needs one names the dependency below
instead of reading the header: the header is parsed once, the credential is checked once
(``SessionService.authenticate``, ``GroupService.authenticate``), and the route gets the
result. The runtime is reached through ``runtime`` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Query
from starlette.requests import HTTPConnection

from app.facilitation.errors import Unauthorized
from app.facilitation.models import SessionState
from app.realtime.group_service import GroupService
from app.realtime.interfaces import GroupRecord, MemberRecord
from app.realtime.runtime import Runtime
from app.realtime.service import Caller


def runtime(connection: HTTPConnection) -> Runtime:
    """The process's shell, built at start-up (``main.create_app``); requests and sockets alike."""
    return connection.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def _same(text: str) -> str:
    return text


def reader_words(connection: HTTPConnection) -> Callable[[str], str]:
    """The reader's gettext for a download (the pages' languages, wired in by app.main as
    ``app.state.words_for``); English where nothing is wired."""
    words_for = getattr(connection.app.state, "words_for", None)
    return words_for(connection) if words_for is not None else _same


def _english(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def reader_plurals(connection: HTTPConnection) -> Callable[[str, str, int], str]:
    """The reader's ngettext for a download's counts (``app.state.plurals_for``); English where
    nothing is wired."""
    plurals_for = getattr(connection.app.state, "plurals_for", None)
    return plurals_for(connection) if plurals_for is not None else _english


def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None when there is none."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


OptionalBearer = Annotated[str | None, Depends(bearer_token)]


async def session_caller(code: str, token: OptionalBearer, rt: RuntimeDep,
                         as_: Annotated[str | None, Query(alias="as", max_length=16)] = None,
                         ) -> tuple[SessionState, Caller]:
    """``?as=console``: a participant's token for the console they were handed (peer-led)."""
    if token is None:
        raise Unauthorized("send your token as 'Authorization: Bearer <token>'")
    return await rt.service.authenticate(code, token, console=as_ == "console")


SessionCaller = Annotated[tuple[SessionState, Caller], Depends(session_caller)]
"""The session ``{code}`` and who holds the bearer token in it: 404 for an unknown code, 401 for a bad token."""


def group_service(rt: RuntimeDep) -> GroupService:
    return rt.groups


Groups = Annotated[GroupService, Depends(group_service)]


async def group_caller(group_id: str, key: OptionalBearer, groups: Groups) -> GroupRecord:
    if key is None:
        raise Unauthorized("send the group key as 'Authorization: Bearer <group_key>'")
    return await groups.authenticate(group_id, key)


GroupCaller = Annotated[GroupRecord, Depends(group_caller)]
"""The group ``{group_id}`` whose key is the bearer token: 404 for an unknown group, 401 for a wrong key."""


async def group_reader(group_id: str, key: OptionalBearer, groups: Groups) -> GroupRecord:
    if key is None:
        raise Unauthorized("send the group key or the report link's key as 'Authorization: Bearer <key>'")
    return await groups.authenticate_reader(group_id, key)


GroupReader = Annotated[GroupRecord, Depends(group_reader)]
"""The group ``{group_id}`` for reading its record only: the group key, or its report link's key."""


async def member_caller(group_id: str, code: OptionalBearer, groups: Groups) -> tuple[MemberRecord, str]:
    if code is None:
        raise Unauthorized("send your member code as 'Authorization: Bearer <member code>'")
    return await groups.member(group_id, code), code


MemberCaller = Annotated[tuple[MemberRecord, str], Depends(member_caller)]
"""The member of ``{group_id}`` whose member code is the bearer token, and that code (it opens their CPD record)."""


async def group_organiser(group_id: str, key: OptionalBearer, groups: Groups) -> GroupRecord:
    if key is None:
        raise Unauthorized("send the group key (or, if the rota names you next, your member code)")
    return await groups.may_organise(group_id, key)


GroupOrganiser = Annotated[GroupRecord, Depends(group_organiser)]
"""The group ``{group_id}``, for whoever organises its next meeting: the key holder, or the
member the rota names to facilitate next (by their member code)."""


async def group_or_member(group_id: str, key: OptionalBearer,
                          groups: Groups) -> tuple[GroupRecord, MemberRecord | None, str | None]:
    if key is None:
        raise Unauthorized("send the group key or your member code as 'Authorization: Bearer <…>'")
    group, member = await groups.reader(group_id, key)
    return group, member, key if member is not None else None


GroupOrMember = Annotated[tuple[GroupRecord, MemberRecord | None, str | None], Depends(group_or_member)]
"""The group ``{group_id}`` read by its key holder (no member) or a member (and their code)."""
