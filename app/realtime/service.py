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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.facilitation import carry, engine, guard
from app.facilitation.commands import Command, ExpireTurn, FlushTallies
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
    CarriedAction,
    FormatSpec,
    Fresh,
    SessionState,
    Settings,
)
from app.facilitation.reflection import Reflection
from app.http import ratelimit
from app.realtime.interfaces import Broker, Deadlines, Record, SessionStore
from app.realtime.sealing import ack_key, open_sealed, open_with, seal, seal_with

log = logging.getLogger("talkingpiece.sessions")

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L look-alikes
CODE_LENGTH = 6


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def marking_key(token: str, code: str) -> str:
    """A participant's secret for their anonymous marks in one session: only their token yields it."""
    return hmac.new(token.encode(), f"talking-piece marks v1\x1f{code}".encode(), hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str | None:
    code = code.strip().upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


@dataclass(frozen=True)
class Created:
    code: str
    facilitator_token: str
    screen_token: str


@dataclass(frozen=True)
class Joined:
    participant_id: str
    token: str


class SessionFull(Exception):
    """The process holds as many sessions as it may; the route answers 503."""


class SessionService:
    def __init__(self, store: SessionStore, broker: Broker, clock: Callable[[], float],
                 max_sessions: int = 5000, batching: dict[str, float] | None = None) -> None:
        self.store = store
        self.broker = broker
        self.clock = clock
        # The fold timer's and presence debounce's settings, copied into every new session.
        self.batching = batching or {}
        self.deadlines: Deadlines | None = None
        self.max_sessions = max_sessions
        # Called after every published change (e.g. groups keep what was carried at close).
        self.listeners: list[Callable[[SessionState], Awaitable[None]]] = []

    # ------------------------------------------------------------ lifecycle

    async def create_session(self, title: str, format_id: str | None, durations: dict[str, int] | None,
                             *, spec: FormatSpec | None = None, group_id: str | None = None) -> Created:
        spec = spec or format_with_durations(format_id, durations)
        if await self.store.count() >= self.max_sessions:
            raise SessionFull()
        facilitator, screen = new_token(), new_token()
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            state = engine.new_session(
                code=code, title=title, format=spec, now=self.clock(), salt=secrets.token_hex(16),
                facilitator_token_hash=token_hash(facilitator), screen_token_hash=token_hash(screen),
                settings=Settings(**self.batching))
            if group_id is not None:
                state = state.model_copy(update={"group_id": group_id})
            if await self.store.create(Record(state=state)):
                log.info("session %s created (%s)", code, spec.id)
                return Created(code=code, facilitator_token=facilitator, screen_token=screen)
        raise Conflict("could not allocate a session code; try again")

    async def join(self, code: str, name: str, *, member_id: str | None = None,
                   carried: tuple[CarriedAction, ...] = ()) -> Joined:
        token, pid = new_token(), secrets.token_hex(8)
        now = self.clock()

        def joined(record: Record) -> engine.Transition:
            result = engine.join(record.state, participant_id=pid, name=name, token_hash=token_hash(token), now=now)
            if member_id is None:
                return result
            return result.model_copy(update={"state": carry.welcome(result.state, pid, member_id, carried)})

        await self._change(code, joined)
        return Joined(participant_id=pid, token=token)

    # ------------------------------------------------------------ reading

    async def load(self, code: str) -> SessionState:
        normal = normalise_code(code)
        record = await self.store.load(normal) if normal else None
        if record is None:
            ratelimit.unknown_code()  # join-code guessing is slowed per client address
            raise NotFound("no session with that code")
        return record.state

    async def authenticate(self, code: str, token: str | None) -> tuple[SessionState, Actor]:
        state = await self.load(code)
        return state, actor_for(state, token)

    async def erase(self, code: str, token: str) -> SessionState:
        """End and erase now: the facilitator deletes the session from the store at once.

        Afterwards every lookup of the code answers 404. The caller closes the sockets.
        Returns the last state (for the caller's reply; it is stored nowhere any more).
        """
        state, actor = await self.authenticate(code, token)
        if actor.role != FACILITATOR.role:
            raise Forbidden("only the facilitator can erase the session")
        await self.store.delete(state.code)
        await self.broker.erased(state.code)  # every worker closes its sockets for it now
        if self.deadlines is not None:
            self.deadlines.schedule(state.code, None)
        log.info("session %s erased by its facilitator", state.code)
        return state

    # ------------------------------------------------------------ changing

    async def execute(self, code: str, token: str, command: Command, command_id: str | None = None) -> dict[str, Any]:
        """Apply a client's command once; the same (token, id) again returns the first ack."""
        code = normalise_code(code) or ""
        key = hmac.new(token.encode(), (command_id or "").encode(), hashlib.sha256).hexdigest() if command_id else None
        sealing = ack_key(token, code)
        fresh = Fresh(id=secrets.token_hex(8), secret=secrets.token_urlsafe(18))
        now = self.clock()
        ack: dict[str, Any] = {}

        def change(record: Record) -> Record | None:
            nonlocal ack
            if key is not None and key in record.acks:
                kept = record.acks[key]
                opened = open_with(sealing, key, kept["sealed"]) if "sealed" in kept else None
                if opened is not None or "sealed" not in kept:  # (an ack kept before acks were sealed)
                    ack = json.loads(opened) if opened is not None else kept
                    return None
            actor = actor_for(record.state, token)
            result = engine.apply(record.state, command, actor, now, fresh)
            ack = {"version": result.state.version, **result.reply}
            if not result.events and key is None:
                return None
            # The ack is kept sealed with the sender's token: a receipt in it retracts an item.
            sealed = {"sealed": seal_with(sealing, key, json.dumps(ack))} if key is not None else {}
            acks = record.remember(key, sealed) if key is not None else record.acks
            return Record(state=result.state, acks=acks)

        await self._update(code, change)
        return ack

    async def expire(self, code: str) -> None:
        """A deadline timer fired: a turn's end, or the fold timer's tick (or both, one after
        the other, as two versions). Safe to call late, early, or from several workers: each
        is a compare-and-set that the core ignores once it is no longer due."""
        fresh = Fresh(id=secrets.token_hex(8), secret="")
        now = self.clock()

        def due(command: Command, when: Callable[[SessionState, float], bool]) -> Callable[[Record], Record | None]:
            def change(record: Record) -> Record | None:
                if not when(record.state, now):
                    return None
                result = engine.apply(record.state, command, SYSTEM, now, fresh)
                return Record(state=result.state, acks=record.acks) if result.events else None
            return change

        for command, when in ((ExpireTurn(type="expire_turn"), engine.turn_due),
                              (FlushTallies(type="flush_tallies"), engine.flush_due)):
            try:
                await self._update(code, due(command, when))
            except (KeyError, FacilitationError):
                pass  # the session closed or vanished meanwhile: nothing is due

    async def save_reflection(self, code: str, token: str, reflection: Reflection) -> None:
        """Seal the reflection with the writer's token and keep only the sealed form."""
        guard.require_confirmed(reflection.text(), reflection.confirmed)
        state, actor = await self.authenticate(code, token)
        if actor.participant_id is None:
            raise Forbidden("only a participant keeps a reflection")
        pid = actor.participant_id
        sealed = seal(token, f"{state.code}/{pid}", reflection.model_dump_json())
        await self._change(state.code, lambda r: engine.store_reflection(r.state, pid, sealed))

    async def read_reflection(self, code: str, token: str) -> tuple[SessionState, str, Reflection]:
        state, actor = await self.authenticate(code, token)
        if actor.participant_id is None:
            raise Forbidden("only a participant keeps a reflection")
        person = state.participant(actor.participant_id)
        assert person is not None
        opened = open_sealed(token, f"{state.code}/{person.id}", person.reflection) if person.reflection else None
        reflection = Reflection.model_validate_json(opened) if opened else Reflection()
        return state, person.id, reflection

    async def set_connected(self, code: str, participant_id: str, connected: bool) -> None:
        """A participant's first socket opened or last one closed: noted quietly; the room
        sees it at a later fold if it lasts (see ``tallies``)."""
        now = self.clock()
        try:
            await self._change(code, lambda r: engine.set_connected(r.state, participant_id, connected, now))
        except (NotFound, Conflict):
            pass

    async def _change(self, code: str, transition: Callable[[Record], engine.Transition]) -> SessionState:
        def change(record: Record) -> Record | None:
            result = transition(record)
            return Record(state=result.state, acks=record.acks) if result.events else None

        return await self._update(code, change)

    async def _update(self, code: str, change: Callable[[Record], Record | None]) -> SessionState:
        visible = False

        def tracked(record: Record) -> Record | None:
            nonlocal visible  # the last call is the one the store kept
            new = change(record)
            visible = new is not None and new.state.version != record.state.version
            return new

        try:
            record, changed = await self.store.update(code, tracked)
        except KeyError:
            raise NotFound("no session with that code") from None
        if changed and visible:
            await self.published(record.state)
        elif changed and self.deadlines is not None:  # quiet: nothing to publish, but the fold timer may be due
            self.deadlines.schedule(record.state.code, engine.next_deadline(record.state))
        return record.state

    async def published(self, state: SessionState) -> None:
        await self.broker.publish(state)
        if self.deadlines is not None:
            self.deadlines.schedule(state.code, engine.next_deadline(state))
        for listener in self.listeners:
            try:
                await listener(state)
            except Exception as exc:  # the change stands; a listener's failure is logged, not raised
                log.error("listener failed after a change to %s: %s", state.code, type(exc).__name__)


def actor_for(state: SessionState, token: str | None) -> Actor:
    """Who holds this token in this session; Unauthorized for anyone else."""
    if not token:
        raise Unauthorized("a token is required")
    digest = token_hash(token)
    if hmac.compare_digest(digest, state.facilitator_token_hash):
        return FACILITATOR
    if hmac.compare_digest(digest, state.screen_token_hash):
        return SCREEN
    for p in state.participants:
        if hmac.compare_digest(digest, p.token_hash):
            if p.removed:
                raise Unauthorized("you were removed from this session")
            return Actor(role="participant", participant_id=p.id, key=marking_key(token, state.code))
    raise Unauthorized("that token does not belong to this session")
