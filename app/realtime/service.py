"""The one path every change takes: authenticate, apply through the store, publish, schedule.

Routes and sockets call this; it calls the core. It owns the randomness (codes, tokens,
ids) and the clock, and hands both to the core as plain values. It also derives, from a
participant's token, the secret their anonymous marks are keyed with (``Actor.key``) and
the key their remembered acks are sealed with: the store holds only a hash of the token,
so it can recompute neither.

A change to the true tallies alone (an anonymous act, a socket opening) keeps the
session's version: it is stored, and schedules the fold timer, but is not published.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.facilitation import cofacilitation, engine, guard, knocks, recovery
from app.facilitation.commands import Command, Erase, ExpireTurn, FlushTallies, SubmitItem
from app.facilitation.errors import (
    Conflict,
    FacilitationError,
    Forbidden,
    NotFound,
    Unauthorized,
)
from app.facilitation.formats import format_with_durations
from app.facilitation.models import (
    FACILITATOR,
    SCREEN,
    SYSTEM,
    Actor,
    FormatSpec,
    Fresh,
    GroupPlan,
    RotaEntry,
    SessionState,
    Settings,
    Welcome,
)
from app.facilitation.reflection import Reflection
from app.facilitation.tallies import QUIET
from app.facilitation.transition import Event
from app.realtime import close_codes, metrics
from app.realtime.interfaces import UNAVAILABLE, Broker, Deadlines, Gate, Record, SessionStore
from app.realtime.item_cap import ItemCap
from app.realtime.quotas import Quotas
from app.realtime.sealing import ack_key, cpd_context, open_sealed, open_with, seal, seal_to, seal_with

log = logging.getLogger("talkingpiece.sessions")

# New codes leave out every character that reads like another: 0/O/Q-like and 1/I/L are
# absent altogether, and of 2/Z, 5/S and 8/B only the letter is drawn. Codes drawn before
# (with 2, 5 or 8) stay valid: a typed code is looked up as typed first, then folded.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ34679"
ACCEPTED = frozenset("ABCDEFGHJKMNPQRSTUVWXYZ23456789")  # every character a code has ever held
LOOK_ALIKES = str.maketrans({"2": "Z", "5": "S", "8": "B"})
CODE_LENGTH = 6
_SEPARATORS = str.maketrans("", "", " \t\n-_.\u00a0\u2009\u202f\u2010\u2011\u2012\u2013\u2014")


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def marking_key(token: str, code: str) -> str:
    """A participant's secret for their anonymous marks in one session: only their token yields it."""
    return hmac.new(token.encode(), f"talking-piece marks v1\x1f{code}".encode(), hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str | None:
    """A code as people type it ("eju p5m", "EJU-P5M"): without spaces or dashes, in capitals;
    None when it cannot be a code. The one reading of a code for every route and socket."""
    code = code.translate(_SEPARATORS).upper()
    if len(code) != CODE_LENGTH or any(ch not in ACCEPTED for ch in code):
        return None
    return code


def code_forms(code: str) -> list[str]:
    """The codes a typed one may mean: as typed, then with look-alike digits read as the
    letters new codes use ("B8S" and "BBS" are one code)."""
    normal = normalise_code(code)
    if normal is None:
        return []
    folded = normal.translate(LOOK_ALIKES)
    return [normal] if folded == normal else [normal, folded]


@dataclass(frozen=True)
class Created:
    code: str
    facilitator_token: str
    screen_token: str


@dataclass(frozen=True)
class Caller:
    """Who sent a request or holds a socket: their token, and the actor it named at ``version``.

    The token is checked once (``SessionService.authenticate``). A change made for the caller
    re-derives the actor only if the session has moved on since (the person may have been
    removed meanwhile). It keeps no state: a socket holds its caller for hours.
    """
    code: str
    token: str
    actor: Actor
    version: int
    console: bool = False  # a participant's token opening the console they were handed

    def actor_in(self, state: SessionState) -> Actor:
        return self.actor if state.version == self.version else actor_for(state, self.token, console=self.console)


@dataclass(frozen=True)
class Joined:
    participant_id: str
    token: str


class SessionFull(Exception):
    """The process holds as many sessions as it may; the route answers 503."""


class SessionService:
    def __init__(self, store: SessionStore, broker: Broker, deadlines: Deadlines, clock: Callable[[], float], *,
                 max_sessions: int = 5000, quotas: Quotas | None = None, batching: dict[str, float] | None = None,
                 on_unknown_code: Callable[[], None] = lambda: None,
                 client_address: Callable[[], str | None] = lambda: None) -> None:
        self.store = store
        self.broker = broker
        self.deadlines = deadlines
        self.clock = clock
        self.quotas = quotas  # fair shares per address, token and session (quotas.py)
        self._client_address = client_address  # who is asking, for the per-address shares
        # The fold timer's and presence debounce's settings, copied into every new session.
        self.batching = batching or {}
        self.max_sessions = max_sessions
        self._on_unknown_code = on_unknown_code  # the HTTP layer slows join-code guessing with it
        self.events: Counter[str] = Counter()  # what has happened in this process, by event type
        # Items per person: the rules table's cap, counted in memory, never stored.
        per_person = engine.RULES[SubmitItem].per_person
        assert per_person is not None, "the rules table caps the items one person may hold"
        self.item_cap = ItemCap(per_person)
        # Called after every published change (e.g. groups keep what was carried at close).
        self.listeners: list[Callable[[SessionState], Awaitable[None]]] = []

    def on_change(self, listener: Callable[[SessionState], Awaitable[None]]) -> None:
        """Call ``listener`` after every published change; the runtime wires these at start-up."""
        self.listeners.append(listener)

    # ------------------------------------------------------------ lifecycle

    async def create_session(self, title: str, format_id: str | None, durations: dict[str, int] | None,
                             *, spec: FormatSpec | None = None, group_id: str | None = None,
                             least_heard_first: bool = False, rota: tuple[RotaEntry, ...] = (),
                             rota_now: int = -1, language: str = "", group_plan: GroupPlan | None = None) -> Created:
        spec = spec or format_with_durations(format_id, durations)
        if self.quotas is not None:
            await self.quotas.creating(self._client_address())
        if await self.store.count() >= self.max_sessions:
            metrics.refused("sessions")
            raise SessionFull()
        facilitator, screen = new_token(), new_token()
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            state = engine.new_session(
                code=code, title=title, format=spec, now=self.clock(), salt=secrets.token_hex(16),
                facilitator_token_hash=token_hash(facilitator), screen_token_hash=token_hash(screen),
                settings=Settings(**self.batching, least_heard_first=least_heard_first,
                                  language=language))
            if group_id is not None:
                state = state.model_copy(update={"group_id": group_id, "rota": rota,
                                                 "rota_now": rota_now if rota else -1, "group_plan": group_plan})
            if await self.store.create(Record(state=state)):
                log.info("session %s created (%s)", code, spec.id)
                return Created(code=code, facilitator_token=facilitator, screen_token=screen)
        raise Conflict("could not allocate a session code; try again")

    async def join(self, code: str, name: str, *, welcome: Welcome | None = None) -> Joined:
        """Come in through the open door; ``welcome``: as a member of the session's group."""
        code = (await self.load(code)).code  # one session, however its code was typed
        if self.quotas is not None:
            await self.quotas.joining(self._client_address(), code)
        token, pid = new_token(), secrets.token_hex(8)
        now = self.clock()
        await self._change(code, lambda record: engine.join(record.state, participant_id=pid, name=name,
                                                            token_hash=token_hash(token), now=now, welcome=welcome))
        return Joined(participant_id=pid, token=token)

    async def knock(self, code: str, name: str, *, welcome: Welcome | None = None) -> Joined:
        """Ask to be let into a locked session: the token is the knocker's from now on, and
        becomes a participant's when a facilitator admits them (``knocks``), welcomed as a
        member of the session's group as at a join (``welcome``)."""
        state = await self.load(code)
        if self.quotas is not None:
            await self.quotas.joining(self._client_address(), state.code)
        token, kid = new_token(), secrets.token_hex(8)
        now = self.clock()
        await self._change(state.code, lambda record: engine.knock(record.state, knock_id=kid, name=name,
                                                                   token_hash=token_hash(token), now=now,
                                                                   welcome=welcome))
        return Joined(participant_id=kid, token=token)

    async def knock_status(self, code: str, token: str) -> tuple[str, str | None]:
        """Whether the knock holding ``token`` waits, was admitted (with the participant id) or declined."""
        state = await self.load(code)
        return knocks.status_of(state, token_hash(token))

    async def resume(self, codes: list[str]) -> None:
        """After a restart: nobody is connected to the new process yet, and every running turn
        needs its timer again (a deadline that passed while the process was down fires now)."""
        for code in codes:
            record = await self.store.load(code)
            if record is None:
                continue
            for person in record.state.participants:
                if person.connected:
                    await self.set_connected(code, person.id, False)
            for seat in record.state.seats_online:  # no console is open on a process just started
                if seat.online:
                    await self.set_seat_online(code, seat.seat, False)
            record = await self.store.load(code)
            if record is not None:
                self.deadlines.schedule(code, engine.next_deadline(record.state))

    # ------------------------------------------------------------ reading

    async def load(self, code: str) -> SessionState:
        """The session a typed code names (``code_forms``); one unknown-code count if none."""
        for form in code_forms(code):
            record = await self.store.load(form)
            if record is not None:
                return record.state
        self._on_unknown_code()
        raise NotFound("no session with that code")

    async def authenticate(self, code: str, token: str | None, *, console: bool = False) -> tuple[SessionState, Caller]:
        """The session and who holds ``token`` in it: NotFound, or Unauthorized for a bad token.

        ``console``: a participant's token asks for the console (the facilitation was handed to them)."""
        state = await self.load(code)
        return state, Caller(code=state.code, token=token or "", actor=actor_for(state, token, console=console),
                             version=state.version, console=console)

    async def erase(self, caller: Caller) -> SessionState:
        """End and erase now: the facilitator deletes the session from the store at once.

        Afterwards every lookup of the code answers 404. The caller closes the sockets.
        Returns the last state (for the caller's reply; it is stored nowhere any more).
        """
        state = await self.load(caller.code)
        engine.permit(state, Erase(type="erase"), caller.actor_in(state))  # the table's row: the lead, in any status
        await self.store.delete(state.code)
        self.item_cap.forget(state.code)
        await self.broker.erased(state.code)  # every worker closes its sockets for it now
        self.deadlines.schedule(state.code, None)
        log.info("session %s erased by its facilitator", state.code)
        return state

    # ------------------------------------------------------------ changing

    @metrics.counted
    async def execute(self, caller: Caller, command: Command, command_id: str | None = None) -> dict[str, Any]:
        """Apply a client's command once; the same (token, id) again returns the first ack."""
        token = caller.token
        # The token's share is taken now; the session's with the store's read (one round trip in Redis).
        gate = await self.quotas.command_gate(token, caller.code) if self.quotas is not None else None
        key = hmac.new(token.encode(), (command_id or "").encode(), hashlib.sha256).hexdigest() if command_id else None
        writer = hmac.new(token.encode(), b"items", hashlib.sha256).hexdigest()
        sealing = ack_key(token, caller.code)
        fresh = Fresh(id=secrets.token_hex(8), secret=secrets.token_urlsafe(24))
        now = self.clock()
        ack: dict[str, Any] = {}
        events: tuple[Event, ...] = ()
        taken = command.type == "submit_item" and self.item_cap.take(caller.code, writer)

        def change(record: Record) -> Record | None:
            nonlocal ack, events
            if key is not None and key in record.acks:
                kept = record.acks[key]
                opened = open_with(sealing, key, kept["sealed"]) if "sealed" in kept else None
                if opened is not None or "sealed" not in kept:  # (an ack kept before acks were sealed)
                    ack, events = (json.loads(opened) if opened is not None else kept), ()
                    return None
            actor = caller.actor_in(record.state)
            if command.type == "submit_item" and not taken:  # anonymous: counted in memory, under a key from the token
                raise Conflict(f"you have submitted the most items one person may ({self.item_cap.cap})", "person_cap",
                               limit=self.item_cap.cap)
            result = engine.apply(record.state, command, actor, now, fresh)
            ack, events = {"version": result.state.version, **result.reply}, result.events
            if not result.events and key is None:
                return None
            # The ack is kept sealed with the sender's token: a receipt in it retracts an item.
            sealed = {"sealed": seal_with(sealing, key, json.dumps(ack))} if key is not None else {}
            acks = record.remember(key, sealed) if key is not None else record.acks
            # All parts are valid already: no second walk of every kept ack.
            return Record.model_construct(state=result.state, acks=acks)

        try:
            await self._update(caller.code, change, gate=gate, ack=key)
        except BaseException:
            if taken:
                self.item_cap.give_back(caller.code, writer)
            raise
        if (taken and not events) or (command.type == "retract_item" and events):
            self.item_cap.give_back(caller.code, writer)  # not submitted after all (a resend), or retracted
        self._happened(caller.code, events)
        return ack

    async def expire(self, code: str, store: SessionStore | None = None) -> None:
        """A deadline timer fired: a turn's end, or the fold timer's tick (or both, one after
        the other, as two versions). Safe to call late, early, or from several workers: each
        is a compare-and-set that the core ignores once it is no longer due.

        ``store`` is the timer's own way to the sessions (Redis: its own connections), so
        a turn's end never queues behind a flood of commands for a free connection.
        """
        fresh = Fresh(id=secrets.token_hex(8), secret="")
        now = self.clock()
        ended: list[float] = []  # the room's turn deadline this expiry ends (how late: metrics)

        def due(command: Command, when: Callable[[SessionState, float], bool]) -> Callable[[Record], engine.Transition]:
            def transition(record: Record) -> engine.Transition:
                turn, ended[:] = record.state.turn, []
                if not when(record.state, now):
                    return engine.Transition(state=record.state)
                if command.type == "expire_turn" and turn is not None and turn.ends_at <= now:
                    ended.append(turn.ends_at)
                return engine.apply(record.state, command, SYSTEM, now, fresh)
            return transition

        for command, when in ((ExpireTurn(type="expire_turn"), engine.turn_due),
                              (FlushTallies(type="flush_tallies"), engine.flush_due)):
            try:
                await self._change(code, due(command, when), store)
            except (KeyError, FacilitationError):
                continue  # the session closed or vanished meanwhile: nothing is due
            for deadline in ended:
                metrics.turn_ended(self.clock() - deadline)

    async def save_reflection(self, caller: Caller, reflection: Reflection) -> None:
        """Seal the reflection with the writer's token and keep only the sealed form."""
        guard.require_confirmed(reflection.text(), reflection.confirmed)
        pid = _reflection_writer(caller)
        plain = reflection.model_dump_json()
        sealed = seal(caller.token, f"{caller.code}/{pid}", plain)

        def stored(record: Record) -> engine.Transition:
            person = record.state.participant(pid)
            for_cpd = None
            if person is not None and person.cpd_key and person.member_id and record.state.group_id:
                for_cpd = seal_to(person.cpd_key, cpd_context(record.state.group_id, person.member_id, "reflection"),
                                  plain)
            return engine.store_reflection(record.state, pid, sealed, for_cpd)
        await self._change(caller.code, stored)

    def read_reflection(self, state: SessionState, caller: Caller) -> tuple[SessionState, str, Reflection]:
        """Open the caller's reflection in ``state`` (the state they were authenticated in)."""
        person = state.participant(_reflection_writer(caller))
        assert person is not None
        opened = open_sealed(caller.token, f"{state.code}/{person.id}", person.reflection) if person.reflection else None
        reflection = Reflection.model_validate_json(opened) if opened else Reflection()
        return state, person.id, reflection

    async def set_seat_online(self, code: str, seat: str, online: bool) -> None:
        """A facilitation seat's first console opened or last one closed (an absent lead is replaced)."""
        now = self.clock()
        try:
            await self._change(code, lambda r: engine.set_seat_online(r.state, seat, online, now))
        except (NotFound, Conflict):
            pass
        except UNAVAILABLE as exc:
            metrics.redis_error("presence")
            log.warning("marking a console of %s %s failed: %s", code, "open" if online else "closed",
                        type(exc).__name__)

    async def set_connected(self, code: str, participant_id: str, connected: bool) -> None:
        """A participant's first socket opened or last one closed: noted quietly; the room
        sees it at a later fold if it lasts (see ``tallies``)."""
        now = self.clock()
        try:
            await self._change(code, lambda r: engine.set_connected(r.state, participant_id, connected, now))
        except (NotFound, Conflict):
            pass
        except UNAVAILABLE as exc:  # presence catches up at its next heartbeat (presence.py)
            metrics.redis_error("presence")
            log.warning("marking a participant of %s %s failed: %s", code,
                        "connected" if connected else "disconnected", type(exc).__name__)

    async def _change(self, code: str, transition: Callable[[Record], engine.Transition],
                      store: SessionStore | None = None) -> SessionState:
        events: tuple[Event, ...] = ()

        def change(record: Record) -> Record | None:
            nonlocal events
            result = transition(record)
            events = result.events
            return record.model_copy(update={"state": result.state}) if result.events else None

        state = await self._update(code, change, store)
        self._happened(code, events)
        return state

    def _happened(self, code: str, events: tuple[Event, ...]) -> None:
        """Count what the core says happened; log it unless it is an anonymous act or presence,
        whose moment the room must not learn (``tallies``)."""
        for event in events:
            self.events[event.type] += 1
            if event.type not in QUIET:
                log.debug("session %s: %s", code, event.type)

    async def _update(self, code: str, change: Callable[[Record], Record | None],
                      store: SessionStore | None = None, gate: Gate | None = None,
                      ack: str | None = None) -> SessionState:
        visible = False

        def tracked(record: Record) -> Record | None:
            nonlocal visible  # the last call is the one the store kept
            new = change(record)
            visible = new is not None and new.state.version != record.state.version
            return new

        try:
            record, changed = await (store or self.store).update(code, tracked, gate, ack)
        except KeyError:
            raise NotFound("no session with that code") from None
        if changed and visible:
            await self.published(record.state)
        elif changed:  # quiet: nothing to publish, but the fold timer may be due
            self.deadlines.schedule(record.state.code, engine.next_deadline(record.state))
        return record.state

    async def published(self, state: SessionState) -> None:
        metrics.published(state.code, state.version)
        await self.broker.publish(state)
        self.deadlines.schedule(state.code, engine.next_deadline(state))
        for listener in self.listeners:
            try:
                await listener(state)
            except Exception as exc:  # the change stands; a listener's failure is logged, not raised
                log.error("listener failed after a change to %s: %s", state.code, type(exc).__name__)


def _reflection_writer(caller: Caller) -> str:
    if caller.actor.participant_id is None:
        raise Forbidden("only a participant keeps a reflection", "participant_only")
    return caller.actor.participant_id


def actor_for(state: SessionState, token: str | None, *, console: bool = False) -> Actor:
    """Who holds this token in this session; Unauthorized for anyone else.

    A co-facilitator's token names their seat; a participant's names them, or, with
    ``console``, the facilitation seat handed to them (Unauthorized if it was not, or no longer is).
    """
    if not token:
        raise Unauthorized("a token is required")
    digest = token_hash(token)
    if hmac.compare_digest(digest, state.facilitator_token_hash):
        return FACILITATOR
    if hmac.compare_digest(digest, state.screen_token_hash) or recovery.is_screen_key(state, digest, hmac.compare_digest):
        return SCREEN
    for co in state.cofacilitators:
        if hmac.compare_digest(digest, co.token_hash):
            if not cofacilitation.is_seat(state, co.id):  # the seat that invited them has ended
                raise Unauthorized("that console link was revoked")
            return Actor(role="facilitator", seat=co.id)
    for p in state.participants:
        if hmac.compare_digest(digest, p.token_hash):
            if p.removed:
                raise Unauthorized("you were removed from this session", close_codes.REMOVED)
            if console:
                seat = cofacilitation.peer_seat(p.id)
                if not cofacilitation.is_seat(state, seat):
                    raise Unauthorized("the facilitation has not been handed to you", "not_handed_over")
                return Actor(role="facilitator", seat=seat)
            return Actor(role="participant", participant_id=p.id, key=marking_key(token, state.code))
    raise Unauthorized("that token does not belong to this session")
