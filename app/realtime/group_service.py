"""Recurring groups in the shell: create a group, start its sessions, recognise members,
and keep what members carried forward when a session closes.

Like ``SessionService`` it owns the randomness (group ids, keys, member codes) and keeps
only hashes of the capabilities it hands out. The rules of what is carried live in the
core (``facilitation.carry``); this module only moves that data in and out of the store.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from app.facilitation import cpd
from app.facilitation.carry import carried_forward, quieter_half
from app.facilitation.formats import check_statements, with_statements
from app.facilitation.record import meeting_of
from app.facilitation.errors import Invalid, NotFound, Unauthorized
from app.facilitation.cofacilitation import next_on_rota
from app.facilitation.models import CarriedAction, FormatSpec, RotaEntry, SessionState, Status
from app.facilitation.reflection import Reflection
from app.realtime.interfaces import GroupRecord, GroupStore, MemberRecord
from app.realtime.member_codes import Derivations, MemberKeys, derive, new_code
from app.realtime.sealing import CpdOpener, cpd_context, cpd_public_key, seal_to
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
        self.derived = Derivations(clock)  # member codes' slow derivation, once per code for a short time

    async def _keys(self, group_id: str, member_code: str) -> MemberKeys:
        """The code's keys: kept from a moment ago, or derived now in a thread (scrypt is slow)."""
        return self.derived.kept(group_id, member_code) or await asyncio.to_thread(derive, group_id, member_code)

    async def _find(self, group_id: str, member_code: str) -> MemberRecord | None:
        """The member this code belongs to, or None; a recognised code's keys are kept a moment."""
        keys = await self._keys(group_id, member_code)
        found = await self.store.find_member(group_id, keys.lookup)
        if found is not None:
            self.derived.remember(group_id, member_code, keys)
        return found

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

    async def authenticate_reader(self, group_id: str, key: str | None) -> GroupRecord:
        """The group, for reading its record: with the group key, or the report link's key
        while that link exists (revoking it refuses it at the next request)."""
        if len(group_id) > 64:
            raise NotFound("no group with that id")
        group = await self.store.load_group(group_id)
        if group is None:
            raise NotFound("no group with that id")
        if key:
            given = token_hash(key)
            if hmac.compare_digest(given, group.key_hash):
                return group
            if group.report_hash is not None and hmac.compare_digest(given, group.report_hash):
                return group
        raise Unauthorized("that key does not open this group's record")

    async def create_report_link(self, group: GroupRecord) -> str:
        """A new read-only key to the record (charts and CSV); it replaces any earlier one."""
        key = new_token()
        await self.store.set_report_hash(group.id, token_hash(key))
        log.info("group %s made a report link", group.id)
        return key

    async def revoke_report_link(self, group: GroupRecord) -> None:
        await self.store.set_report_hash(group.id, None)
        log.info("group %s revoked its report link", group.id)

    async def start_session(self, group: GroupRecord, title: str, spec: FormatSpec, language: str = "") -> Created:
        """The group's next session; ``group`` comes from ``authenticate``. The group's own
        evaluation statements, if it has set them, replace the format's."""
        spec = with_statements(spec, group.statements)
        rota = tuple(RotaEntry(member_id=e["member_id"], name=e["name"]) for e in group.rota)
        return await self.sessions.create_session(title, None, None, spec=spec, group_id=group.id,
                                                  least_heard_first=group.least_heard_first, rota=rota,
                                                  rota_now=group.rota_next % len(rota) if rota else -1,
                                                  language=language)

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
            member = await self._find(state.group_id, member_code)
            if member is None:
                raise Unauthorized("that member code does not belong to this session's group")
            carried = tuple(CarriedAction(id=a["id"], text=a["text"], due=a.get("due")) for a in member.carried)
            cpd_key = member.cpd_key
            if cpd_key is None:  # a member from before CPD records: their code, presented now, yields it
                cpd_key = cpd_public_key((await self._keys(state.group_id, member_code)).cpd_seed)
                await self.store.set_cpd_key(state.group_id, member.id, cpd_key)
            return MemberJoined(await self.sessions.join(state.code, name, member_id=member.id, carried=carried,
                                                         heard_least=member.heard_least, cpd_key=cpd_key), None)
        member_id, code = secrets.token_hex(8), new_code()  # 80 bits, typed in four groups of four
        keys = await self._keys(state.group_id, code)
        cpd_key = cpd_public_key(keys.cpd_seed)
        joined = await self.sessions.join(state.code, name, member_id=member_id, cpd_key=cpd_key)
        await self.store.add_member(state.group_id, member_id, keys.lookup)
        self.derived.remember(state.group_id, code, keys)
        await self.store.set_cpd_key(state.group_id, member_id, cpd_key)
        return MemberJoined(joined, code)

    async def session_changed(self, state: SessionState) -> None:
        """At close (and after any later change to a closed session), keep what was carried."""
        if state.group_id is None or state.status is not Status.closed or state.closed_at is None:
            return
        await self.store.carry(state.group_id, carried_forward(state), state.closed_at)
        await self.store.note_heard(state.group_id, quieter_half(state), state.closed_at)
        await self.store.add_meeting(state.group_id, meeting_of(state))  # counts only: no row per person
        await self.store.add_cpd(state.group_id, self._sealed_entries(state))
        up = next_on_rota(state)  # the rota moves on: the one after this session's facilitator is next
        await self.store.save_rota(state.group_id, [e.model_dump() for e in state.rota], up[0] if up else 0,
                                   state.closed_at)

    def _sealed_entries(self, state: SessionState) -> dict[str, dict]:
        """Each member's CPD entry of this session, sealed to their own key (and their
        reflection as sealed to it when they wrote it); members without a key get none."""
        assert state.group_id is not None
        keys = {p.member_id: p for p in state.participants if p.member_id and p.cpd_key and not p.removed}
        sealed: dict[str, dict] = {}
        for member_id, entry in cpd.entries_at_close(state).items():
            person = keys.get(member_id)
            if person is None or person.cpd_key is None:
                continue
            sealed[member_id] = {
                "id": entry["id"], "at": entry["at"],
                "sealed": seal_to(person.cpd_key, cpd_context(state.group_id, member_id, "entry"), json.dumps(entry)),
                "reflection": person.cpd_reflection,
            }
        return sealed

    async def member(self, group_id: str, member_code: str | None) -> MemberRecord:
        """The member whose code this is (the bearer of their CPD record): 404, 401 otherwise."""
        if len(group_id) > 64:
            raise NotFound("no group with that id")
        if await self.store.load_group(group_id) is None:
            raise NotFound("no group with that id")
        found = await self._find(group_id, member_code) if member_code else None
        if found is None:
            raise Unauthorized("that member code does not belong to this group")
        return found

    async def cpd_record(self, member: MemberRecord, member_code: str, _: Callable[[str], str] | None = None,
                         ngettext: Callable[[str, str, int], str] | None = None) -> dict:
        """The member's own CPD record, opened with their code (nothing else can open it), laid
        out in the reader's words (``_``, ``ngettext``; English when not given)."""
        opener = CpdOpener((await self._keys(member.group_id, member_code)).cpd_seed)
        entries = []
        for stored in await self.store.cpd_entries(member.group_id, member.id):
            plain = opener.open(cpd_context(member.group_id, member.id, "entry"), stored["sealed"])
            if plain is None:
                continue
            entry = json.loads(plain)
            if stored.get("reflection"):
                opened = opener.open(cpd_context(member.group_id, member.id, "reflection"), stored["reflection"])
                if opened:
                    entry["reflection"] = Reflection.model_validate_json(opened).model_dump(exclude={"confirmed"})
            entries.append(entry)
        group = await self.store.load_group(member.group_id)
        laid_out = cpd.record_of(entries) if _ is None or ngettext is None else cpd.record_of(entries, _, ngettext)
        return {**laid_out, "group": group.name if group else ""}  # the record says which group it is of

    async def erase_cpd(self, member: MemberRecord) -> None:
        await self.store.erase_cpd(member.group_id, member.id, self.clock())
        log.info("a member of group %s erased their CPD record", member.group_id)

    async def close(self) -> None:
        await self.store.close()
