"""Recurring groups in the shell: create a group, start its sessions, recognise members,
and keep what members carried forward when a session closes.

Like ``SessionService`` it owns the randomness (group ids, keys, member codes) and keeps
only hashes of the capabilities it hands out. The rules of what is carried live in the
core (``facilitation.carry``); this module only moves that data in and out of the store.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from app.facilitation.carry import carried_forward, quieter_half
from app.facilitation.formats import check_statements, with_statements
from app.facilitation.record import meeting_of
from app.facilitation.errors import Invalid, NotFound, Unauthorized
from app.facilitation.models import CarriedAction, FormatSpec, SessionState, Status
from app.realtime.interfaces import GroupRecord, GroupStore
from app.realtime.service import Created, Joined, SessionService, new_token, token_hash

log = logging.getLogger("talkingpiece.groups")


@dataclass(frozen=True)
class GroupCreated:
    group_id: str
    group_key: str


@dataclass(frozen=True)
class MemberJoined:
    joined: Joined
    member_code: str | None  # only on a member's first join: shown once, never stored


class GroupService:
    def __init__(self, store: GroupStore, sessions: SessionService, clock: Callable[[], float]) -> None:
        self.store = store
        self.sessions = sessions
        self.clock = clock

    async def create_group(self, name: str) -> GroupCreated:
        key = new_token()
        group = GroupRecord(id=secrets.token_hex(8), name=name, key_hash=token_hash(key), created_at=self.clock())
        await self.store.create_group(group)
        log.info("group %s created", group.id)
        return GroupCreated(group_id=group.id, group_key=key)

    async def authenticate(self, group_id: str, key: str | None) -> GroupRecord:
        if len(group_id) > 64:
            raise NotFound("no group with that id")
        group = await self.store.load_group(group_id)
        if group is None:
            raise NotFound("no group with that id")
        if not key or not hmac.compare_digest(token_hash(key), group.key_hash):
            raise Unauthorized("that key does not belong to this group")
        return group

    async def start_session(self, group: GroupRecord, title: str, spec: FormatSpec, language: str = "") -> Created:
        """The group's next session; ``group`` comes from ``authenticate``. The group's own
        evaluation statements, if it has set them, replace the format's."""
        spec = with_statements(spec, group.statements)
        return await self.sessions.create_session(title, None, None, spec=spec, group_id=group.id,
                                                  least_heard_first=group.least_heard_first, language=language)

    async def set_least_heard_first(self, group: GroupRecord, on: bool) -> bool:
        await self.store.set_least_heard_first(group.id, on)
        return on

    async def set_statements(self, group: GroupRecord, statements: list[str] | None) -> list[str] | None:
        """The group's own evaluation statements for its next sessions (None: each format's)."""
        if statements is not None:
            statements = check_statements(statements)
        await self.store.set_statements(group.id, statements)
        return statements

    async def record(self, group: GroupRecord) -> list[dict]:
        return await self.store.meetings(group.id)

    async def erase_record(self, group: GroupRecord) -> None:
        await self.store.erase_record(group.id, self.clock())
        log.info("group %s erased its record", group.id)

    async def join(self, state: SessionState, name: str, member_code: str | None) -> MemberJoined:
        """Join a session; in a group session, as a recognised member (or a new one)."""
        if state.group_id is None:
            if member_code is not None:
                raise Invalid("member_code: this session is not part of a recurring group")
            return MemberJoined(await self.sessions.join(state.code, name), None)
        if member_code is not None:
            member = await self.store.find_member(state.group_id, token_hash(member_code))
            if member is None:
                raise Unauthorized("that member code does not belong to this session's group")
            carried = tuple(CarriedAction(id=a["id"], text=a["text"], due=a.get("due")) for a in member.carried)
            return MemberJoined(await self.sessions.join(state.code, name, member_id=member.id, carried=carried,
                                                         heard_least=member.heard_least), None)
        member_id, code = secrets.token_hex(8), secrets.token_urlsafe(18)  # 144 bits
        joined = await self.sessions.join(state.code, name, member_id=member_id)
        await self.store.add_member(state.group_id, member_id, token_hash(code))
        return MemberJoined(joined, code)

    async def session_changed(self, state: SessionState) -> None:
        """At close (and after any later change to a closed session), keep what was carried."""
        if state.group_id is None or state.status is not Status.closed or state.closed_at is None:
            return
        await self.store.carry(state.group_id, carried_forward(state), state.closed_at)
        await self.store.note_heard(state.group_id, quieter_half(state), state.closed_at)
        await self.store.add_meeting(state.group_id, meeting_of(state))  # counts only: no row per person

    async def close(self) -> None:
        await self.store.close()
