"""Recurring groups in the shell: create a group, start its sessions, recognise members,
and keep what members carried forward when a session closes.

Like ``SessionService`` it owns the randomness (group ids, keys, member codes) and keeps
only hashes of the capabilities it hands out. The rules of what is carried live in the
core (``facilitation.carry``); this module only moves that data in and out of the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import datetime
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.facilitation import between, cpd, journal, opening, rhythm
from app.facilitation.between import Between
from app.facilitation.carry import carried_forward, quieter_half
from app.facilitation.formats import check_statements, with_statements
from app.facilitation.record import meeting_of
from app.facilitation.errors import Forbidden, Invalid, NotFound, Unauthorized
from app.facilitation.cofacilitation import next_on_rota
from app.facilitation.models import CarriedAction, FormatSpec, RotaEntry, SessionState, Status, Welcome
from app.facilitation.reflection import Reflection
from app.realtime.interfaces import GroupRecord, GroupStore, MemberRecord
from app.realtime.member_codes import Derivations, MemberKeys, derive, new_code, typed
from app.realtime.sealing import (
    CpdOpener,
    cpd_context,
    cpd_public_key,
    record_context,
    record_seed,
    seal_to,
    unwrap_for_report,
    wrap_for_report,
)
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
        self._record_keyed: set[str] = set()  # groups whose record key this process has seen kept
        self._joined_at_door: dict[tuple[str, str], None] = {}  # (session, participant) added to the group here

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
        await self._keep_record_key(group.id, key)
        log.info("group %s created", group.id)
        return GroupCreated(group_id=group.id, group_key=key)

    async def _group(self, group_id: str) -> GroupRecord:
        """The group of that id, or NotFound (an id longer than any we make is not looked up)."""
        group = await self.store.load_group(group_id) if len(group_id) <= 64 else None
        if group is None:
            raise NotFound("no group with that id")
        return group

    async def authenticate(self, group_id: str, key: str | None) -> GroupRecord:
        group = await self._group(group_id)
        if not key or not hmac.compare_digest(token_hash(key), group.key_hash):
            raise Unauthorized("that key does not belong to this group")
        if group.id not in self._record_keyed:  # a group from before sealed titles: its key yields one now
            await self._keep_record_key(group.id, key)
        return group

    async def _keep_record_key(self, group_id: str, group_key: str) -> None:
        """Keep the public half of the group's record key pair (its meetings' titles are sealed
        to it at close), if it is not kept yet."""
        doc = await self.store.load_doc(group_id, RECORD_KEYS)
        if not (doc or {}).get("public"):
            public = cpd_public_key(record_seed(group_key))
            await self.store.change_doc(group_id, RECORD_KEYS, lambda d: {**(d or {}), "public": public})
        self._record_keyed.add(group_id)

    async def _record_opener(self, group: GroupRecord, key: str | None) -> CpdOpener | None:
        """What opens the meetings' titles for this reader: the group key yields the record's
        private half; the report link's key opens the copy of it kept for the link."""
        if not key:
            return None
        given = token_hash(key)
        if hmac.compare_digest(given, group.key_hash):
            return CpdOpener(record_seed(key))
        if group.report_hash is not None and hmac.compare_digest(given, group.report_hash):
            wrapped = ((await self.store.load_doc(group.id, RECORD_KEYS)) or {}).get("report")
            seed = unwrap_for_report(group.id, key, wrapped) if wrapped else None
            return CpdOpener(seed) if seed is not None else None
        return None

    async def authenticate_reader(self, group_id: str, key: str | None) -> GroupRecord:
        """The group, for reading its record: with the group key, or the report link's key
        while that link exists (revoking it refuses it at the next request)."""
        group = await self._group(group_id)
        if key:
            given = token_hash(key)
            if hmac.compare_digest(given, group.key_hash):
                return group
            if group.report_hash is not None and hmac.compare_digest(given, group.report_hash):
                return group
        raise Unauthorized("that key does not open this group's record")

    async def create_report_link(self, group: GroupRecord, group_key: str) -> str:
        """A new read-only key to the record (charts and CSV); it replaces any earlier one.
        It keeps a copy of the record's private half sealed under the new key, so the link
        opens the meetings' titles too."""
        key = new_token()
        wrapped = wrap_for_report(group.id, key, record_seed(group_key))
        await self.store.change_doc(group.id, RECORD_KEYS, lambda d: {**(d or {}), "report": wrapped}, erases=True)
        await self.store.set_report_hash(group.id, token_hash(key))
        log.info("group %s made a report link", group.id)
        return key

    async def revoke_report_link(self, group: GroupRecord) -> None:
        await self.store.set_report_hash(group.id, None)
        await self.store.change_doc(group.id, RECORD_KEYS,
                                    lambda d: {k: v for k, v in (d or {}).items() if k != "report"} or None,
                                    erases=True)
        log.info("group %s revoked its report link", group.id)

    async def start_session(self, group: GroupRecord, title: str, spec: FormatSpec, language: str = "") -> Created:
        """The group's next session; ``group`` comes from ``authenticate``. The group's own
        evaluation statements, if it has set them, replace the format's."""
        spec = with_statements(spec, group.statements)
        rota = tuple(RotaEntry(member_id=e["member_id"], name=e["name"]) for e in group.rota)
        b = await self.between(group.id)
        schedule = rhythm.check(b.schedule) if b.schedule else None
        # The meeting being opened is not "next": the next one starts at least 12 hours from now.
        next_at = rhythm.next_meeting(schedule, self.clock() + NOT_NEXT_S) if schedule else None
        plan = opening.plan_for_session(b, next_at, schedule.minutes if schedule else None,
                                        schedule.tz if schedule else None)
        return await self.sessions.create_session(title, None, None, spec=spec, group_id=group.id,
                                                  least_heard_first=group.least_heard_first, rota=rota,
                                                  rota_now=group.rota_next % len(rota) if rota else -1,
                                                  language=language, group_plan=plan)

    async def set_least_heard_first(self, group: GroupRecord, on: bool) -> bool:
        await self.store.set_least_heard_first(group.id, on)
        return on

    async def set_statements(self, group: GroupRecord, statements: list[str] | None) -> list[str] | None:
        """The group's own evaluation statements for its next sessions (None: each format's)."""
        if statements is not None:
            statements = check_statements(statements)
        await self.store.set_statements(group.id, statements)
        return statements

    async def record(self, group: GroupRecord, key: str | None = None) -> list[dict]:
        """The record's rows, each meeting's title opened for a reader whose ``key`` opens it
        (``title``), the sealed one never handed on."""
        opener = await self._record_opener(group, key)
        rows = []
        for row in await self.store.meetings(group.id):
            sealed = row.get("title_sealed")
            kept = {k: v for k, v in row.items() if k != "title_sealed"}
            title = opener.open(record_context(group.id, row["id"]), sealed) if opener and sealed else None
            rows.append({**kept, "title": title} if title else kept)
        return rows

    async def erase_record(self, group: GroupRecord) -> None:
        await self.store.erase_record(group.id, self.clock())
        log.info("group %s erased its record", group.id)

    async def join(self, state: SessionState, name: str, member_code: str | None) -> MemberJoined:
        """Join a session; in a group session, as a recognised member (or a new one)."""
        return await self._come_in(state, name, member_code, self.sessions.join)

    async def knock(self, state: SessionState, name: str, member_code: str | None) -> MemberJoined:
        """Knock at a locked session's door; in a group session, recognised as at a join, and
        welcomed as a member once a facilitator lets them in. A newcomer is given their member
        code now, but the group learns it only once they are in (``let_in_at_door``): turned
        away, the code opens nothing."""
        return await self._come_in(state, name, member_code, self.sessions.knock, at_door=True)

    async def _come_in(self, state: SessionState, name: str, member_code: str | None,
                       door: Callable[..., Awaitable[Joined]], at_door: bool = False) -> MemberJoined:
        """The one way a person comes into a session, through the open door or knocking at the
        locked one: a member by their code (what they carried, their CPD key, what they bring),
        or a new member of the group, whose code is shown once."""
        if state.group_id is None:
            if member_code is not None:
                raise Invalid("member_code: this session is not part of a recurring group", "not_a_group")
            return MemberJoined(await door(state.code, name), None)
        if member_code is not None:
            member = await self._find(state.group_id, member_code)
            if member is None:
                raise Unauthorized("that member code does not belong to this session's group", "unknown_member_code")
            carried = tuple(CarriedAction(id=a["id"], text=a["text"], due=a.get("due")) for a in member.carried)
            cpd_key = member.cpd_key
            if cpd_key is None:  # a member from before CPD records: their code, presented now, yields it
                cpd_key = cpd_public_key((await self._keys(state.group_id, member_code)).cpd_seed)
                await self.store.set_cpd_key(state.group_id, member.id, cpd_key)
            brought = await self._bring(state.group_id, member.id, member_code, used=not at_door)
            welcome = Welcome(member_id=member.id, carried=carried, heard_least=member.heard_least,
                              cpd_key=cpd_key, brought=brought, at_door=at_door)
            return MemberJoined(await door(state.code, name, welcome=welcome), None)
        member_id, code = secrets.token_hex(8), new_code()  # 80 bits, typed in four groups of four
        keys = await self._keys(state.group_id, code)
        cpd_key = cpd_public_key(keys.cpd_seed)
        if at_door:  # a member once let in, not before
            joined = await door(state.code, name, welcome=Welcome(member_id=member_id, cpd_key=cpd_key,
                                                                  joins_group=keys.lookup))
            return MemberJoined(joined, code)
        joined = await door(state.code, name, welcome=Welcome(member_id=member_id, cpd_key=cpd_key))
        await self._add_member(state.group_id, member_id, keys.lookup, cpd_key)
        self.derived.remember(state.group_id, code, keys)
        return MemberJoined(joined, code)

    async def _add_member(self, group_id: str, member_id: str, lookup: str, cpd_key: str) -> None:
        await self.store.add_member(group_id, member_id, lookup)
        await self.store.set_cpd_key(group_id, member_id, cpd_key)

    async def let_in_at_door(self, state: SessionState) -> None:
        """Newcomers a facilitator let in at the locked door become members of the group now, and
        what a member let in there brought is used up: after every change, once per person on this
        worker (and a look in the store first, so another worker or a restart adds nobody twice)."""
        if state.group_id is None:
            return
        for person in state.participants:
            if person.member_id is None or not (person.joins_group or person.brought_at_door):
                continue
            key = (state.code, person.id)
            if key in self._joined_at_door:
                continue
            if person.joins_group is not None and person.cpd_key is not None:
                if await self.store.find_member(state.group_id, person.joins_group) is None:
                    await self._add_member(state.group_id, person.member_id, person.joins_group, person.cpd_key)
            if person.brought_at_door:  # what they brought is used up now that they are in
                await self.store.change_doc(state.group_id, _journal(person.member_id),
                                            lambda d: journal.brought(d or [])[1])
            self._joined_at_door[key] = None
            while len(self._joined_at_door) > JOINED_AT_DOOR_KEPT:
                del self._joined_at_door[next(iter(self._joined_at_door))]

    async def session_changed(self, state: SessionState) -> None:
        """Newcomers let in at the door join the group; at close (and after any later change to
        a closed session), keep what was carried."""
        await self.let_in_at_door(state)
        if state.group_id is None or state.status is not Status.closed or state.closed_at is None:
            return
        await self.store.carry(state.group_id, carried_forward(state), state.closed_at)
        await self.store.note_heard(state.group_id, quieter_half(state), state.closed_at)
        b = await self.between(state.group_id)
        row = meeting_of(state)
        if b.agreement is not None:  # its text and how many agreed: a count, never who
            row["agreement"] = {"text": b.agreement.text, "agreed": b.agreement.agreed}
        public = ((await self.store.load_doc(state.group_id, RECORD_KEYS)) or {}).get("public")
        if public and state.title:  # sealed: only the record's readers open it
            row["title_sealed"] = seal_to(public, record_context(state.group_id, row["id"]), state.title)
        await self.store.add_meeting(state.group_id, row)  # counts only: no row per person
        plan_id = state.group_plan.plan_id if state.group_plan is not None else None
        if plan_id is not None:  # the settled case or topic was this meeting's: it is used up
            await self.store.change_doc(state.group_id, BETWEEN,
                                        lambda d: _dump(between.used_up(_between(d), plan_id)))
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
        await self._group(group_id)
        found = await self._find(group_id, member_code) if member_code else None
        if found is None:
            raise Unauthorized("that member code does not belong to this group", "unknown_member_code")
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
        journal_entries = [{"date": cpd.day(e["at"]), "text": e["text"]}  # the entries I chose to add
                           for e in await self.read_journal(member, member_code) if e["cpd"]]
        return {**laid_out, "journal": journal_entries, "group": group.name if group else ""}

    async def erase_cpd(self, member: MemberRecord) -> None:
        await self.store.erase_cpd(member.group_id, member.id, self.clock())
        log.info("a member of group %s erased their CPD record", member.group_id)

    # ------------------------------------------------------------ between meetings

    async def between(self, group_id: str) -> Between:
        return _between(await self.store.load_doc(group_id, BETWEEN))

    async def _change(self, group_id: str, change: Callable[[Between], Between]) -> Between:
        changed = await self.store.change_doc(group_id, BETWEEN, lambda d: _dump(change(_between(d))))
        return _between(changed)

    async def may_organise(self, group_id: str, key: str | None) -> GroupRecord:
        """The key holder, or the member the rota names to facilitate next (by their code)."""
        group = await self._group(group_id)
        if key and hmac.compare_digest(token_hash(key), group.key_hash):
            return group
        member = await self._find(group_id, key) if key else None
        if member is not None and group.rota and group.rota[group.rota_next % len(group.rota)]["member_id"] == member.id:
            return group
        if member is not None:
            raise Forbidden("only the group's key holder or the rota's next facilitator can do this", "organiser_only")
        raise Unauthorized("that key does not belong to this group")

    async def reader(self, group_id: str, key: str | None) -> tuple[GroupRecord, MemberRecord | None]:
        """The key holder (no member), or a member by their code."""
        group = await self._group(group_id)
        if key and hmac.compare_digest(token_hash(key), group.key_hash):
            return group, None
        member = await self._find(group_id, key) if key else None
        if member is None:
            raise Unauthorized("send the group key or your member code")
        return group, member

    def view_between(self, b: Between, group_id: str, code: str | None) -> dict:
        """What a page shows between meetings; with a member's code, which are theirs and what they marked."""
        owner_of = (lambda i: mark_of(code, group_id, "topic", i)) if code else None
        liked = (lambda i: mark_of(code, group_id, "like", i)) if code else None
        agreed = mark_of(code, group_id, "agreement", str(b.agreement.version)) if code and b.agreement else None
        schedule = rhythm.check(b.schedule) if b.schedule else None
        return {"agreement": between.agreement_view(b, agreed), "template": between.TEMPLATE,
                "topics": between.topics_view(b, owner_of, liked), "plan": between.plan_view(b, owner_of),
                "schedule": rhythm.view(schedule, self.clock())}

    async def next_at(self, group_id: str) -> float | None:
        """When the group meets next (epoch seconds), if it keeps a schedule."""
        b = await self.between(group_id)
        return rhythm.next_meeting(rhythm.check(b.schedule), self.clock()) if b.schedule else None

    async def next_meeting(self, group_id: str) -> dict:
        """``{next_local, tz}`` of the group's next meeting for a page (empty without a schedule)."""
        b = await self.between(group_id)
        shown = rhythm.view(rhythm.check(b.schedule), self.clock()) if b.schedule else None
        return {"next_local": shown["next_local"], "tz": shown["tz"]} if shown else {}

    async def draft_agreement(self, group_id: str, text: str) -> Between:
        now = self.clock()
        return await self._change(group_id, lambda b: between.draft(b, text, now))

    async def agree(self, member: MemberRecord, code: str, version: int, yes: bool) -> Between:
        mark = mark_of(code, member.group_id, "agreement", str(version))
        return await self._change(member.group_id, lambda b: between.agree(b, version, mark, yes))

    async def propose(self, member: MemberRecord, code: str, kind: str, text: str, name: str | None) -> str:
        topic_id, now = secrets.token_hex(6), self.clock()
        owner = mark_of(code, member.group_id, "topic", topic_id)
        await self._change(member.group_id, lambda b: between.propose(b, topic_id, kind, text, name, owner, now))
        return topic_id

    async def mark(self, member: MemberRecord, code: str, topic_id: str, like: bool) -> Between:
        mark = mark_of(code, member.group_id, "like", topic_id)
        return await self._change(member.group_id, lambda b: between.mark(b, topic_id, mark, like))

    async def withdraw(self, member: MemberRecord, code: str, topic_id: str) -> None:
        owner = mark_of(code, member.group_id, "topic", topic_id)
        await self._change(member.group_id, lambda b: between.withdraw(b, topic_id, owner))

    async def settle(self, group_id: str, topic_id: str | None) -> Between:
        now = self.clock()
        if topic_id is None:
            return await self._change(group_id, between.unsettle)
        return await self._change(group_id, lambda b: between.settle(between.unsettle(b), topic_id, now))

    async def consent_to_present(self, member: MemberRecord, code: str, yes: bool) -> Between:
        b = await self.between(member.group_id)
        if b.plan is None:
            raise NotFound("no case is settled for the next meeting", "no_plan")
        owner = mark_of(code, member.group_id, "topic", b.plan.id)
        return await self._change(member.group_id, lambda b: between.consent(b, owner, member.id, yes))

    async def set_schedule(self, group_id: str, data: dict | None) -> Between:
        schedule = rhythm.check(data).model_dump(mode="json") if data is not None else None
        return await self._change(group_id, lambda b: b.model_copy(update={"schedule": schedule}))

    async def move_meeting(self, group_id: str, on: str, to: str | None) -> Between:
        try:
            day = datetime.date.fromisoformat(on)
            when = datetime.datetime.fromisoformat(to) if to is not None else None
        except ValueError:
            raise Invalid("date: YYYY-MM-DD; to: YYYY-MM-DDTHH:MM (local) or null", "bad_schedule", field="date") from None

        def change(b: Between) -> Between:
            if b.schedule is None:
                raise NotFound("the group has no schedule yet", "no_schedule")
            moved = rhythm.move(rhythm.check(b.schedule), day, when)
            return b.model_copy(update={"schedule": moved.model_dump(mode="json")})
        return await self._change(group_id, change)

    async def calendar(self, group_id: str, summary: str) -> str:
        b = await self.between(group_id)
        if b.schedule is None:
            raise NotFound("the group has no schedule yet", "no_schedule")
        return rhythm.calendar(rhythm.check(b.schedule), group_id, summary, self.clock())

    # ------------------------------------------------------------ a member's journal

    async def write_journal(self, member: MemberRecord, code: str, text: str, bring: bool, to_cpd: bool) -> str:
        text = journal.check_text(text)
        public = member.cpd_key or cpd_public_key((await self._keys(member.group_id, code)).cpd_seed)
        if member.cpd_key is None:
            await self.store.set_cpd_key(member.group_id, member.id, public)
        entry = {"id": secrets.token_hex(8), "at": self.clock(), "bring": False, "cpd": to_cpd,
                 "sealed": seal_to(public, cpd_context(member.group_id, member.id, "journal"), text)}

        def change(d: list | None) -> list:
            added = journal.add(d or [], entry)
            return journal.choose(added, entry["id"], True, None) if bring else added
        await self.store.change_doc(member.group_id, _journal(member.id), change)
        return entry["id"]

    async def read_journal(self, member: MemberRecord, code: str) -> list[dict]:
        opener = CpdOpener((await self._keys(member.group_id, code)).cpd_seed)
        context = cpd_context(member.group_id, member.id, "journal")
        out = []
        for e in await self.store.load_doc(member.group_id, _journal(member.id)) or []:
            text = opener.open(context, e["sealed"])
            if text is not None:
                out.append({"id": e["id"], "at": e["at"], "text": text, "bring": bool(e.get("bring")),
                            "cpd": bool(e.get("cpd"))})
        return out

    async def choose_journal(self, member: MemberRecord, entry_id: str, bring: bool | None, to_cpd: bool | None) -> None:
        await self.store.change_doc(member.group_id, _journal(member.id),
                                    lambda d: journal.choose(d or [], entry_id, bring, to_cpd))

    async def erase_journal(self, member: MemberRecord, entry_id: str | None) -> None:
        def change(d: list | None) -> list | None:
            if entry_id is not None and not any(e["id"] == entry_id for e in d or []):
                raise NotFound("no such journal entry", "no_such_entry")
            return journal.erase(d or [], entry_id) or None
        await self.store.change_doc(member.group_id, _journal(member.id), change, erases=True)
        log.info("a member of group %s erased %s of their journal", member.group_id,
                 "all" if entry_id is None else "an entry")

    async def journal_prompts(self, member: MemberRecord) -> list[dict]:
        b = await self.between(member.group_id)
        plan = between.plan_view(b)
        return journal.prompts(member.carried, plan)

    async def _bring(self, group_id: str, member_id: str, code: str, used: bool = True) -> tuple[str, ...]:
        """The entries the member chose to bring to this check-in, opened with their code
        (which is here only for this request), and no longer marked once brought (``used``; at
        a locked door, once they are let in: ``let_in_at_door``)."""
        entries = await self.store.load_doc(group_id, _journal(member_id)) or []
        if not any(e.get("bring") for e in entries):
            return ()
        opener = CpdOpener((await self._keys(group_id, code)).cpd_seed)
        context = cpd_context(group_id, member_id, "journal")
        chosen, _ = journal.brought(entries)
        words = tuple(t for t in (opener.open(context, e["sealed"]) for e in chosen) if t)
        if used:
            await self.store.change_doc(group_id, _journal(member_id), lambda d: journal.brought(d or [])[1])
        return words

    async def close(self) -> None:
        await self.store.close()


BETWEEN = "between"
JOINED_AT_DOOR_KEPT = 4096  # newcomers let in at a door that this worker remembers having added
RECORD_KEYS = "record_keys"  # {public: the record key pair's public half, report: its seed sealed for the report link}
NOT_NEXT_S = 12 * 3600


def _journal(member_id: str) -> str:
    return f"journal:{member_id}"


def _between(doc: dict | None) -> Between:
    return Between.model_validate(doc) if doc else Between()


def _dump(b: Between) -> dict | None:
    data = b.model_dump(mode="json")
    return data if data != Between().model_dump(mode="json") else None


def mark_of(code: str, group_id: str, what: str, item: str) -> str:
    """A member's mark on something of the group's (an agreement's version, a topic): an HMAC
    keyed with their code, which the server never keeps, so nobody else can recompute whose
    it is, and it is unlike the code's stored hash."""
    message = f"talking-piece between v1\x1f{group_id}\x1f{what}\x1f{item}".encode()
    return hmac.new((typed(code) or code).encode(), message, hashlib.sha256).hexdigest()[:32]
