"""The shell's interfaces, and the records that cross them.

Each interface has an in-memory or SQLite implementation for the embedded default
(``memory/``, ``sqlite/``) and a Redis one for several workers and hosts (``redis/``).
``runtime.build_runtime`` picks one of each; nothing else names an implementation.

- ``SessionStore``: a session's record, changed atomically (compare-and-set in Redis).
- ``Broker``: fan-out of each new state to every process with sockets for the session.
- ``Deadlines``: a timer per running turn that asks the service to end it on time.
- ``GroupStore``: recurring groups, which outlive their sessions.

A record is the session's state plus the acknowledgements of the commands it has
applied, keyed by a hash of (token, command id), so a retried command is answered
with its first acknowledgement instead of being applied twice. The key needs the raw
token, which the store never holds, so reading the store does not link a participant
to what they sent.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple, Protocol

from pydantic import BaseModel
from redis.exceptions import RedisError

from app.facilitation.models import SessionState, Status

# What a store, broker or limit raises while its server is unreachable (stopped, frozen,
# restarting, or every connection busy past the pool's timeout). Callers answer "try
# again shortly" (HTTP 503, an ``unavailable`` error frame) and leave every session as it was.
UNAVAILABLE: tuple[type[Exception], ...] = (RedisError, OSError)
UNAVAILABLE_RETRY_S = 5

# ------------------------------------------------------------------ sessions

MAX_ACKS = 5000


class Record(BaseModel):
    state: SessionState
    acks: dict[str, dict[str, Any]] = {}

    def remember(self, key: str, ack: dict[str, Any]) -> dict[str, dict[str, Any]]:
        acks = dict(self.acks)
        acks[key] = ack
        while len(acks) > MAX_ACKS:
            acks.pop(next(iter(acks)))
        return acks


# ``change`` returns the new record, or None when nothing changed; it may raise, and
# may be called more than once (optimistic concurrency), so it must be pure.
Change = Callable[[Record], "Record | None"]


class SessionStore(Protocol):
    async def create(self, record: Record) -> bool:
        """Store a new session; False if its code is taken."""

    async def load(self, code: str) -> Record | None: ...

    async def update(self, code: str, change: Change, gate: "Gate | None" = None,
                     ack: str | None = None) -> tuple[Record, bool]:
        """Apply ``change`` atomically to the latest record: (record, changed).

        With a ``gate``, its tokens are taken first, and when they are short its refusal is
        raised with nothing read or changed. ``ack``: the key of the command's remembered ack,
        the only one ``change`` looks up: the record given to it may hold that ack alone
        (Redis keeps each apart, so that a command's cost does not grow with the session's).
        Raises ``KeyError`` when the session does not exist (or has expired).
        """

    async def delete(self, code: str) -> None: ...

    async def count(self) -> int: ...

    async def close(self) -> None: ...


EXPIRY_GRAIN = 0.01  # of the idle time: an open session's expiry is rounded up to this share of it


def expires_at(state: SessionState, closed_ttl_s: float, idle_ttl_s: float, now: float) -> float:
    """When a session's content must be gone: confidential by default.

    An open session's expiry moves with every change, so it is kept rounded up (to about
    an hour and a half for the default week): stored exactly it would date each version of
    the record, and with it each anonymous act, to the microsecond.
    """
    if state.status is Status.closed and state.closed_at is not None:
        return state.closed_at + closed_ttl_s
    grain = idle_ttl_s * EXPIRY_GRAIN
    return math.ceil((now + idle_ttl_s) / grain) * grain if grain > 0 else now + idle_ttl_s



# ------------------------------------------------------------------ fan-out

Deliver = Callable[[SessionState], None]
Gone = Callable[[str], None]  # the session is gone; the argument says why, for the close frame
ERASED_REASON = "the session was erased"
MISSING_REASON = "no session with that code"


class Broker(Protocol):
    async def publish(self, state: SessionState) -> None: ...

    async def erased(self, code: str) -> None:
        """Tell every process the session was erased, so each closes its sockets at once."""

    def subscribe(self, code: str, deliver: Deliver, gone: Gone) -> Any:
        """An async context manager: ``deliver`` gets each new state of the session while
        inside, ``gone(reason)`` is called when the session is erased, or found missing
        when the broker re-reads it after a lost connection (Redis restarted without it)."""

    async def close(self) -> None: ...



# ------------------------------------------------------------------ turn deadlines

class Deadlines(Protocol):
    """Something that calls ``service.expire(code)`` once a turn's deadline has passed."""

    def schedule(self, code: str, when: float | None) -> None: ...

    async def close(self) -> None: ...



# ------------------------------------------------------------------ rate limits

class Bucket(NamedTuple):
    """A token bucket: ``rate`` tokens a second, holding at most ``burst``; full when new."""

    key: str
    rate: float
    burst: float


class Gate(NamedTuple):
    """A fair share a change must get before it is made: a token from each of ``buckets`` in
    ``limits`` at ``now``, or ``refused(wait)`` is raised. A store that can takes it in the
    same round trip as its read of the record (Redis: one script), instead of one of its own
    before every command."""

    limits: "Limits"
    buckets: tuple[Bucket, ...]
    now: float
    refused: Callable[[float], Exception]

    async def take(self) -> None:
        """Take the tokens on their own (a store that cannot fold them into its read)."""
        wait = await self.limits.take(self.buckets, self.now)
        if wait:
            raise self.refused(wait)


class Limits(Protocol):
    """Token buckets shared by every worker (Redis) or kept by this process (memory).

    Times come from the caller's clock, so tests can move them and workers on one Redis
    agree on what "now" means for a bucket they share.
    """

    async def take(self, buckets: Sequence[Bucket], now: float) -> float:
        """Take a token from each bucket, all or none: 0.0 when taken, else the seconds
        until every bucket would have one (nothing is taken then)."""

    async def spend(self, bucket: Bucket, now: float) -> None:
        """Take a token whatever the level (down to empty): a charge after the fact."""

    async def wait(self, bucket: Bucket, now: float) -> float:
        """Seconds until the bucket has a token; 0.0 if it has one now. Takes nothing."""



# ------------------------------------------------------------------ open sockets, across workers

class Presence(Protocol):
    """How many live sockets are open for a key, counted over every worker.

    Keys name what is counted: ``presence_key(code, pid)`` a participant's sockets (so
    ``connected`` follows the person, not one worker's view of them), ``token_key(hash)``
    a token's (capped). In Redis each worker's counts are leased and kept alive by its
    heartbeat; when a worker dies its lease runs out, a surviving worker takes its counts
    away and calls ``on_lost`` for each key nobody holds any more.
    """

    async def arrive(self, key: str, cap: int | None = None) -> tuple[bool, bool]:
        """Count one more socket: (admitted, first anywhere). Not admitted, and not
        counted, when ``cap`` sockets are open for the key already."""

    async def depart(self, key: str) -> bool:
        """Count one socket fewer: True when it was the last one anywhere."""

    async def start(self, on_lost: Callable[[str], Awaitable[None]], on_found: Callable[[str], Awaitable[None]]) -> None:
        """From now on: ``on_lost(key)`` when nobody holds a key any more (a worker died),
        ``on_found(key)`` when a key is held again after its counts were lost."""

    async def close(self) -> None: ...


def presence_key(code: str, participant_id: str) -> str:
    return f"p|{code}|{participant_id}"


def seat_key(code: str, seat: str) -> str:
    """A facilitation seat's consoles (the lead's dropping hands over to a co-facilitator)."""
    return f"f|{code}|{seat}"


def seat_of(key: str) -> tuple[str, str] | None:
    """(code, seat) of a seat's key; None for any other key."""
    kind, _, rest = key.partition("|")
    code, _, seat = rest.partition("|")
    return (code, seat) if kind == "f" and seat else None


def token_key(token_hash: str) -> str:
    return f"t|{token_hash}"


def participant_of(key: str) -> tuple[str, str] | None:
    """(code, participant id) of a presence key; None for any other key."""
    kind, _, rest = key.partition("|")
    code, _, pid = rest.partition("|")
    return (code, pid) if kind == "p" and pid else None



# ------------------------------------------------------------------ recurring groups

class GroupRecord(BaseModel):
    id: str
    name: str
    key_hash: str
    created_at: float
    statements: list[str] | None = None  # the group's own evaluation statements (None: the format's)
    least_heard_first: bool = False  # the group's option: rounds and the queue start with last time's least heard
    report_hash: str | None = None  # a SHA-256 of the read-only report link's key, while one exists
    # The group's rota of who facilitates: [{member_id, name}] in order, and the index of who
    # facilitates the next session. Options, not the record: the record keeps no row per person.
    rota: list[dict[str, str]] = []
    rota_next: int = 0


class MemberRecord(BaseModel):
    id: str
    group_id: str
    carried: list[dict[str, Any]] = []  # [{id, text, due}] chosen at the close of ``carried_at``
    carried_at: float = 0.0  # when the session these came from closed
    heard_least: bool = False  # in the quieter half of floor time at the last meeting they took part in
    cpd_key: str | None = None  # the public half of the key pair their member code yields (seals their CPD entries)


class GroupStore(Protocol):
    async def create_group(self, group: GroupRecord) -> None: ...

    async def load_group(self, group_id: str) -> GroupRecord | None: ...

    async def add_member(self, group_id: str, member_id: str, code_hash: str) -> None: ...

    async def find_member(self, group_id: str, code_hash: str) -> MemberRecord | None: ...

    async def count_members(self, group_id: str) -> int: ...

    async def carry(self, group_id: str, carried: dict[str, list[dict[str, Any]]], closed_at: float) -> None:
        """Replace each listed member's carried actions with these, unless what they hold
        already came from a session that closed later (so replays and late changes to an
        older session never overwrite newer plans)."""

    async def set_least_heard_first(self, group_id: str, on: bool) -> None: ...

    async def note_heard(self, group_id: str, heard_least: dict[str, bool], closed_at: float) -> None:
        """Per member who took part, whether they were in the quieter half, unless what they
        hold came from a session that closed later."""

    async def set_statements(self, group_id: str, statements: list[str] | None) -> None:
        """The group's own evaluation statements (None: back to each format's)."""

    async def save_rota(self, group_id: str, rota: list[dict[str, str]], next_index: int, closed_at: float) -> None:
        """The rota and who facilitates next, as a session that closed at ``closed_at`` left it,
        unless what the group holds came from a session that closed later."""

    async def add_meeting(self, group_id: str, meeting: dict[str, Any]) -> None:
        """Keep one meeting's aggregate row (``facilitation.record.meeting_of``), replacing
        the row of the same id; at most ``record.MAX_MEETINGS``, the oldest go first."""

    async def meetings(self, group_id: str) -> list[dict[str, Any]]: ...

    async def set_cpd_key(self, group_id: str, member_id: str, public_key: str) -> None:
        """The public key a member's CPD entries are sealed to (derived from their code)."""

    async def add_cpd(self, group_id: str, entries: dict[str, dict[str, Any]]) -> None:
        """Per member, keep one sealed entry ``{id, at, sealed, reflection}``, replacing the entry
        of the same id, unless the member erased their record after it; at most
        ``cpd.MAX_ENTRIES`` per member, the oldest go first."""

    async def cpd_entries(self, group_id: str, member_id: str) -> list[dict[str, Any]]: ...

    async def erase_cpd(self, group_id: str, member_id: str, at: float) -> None:
        """Forget the member's CPD entries, and refuse any from a session closed by ``at``."""

    async def set_report_hash(self, group_id: str, key_hash: str | None) -> None:
        """The hash of the read-only report link's key (None: revoke it)."""

    async def erase_record(self, group_id: str, at: float) -> None:
        """Forget every meeting's row, and refuse any row of a meeting that closed by ``at``
        (a late change to an old session must not bring it back)."""

    async def load_doc(self, group_id: str, name: str) -> Any | None:
        """One of the group's documents between meetings (``between``: its agreement, topics,
        plan and schedule; ``journal:{member_id}``: a member's sealed journal), or None."""

    async def change_doc(self, group_id: str, name: str, change: Callable[[Any | None], Any | None], *,
                         erases: bool = False) -> Any | None:
        """Replace the document with ``change(current)`` atomically (``change`` may run more than
        once, so it must be pure; returning None deletes it); answers the new document. Nothing
        is written for a group that does not exist, nor for a member who is not of the group.
        ``erases``: the change removes what its owner asked to be forgotten, so the store's
        history of it goes too (the file's log emptied, Redis's append-only file rewritten)."""

    async def close(self) -> None: ...
