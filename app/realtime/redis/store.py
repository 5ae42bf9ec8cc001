"""Sessions in Redis: the ``SessionStore`` for several workers and hosts.

Each session is one hash, ``{prefix}s:{code}``: the state's JSON (``record``) as it may be
stored (``at_rest``: presence as the room was shown it, pending items in an order of chance),
who is online apart from what the room is shown (``presence``), a revision that every write
bumps, and the acks that make commands idempotent, each in a field of its own (``k:{key}``,
sealed; ``n:{number}`` and the count ``acks`` keep their order, so the oldest go past
``MAX_ACKS``). A command reads and writes its own ack and no other: a session's thousandth
command costs what its first did, and no worker parses a session's acks to follow its
changes. (A record written before acks had fields of their own holds them in its JSON: they
are read from there and move to their fields at the session's next write.) A write sets only
the fields that moved: an anonymous act writes the record and never ``presence``; a socket
opening or closing writes ``presence`` (and the record only if its fold time moved). ``presence`` is
written unlogged and unreplicated (as the leases in ``presence.py``), so an append-only file
or a replica holds each anonymous act with nothing of its author's, and no time anyone's
socket opened or closed; a Redis restarted from its file has everyone as the room was shown
them, until the workers' next heartbeat finds their sockets again. (A session whose
``presence`` is missing lost it so: everyone shown connected is taken as having just gone,
and shown so after ``PRESENCE_OFF_S`` unless a heartbeat finds their socket first.)

A change is compare-and-set: one Lua script checks that the revision is still the one the
change was computed from, then in the same atomic step writes the record, sets its expiry, records
the session's next deadline (a turn's end or the fold timer's tick) in ``{prefix}deadlines``
and publishes the new version's number on the session's channel. So no update is lost,
every change is published exactly once, and a worker that dies right after a change
cannot take the deadline with it. Only the number goes out: each worker reads the record
itself, so a pub/sub listener learns when the room saw a change and nothing else. A quiet
change (the true tallies alone, same version) is written and published not at all.

A client's command costs one round trip when this worker wrote the session last: it keeps
the session as it wrote it (revision, the JSON's digest, presence), computes the change from that, and one
script (``_GATED_WRITE``) takes the session's fair share (``quotas.py``), checks that the
revision has not moved and writes. The record it is computed from is the one a read would
give back, so the result is the same. Otherwise (another worker wrote since, Redis lost the
presence, the change writes nothing or raises) it is two: the record is read in the same
script that takes the share (``_GATED_READ``), then written. A command over the share reads
and writes nothing. On a conflict the change is recomputed from the newer record (changes
are pure). Within one process, changes to one session queue on a lock first, so only other
processes can conflict and a burst of commands does not turn into a storm of retries.

A published state is ``{worker}:{revision}:{state json}``. Every worker subscribed to the
session parses the JSON, except the one that wrote it: it still holds the state it just
wrote (``published_here``), so its own change reaches its sockets without a parse.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import secrets
from collections.abc import Callable
from typing import Any, NamedTuple

from redis.asyncio import Redis

from app.facilitation.errors import Conflict
from app.facilitation.models import SessionState
from app.realtime.at_rest import Presence, at_rest, presence_lost, presence_of, stored_json, with_presence
from app.realtime.interfaces import MAX_ACKS, Change, Gate, Record, expires_at
from app.realtime.redis.limits import TAKE_BUCKETS, RedisLimits

log = logging.getLogger("talkingpiece.redis")

# KEYS: session hash, sessions index, deadlines.
# ARGV: expected revision ('' to create), record json ('-' unchanged), ttl ms, expires at, code,
#       deadline ('' none, '-' leave alone), channel ('' no publish), message, nudge channel,
#       presence json ('-' unchanged), acks to add (a JSON list of [key, ack], oldest first;
#       '' none), how many acks a session keeps.
_WRITE_FUNCTION = """
local function add_acks(key, added, most)
  for _, pair in ipairs(cjson.decode(added)) do
    if redis.call('HSETNX', key, 'k:' .. pair[1], pair[2]) == 1 then
      local n = redis.call('HINCRBY', key, 'acks', 1)
      redis.call('HSET', key, 'n:' .. n, pair[1])
      local old = n - most
      if old > 0 then
        local gone = redis.call('HGET', key, 'n:' .. old)
        if gone then redis.call('HDEL', key, 'k:' .. gone, 'n:' .. old) end
      end
    end
  end
end

local function write(KEYS, ARGV)
local rev = redis.call('HGET', KEYS[1], 'rev')
if ARGV[1] == '' then
  if rev then return 0 end
  rev = 0
elseif rev ~= ARGV[1] then
  return rev and 0 or -1
end
rev = tonumber(rev) + 1
redis.call('HSET', KEYS[1], 'rev', rev)
if ARGV[2] ~= '-' then redis.call('HSET', KEYS[1], 'record', ARGV[2]) end
if ARGV[11] ~= '' then add_acks(KEYS[1], ARGV[11], tonumber(ARGV[12])) end
if ARGV[10] ~= '-' then  -- presence is live: kept in memory, never logged or replicated
  redis.set_repl(redis.REPL_NONE)
  redis.call('HSET', KEYS[1], 'presence', ARGV[10])
  redis.set_repl(redis.REPL_ALL)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
if ARGV[6] == '' then
  redis.call('ZREM', KEYS[3], ARGV[5])
elseif ARGV[6] ~= '-' then
  local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
  if #first == 0 or tonumber(ARGV[6]) < tonumber(first[2]) then
    redis.call('PUBLISH', ARGV[9], ARGV[6])
  end
end
if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[7], ARGV[8]) end
return rev
end
"""
_WRITE = _WRITE_FUNCTION + "return write(KEYS, ARGV)\n"

# A command computed from the record this worker holds, written in one round trip with its
# fair share. KEYS: write's three, then the buckets. ARGV: write's twelve, the command's ack
# key ('' none), then take_buckets's. Returns {'0', 0} with nothing taken or written when the
# session moved on since that record (another worker wrote, it is gone, or its presence was
# lost) or the command was done before (its ack is kept: the record held here has no acks):
# the caller reads it the usual way. Else {wait} when the buckets are short (nothing
# written), or {'0', the new revision}.
_GATED_WRITE = TAKE_BUCKETS + _WRITE_FUNCTION + """
local rev = redis.call('HGET', KEYS[1], 'rev')
if rev ~= ARGV[1] or (ARGV[10] == '-' and redis.call('HEXISTS', KEYS[1], 'presence') == 0)
   or (ARGV[13] ~= '' and redis.call('HEXISTS', KEYS[1], 'k:' .. ARGV[13]) == 1) then
  return {'0', 0}
end
local buckets, take = {}, {}
for i = 4, #KEYS do buckets[i - 3] = KEYS[i] end
for i = 14, #ARGV do take[i - 13] = ARGV[i] end
local wait = take_buckets(buckets, take)
if wait ~= '0' then return {wait} end
return {'0', write(KEYS, ARGV)}
"""

# Set a session's deadline from a state read at revision ARGV[1], unless a newer write
# has already recorded its own. KEYS: session hash, deadlines. ARGV: revision, deadline or '', code.
_RECONCILE = """
local rev = redis.call('HGET', KEYS[1], 'rev')
if not rev then redis.call('ZREM', KEYS[2], ARGV[3]) return 1 end
if rev ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('ZREM', KEYS[2], ARGV[3]) else redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3]) end
return 1
"""

# Sessions whose time is up and whose key Redis has expired (EXISTS expires a key whose time
# has passed, if Redis has not yet): out of the index. KEYS: the index. ARGV: now, key prefix.
# One whose key is still there (a clock behind this worker's) stays for the next look.
_EXPIRED = """
local gone = 0
for _, code in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  if redis.call('EXISTS', ARGV[2] .. code) == 0 then
    redis.call('ZREM', KEYS[1], code)
    gone = gone + 1
  end
end
return gone
"""

# A command's fair share and the read it is computed from, in one round trip. KEYS: the
# session hash, then the buckets. ARGV: the command's ack field ('k:' and its key; '-' none),
# then take_buckets's (``limits.py``). Returns {wait} when the buckets are short (nothing is
# read), else {'0', rev, record, presence, ack}.
_GATED_READ = TAKE_BUCKETS + """
local buckets, take = {}, {}
for i = 2, #KEYS do buckets[i - 1] = KEYS[i] end
for i = 2, #ARGV do take[i - 1] = ARGV[i] end
local wait = take_buckets(buckets, take)
if wait ~= '0' then return {wait} end
local fields = redis.call('HMGET', KEYS[1], 'rev', 'record', 'presence', ARGV[1])
return {wait, fields[1], fields[2], fields[3], fields[4]}
"""

MAX_ATTEMPTS = 100
KEPT_PARSED = 1024  # sessions whose last write here is kept parsed (a room's worth of memory each)
# States written here whose message has not come back yet: one per session followed here at
# most (a few for milliseconds; under load, one for each room whose message waits in the queue).
# Past this the oldest is let go and its message is read back instead: dearer, and dearer
# still when it happens because the worker is already behind, so the bound is generous.
KEPT_WRITES = 4096

DeadlineOf = Callable[[SessionState], "float | None"]


def session_key(prefix: str, code: str) -> str:
    return f"{prefix}s:{code}"


def channel(prefix: str, code: str) -> str:
    return f"{prefix}c:{code}"


def deadlines_key(prefix: str) -> str:
    return f"{prefix}deadlines"


def nudge_channel(prefix: str) -> str:
    return f"{prefix}deadlines:nudge"


class _Stored(NamedTuple):
    """A session's fields as read (or as this worker wrote them): the revision, the digest of the
    record's JSON, presence, and the record they make together (true presence put back)."""

    rev: str
    digest: bytes  # of the record's JSON: whether a write would change it (the JSON itself is not kept)
    presence: Presence | None  # None: lost (Redis restarted from its file, or a replica took over)
    record: Record  # its acks: the command's own, if kept (and a record of before acks had fields, all)
    legacy: bool = False  # the record's JSON holds acks (written before they had fields of their own)


class RedisStore:
    def __init__(self, redis: Redis, *, prefix: str, clock: Callable[[], float],
                 closed_ttl_s: float, idle_ttl_s: float, deadline_of: DeadlineOf | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self._clock = clock
        self._closed_ttl_s = closed_ttl_s
        self._idle_ttl_s = idle_ttl_s
        self._deadline_of = deadline_of
        self.max_acks = MAX_ACKS
        self._write = redis.register_script(_WRITE)
        self._reconcile = redis.register_script(_RECONCILE)
        self._expired = redis.register_script(_EXPIRED)
        self._gated_read = redis.register_script(_GATED_READ)
        self._gated_write = redis.register_script(_GATED_WRITE)
        self._index = f"{prefix}sessions"
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self.worker = secrets.token_hex(6)  # names this store's messages on the sessions' channels
        self._published: dict[str, tuple[int, SessionState]] = {}  # code -> (revision, state) published here
        self._written: dict[str, tuple[bytes, Record]] = {}  # code -> (digest of its JSON, record) written here
        self._heads: dict[str, _Stored] = {}  # code -> the session as this worker last wrote it
        self.on_erased: Callable[[], None] = lambda: None  # a session's content left Redis (``rewrites.py``)
        # Whether a socket here follows a session (the broker's answer): only then does its
        # message come back here, so only then is the state kept for it.
        self.follows: Callable[[str], bool] = lambda code: True

    def published_here(self, code: str, worker: str, revision: int) -> SessionState | None:
        """The state this store published as ``revision`` of ``code``, if the message is its own."""
        if worker != self.worker:
            return None
        kept = self._published.get(code)
        if kept is None or kept[0] != revision:
            return None
        del self._published[code]
        return kept[1]

    def _keep(self, code: str, revision: int, state: SessionState) -> None:
        if self.follows(code):
            _newest(self._published, code, (revision, state), KEPT_WRITES)

    def _deadline_arg(self, state: SessionState) -> str:
        if self._deadline_of is None:
            return "-"
        when = self._deadline_of(state)
        return "" if when is None else repr(when)

    async def _put(self, expected: str, record: Record, publish: bool, was: "_Stored | None" = None,
                   gate: Gate | None = None, ack: str | None = None) -> int:
        """Compare-and-set; the new revision, 0 on a conflict, -1 when the session is gone.

        ``was``: what the fields held at ``expected``, so only those that moved are written.
        ``gate``: a share to take in the same step (``_GATED_WRITE``); then 0 also means
        nothing was taken or written (or the command ``ack`` names was done before), and the
        caller is to read the session the usual way."""
        code, now = record.state.code, self._clock()
        expiry = expires_at(record.state, self._closed_ttl_s, self._idle_ttl_s, now)
        stored = Record.model_construct(state=at_rest(record.state), acks={})
        raw = stored_json(stored)
        digest = _digest(raw)
        presence = presence_of(record.state)
        added = [(key, json.dumps(kept)) for key, kept in record.acks.items()
                 if was is None or was.legacy or key not in was.record.acks]
        if was is not None and digest == was.digest and presence == was.presence and not added:
            # Nothing stored moves (a socket noted, the room shown nothing new); with a share
            # still to take, the usual read takes it.
            return 0 if gate is not None else int(expected)
        raw_arg = "-" if was is not None and digest == was.digest else raw
        presence_arg = "-" if was is not None and presence == was.presence else json.dumps(presence)
        # Only names and numbers go out: this store's name, the revision and the version. A state
        # keeps true tallies and marks that no view shows, so it never travels on a channel.
        revision = int(expected) + 1 if publish else 0  # a new session (expected "") is not published
        message = f"{self.worker}:{revision}:{record.state.version}" if publish else ""
        if publish:  # kept before the write: its message may come back before the write's reply
            self._keep(code, revision, record.state)
        keys = [session_key(self.prefix, code), self._index, deadlines_key(self.prefix)]
        args = [expected, raw_arg, max(1, int((expiry - now) * 1000)), repr(expiry), code,
                self._deadline_arg(record.state), channel(self.prefix, code) if publish else "", message,
                nudge_channel(self.prefix), presence_arg, json.dumps(added) if added else "", self.max_acks]
        done = 0
        try:
            if gate is None:
                done = int(await self._write(keys=keys, args=args))
            else:
                more_keys, more_args = gate.limits.script_args("take", gate.buckets, gate.now)
                reply = await self._gated_write(keys=keys + more_keys, args=[*args, ack or "", *more_args])
                if float(reply[0]):
                    raise gate.refused(float(reply[0]))
                done = int(reply[1])
        finally:
            if publish and done != revision and self._published.get(code, (0, None))[1] is record.state:
                del self._published[code]  # not written (another worker was first, or it is gone): no message
        if done > 0:
            self._remember(code, digest, stored, str(done), presence)
        return done

    def _remember(self, code: str, digest: bytes, record: Record, rev: str, presence: Presence) -> None:
        """The record as this worker last wrote it, under its JSON's digest: the next command on
        the session here reads that same JSON back and need not parse it; and the session as it
        now stands in Redis, from which the next command here is computed without a read."""
        _newest(self._written, code, (digest, record), KEPT_PARSED)
        state = with_presence(record.state, presence)
        _newest(self._heads, code, _Stored(rev, digest, presence, record.model_copy(update={"state": state})), KEPT_PARSED)

    async def create(self, record: Record) -> bool:
        return await self._put("", record, publish=False) > 0

    async def _gated_get(self, code: str, gate: Gate, ack: str | None = None) -> "_Stored | None":
        """``_get`` after taking the gate's tokens, in one round trip when they are kept in this
        Redis (a command's session share); refused with nothing read when they are short."""
        if not self._gates_here(gate):
            await gate.take()
            return await self._get(code, ack)
        limits = gate.limits
        assert isinstance(limits, RedisLimits)
        keys, args = limits.script_args("take", gate.buckets, gate.now)
        reply = await self._gated_read(keys=[session_key(self.prefix, code), *keys], args=[_ack_field(ack), *args])
        wait = float(reply[0])
        if wait:
            raise gate.refused(wait)
        return self._stored(code, *reply[1:5], ack=ack)

    def _gates_here(self, gate: Gate) -> bool:
        """Whether the gate's buckets are kept in this Redis, so a script can take them."""
        return isinstance(gate.limits, RedisLimits) and gate.limits.redis is self.redis

    async def _get(self, code: str, ack: str | None = None) -> "_Stored | None":
        fields = ["rev", "record", "presence", _ack_field(ack)]
        return self._stored(code, *await self.redis.hmget(session_key(self.prefix, code), fields), ack=ack)

    def _stored(self, code: str, rev: str | None, raw: str | None, presence: str | None, kept: str | None = None,
                ack: str | None = None) -> "_Stored | None":
        """The session as read: ``kept`` is the ack of the command ``ack`` names, if it was done."""
        if rev is None or raw is None:
            return None
        digest, written = _digest(raw), self._written.get(code)
        if written is not None and written[0] == digest:
            record = written[1]  # what this worker wrote last, and nobody since: no parse
        else:
            record = Record.model_validate_json(raw)
        legacy = bool(record.acks)
        acks = {**record.acks, ack: json.loads(kept)} if kept is not None and ack else record.acks
        live: Presence | None = json.loads(presence) if presence is not None else None
        state = with_presence(record.state, live) if live is not None else presence_lost(record.state, self._clock())
        return _Stored(rev, digest, live, record.model_copy(update={"state": state, "acks": acks}), legacy)

    async def load(self, code: str) -> Record | None:
        found = await self._get(code)
        return found.record if found else None

    async def update(self, code: str, change: Change, gate: Gate | None = None,
                     ack: str | None = None) -> tuple[Record, bool]:
        lock, users = self._locks.get(code) or (asyncio.Lock(), 0)
        self._locks[code] = (lock, users + 1)
        try:
            async with lock:
                return await self._update(code, change, gate, ack)
        finally:
            lock, users = self._locks[code]
            if users <= 1:
                del self._locks[code]
            else:
                self._locks[code] = (lock, users - 1)

    async def _update(self, code: str, change: Change, gate: Gate | None = None,
                      ack: str | None = None) -> tuple[Record, bool]:
        head = self._heads.get(code) if gate is not None and self._gates_here(gate) else None
        if head is not None:
            # The session as this worker last wrote it: if nobody has written since,
            # the command's share, the check and the write are one round trip. Otherwise (or
            # for a change that writes nothing or is refused) the usual read, which takes the share.
            try:
                new = change(head.record)
            except Exception:
                new = None
            if new is not None and await self._put(head.rev, new, publish=new.state.version != head.record.state.version,
                                                   was=head, gate=gate, ack=ack) > 0:
                return new, True
        for attempt in range(MAX_ATTEMPTS):
            found = await (self._get(code, ack) if attempt or gate is None else self._gated_get(code, gate, ack))
            if found is None:
                raise KeyError(code)
            rev, record = found.rev, found.record
            new = change(record)
            if new is None:
                return record, False
            done = await self._put(rev, new, publish=new.state.version != record.state.version, was=found)
            if done > 0:
                return new, True
            if done < 0:
                raise KeyError(code)
            # Another worker wrote first: recompute from its record, after a short random
            # pause once conflicts repeat so the workers stop colliding in step.
            if attempt >= 2:
                await asyncio.sleep(random.uniform(0, 0.002 * min(attempt, 25)))
        log.warning("session %s: gave up after %d conflicting writes", code, MAX_ATTEMPTS)
        raise Conflict("the session is busy; try again")

    async def reconcile_deadline(self, code: str) -> None:
        """Record the session's true next deadline (after a deadline fired, or was found stale)."""
        found = await self._get(code)
        if found is None:
            await self._reconcile(keys=[session_key(self.prefix, code), deadlines_key(self.prefix)],
                                  args=["", "", code])
            return
        rev, record = found.rev, found.record
        when = self._deadline_of(record.state) if self._deadline_of else None
        await self._reconcile(keys=[session_key(self.prefix, code), deadlines_key(self.prefix)],
                              args=[rev, "" if when is None else repr(when), code])

    def forget(self, code: str) -> None:
        """Let go of what this worker holds of a session: it was erased (here, or on another
        worker, whose tombstone came on the session's channel), so its content leaves memory too."""
        self._heads.pop(code, None)
        self._written.pop(code, None)
        self._published.pop(code, None)

    async def delete(self, code: str) -> None:
        self.forget(code)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(session_key(self.prefix, code))
            pipe.zrem(self._index, code)
            pipe.zrem(deadlines_key(self.prefix), code)
            await pipe.execute()
        self.on_erased()

    async def expired(self) -> int:
        """How many sessions Redis has expired (their time is up) since the last look."""
        gone = int(await self._expired(keys=[self._index], args=[repr(self._clock()), session_key(self.prefix, "")]))
        if gone:
            self.on_erased()
        return gone

    async def count(self) -> int:
        """Sessions not yet expired, from an index kept with each write (no key scan)."""
        await self.expired()
        return int(await self.redis.zcard(self._index))

    async def close(self) -> None:
        pass  # the connection pool belongs to the runtime


def _ack_field(ack: str | None) -> str:
    """The hash field of a command's ack ('-', a field never written, for a command without one)."""
    return f"k:{ack}" if ack else "-"


def _digest(raw: str) -> bytes:
    return hashlib.blake2b(raw.encode(), digest_size=16).digest()


def _newest(kept: dict[str, Any], code: str, value: Any, limit: int) -> None:
    """``kept[code] = value`` as the newest entry, the oldest let go past ``limit``."""
    kept.pop(code, None)
    kept[code] = value
    if len(kept) > limit:
        del kept[next(iter(kept))]
