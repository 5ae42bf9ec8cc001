"""Open sockets counted across workers in Redis, each worker's counts leased (``Presence``).

Keys, under the prefix: ``workers``, a sorted set of worker ids scored by when each
worker's lease runs out, and ``worker:{id}``, a hash of that worker's counts (key -> open
sockets). A socket arriving or leaving changes its worker's hash and reads the others'
in one script, so "first anywhere" and "last anywhere" hold across workers, and a cap
(a token's sockets) counts every worker's.

Every ``heartbeat_s`` a worker renews its lease and looks for workers whose lease has run
out: one survivor takes each dead worker's hash away (atomically, so only one does), and
``on_lost`` is called for every key that no live worker holds any more; for a participant
that marks them not connected. So a worker killed with its sockets open leaves its
participants shown as connected for at most ``ttl_s + heartbeat_s``. A worker that stops
cleanly expires its own lease and sweeps itself at once.

A worker that was frozen past its lease, or whose Redis restarted empty, finds its lease
gone at its next beat; so does one whose writes failed during an outage. It then writes
its hash again from its own tally and calls ``on_found`` for each participant it holds
(and ``on_lost`` for departures it could not record), so the views come right again.

The scripts read the live workers' hashes by name, keys built inside the script: fine on
one Redis primary, which is all the app supports (no Cluster).

Presence is live state, and its history would name people: a phone that wakes to send
opens a socket just before its anonymous act and closes it just after, and an append-only
file or a replica keeps every write in order. So every write of presence (here, and the
session's ``presence`` field in ``store.py``) is made by a script that tells Redis not to
propagate it (``redis.set_repl(redis.REPL_NONE)``): it is in the primary's memory only,
never in the append-only file or on a replica. A Redis that restarts, or a replica that
takes over, has none of it; each worker finds its lease gone at its next beat and writes
its counts again, as after any outage.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from app.realtime import metrics, tasks
from app.realtime.interfaces import UNAVAILABLE, participant_of, seat_of

log = logging.getLogger("talkingpiece.presence")

# Every script here starts with this: what it writes is never logged or replicated.
_LIVE_ONLY = "redis.set_repl(redis.REPL_NONE)\n"

_TOTAL = _LIVE_ONLY + """
local function total(key, skip)
  local n = 0
  for _, w in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf')) do
    if w ~= skip then n = n + tonumber(redis.call('HGET', ARGV[1] .. w, key) or '0') end
  end
  return n
end
"""

# KEYS: workers. ARGV: hash prefix, now, own id, key, cap ('' none), hash ttl ms.
# Returns {admitted, open before}.
_ARRIVE = _TOTAL + """
local own = ARGV[1] .. ARGV[3]
local before = total(ARGV[4], ARGV[3]) + tonumber(redis.call('HGET', own, ARGV[4]) or '0')
if ARGV[5] ~= '' and before >= tonumber(ARGV[5]) then return {0, before} end
redis.call('HINCRBY', own, ARGV[4], 1)
redis.call('PEXPIRE', own, ARGV[6])
return {1, before}
"""

# KEYS: workers. ARGV: hash prefix, now, own id, key. Returns how many stay open anywhere.
_DEPART = _TOTAL + """
local own = ARGV[1] .. ARGV[3]
local left = redis.call('HINCRBY', own, ARGV[4], -1)
if left <= 0 then redis.call('HDEL', own, ARGV[4]) left = 0 end
return left + total(ARGV[4], ARGV[3])
"""

# KEYS: workers. ARGV: hash prefix, now, key. How many are open anywhere.
_COUNT = _TOTAL + """
return total(ARGV[3], '')
"""

# KEYS: workers. ARGV: hash prefix, now. Takes away the hashes of workers whose lease ran
# out; returns the keys they held that no live worker holds.
_SWEEP = _TOTAL + """
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, 20)
local held = {}
for _, w in ipairs(dead) do
  redis.call('ZREM', KEYS[1], w)
  for _, key in ipairs(redis.call('HKEYS', ARGV[1] .. w)) do held[key] = true end
  redis.call('DEL', ARGV[1] .. w)
end
local lost = {}
for key, _ in pairs(held) do
  if total(key, '') == 0 then lost[#lost + 1] = key end
end
return lost
"""


# KEYS: workers. ARGV: own id, lease end. Renews this worker's lease if it still has one: 1, else 0.
_RENEW = _LIVE_ONLY + """
return redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[2], ARGV[1])
"""

# KEYS: workers, own hash. ARGV: own id, lease end, hash ttl ms, then key, count pairs.
_REWRITE = _LIVE_ONLY + """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('DEL', KEYS[2])
if #ARGV > 3 then
  redis.call('HSET', KEYS[2], unpack(ARGV, 4))
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return 1
"""

# KEYS: workers. ARGV: own id. Ends this worker's lease at once.
_LEAVE = _LIVE_ONLY + """
return redis.call('ZADD', KEYS[1], 0, ARGV[1])
"""


class RedisPresence:
    def __init__(self, redis: Redis, *, prefix: str, clock: Callable[[], float],
                 ttl_s: float = 30.0, heartbeat_s: float = 10.0) -> None:
        self.redis = redis
        self.worker = secrets.token_hex(6)
        self._workers = f"{prefix}workers"
        self._hashes = f"{prefix}worker:"
        self._clock = clock
        self.ttl_s = ttl_s
        self.heartbeat_s = heartbeat_s
        self._tally: Counter[str] = Counter()  # what this worker holds, as it believes
        self._dirty = True  # Redis may not match the tally: write it again at the next beat
        self._unsettled: set[str] = set()  # departures Redis did not hear of
        self._arrive = redis.register_script(_ARRIVE)
        self._depart = redis.register_script(_DEPART)
        self._count = redis.register_script(_COUNT)
        self._sweep = redis.register_script(_SWEEP)
        self._renew = redis.register_script(_RENEW)
        self._rewrite_script = redis.register_script(_REWRITE)
        self._leave = redis.register_script(_LEAVE)
        self._task: asyncio.Task[None] | None = None
        self.on_lost: Callable[[str], Awaitable[None]] | None = None
        self.on_found: Callable[[str], Awaitable[None]] | None = None

    @property
    def _own(self) -> str:
        return self._hashes + self.worker

    def _hash_ttl_ms(self) -> int:
        return int(self.ttl_s * 10 * 1000)  # outlives the lease: a survivor must find it to sweep it

    async def arrive(self, key: str, cap: int | None = None) -> tuple[bool, bool]:
        try:
            admitted, before = await self._arrive(keys=[self._workers], args=[
                self._hashes, repr(self._clock()), self.worker, key, "" if cap is None else cap, self._hash_ttl_ms()])
        except UNAVAILABLE:
            if cap is not None:
                raise  # a cap that cannot be checked is not granted
            self._tally[key] += 1
            self._dirty = True
            raise
        if not admitted:
            return False, False
        self._tally[key] += 1
        return True, int(before) == 0

    async def depart(self, key: str) -> bool:
        self._tally[key] -= 1
        if self._tally[key] <= 0:
            del self._tally[key]
        try:
            left = await self._depart(keys=[self._workers], args=[self._hashes, repr(self._clock()), self.worker, key])
        except UNAVAILABLE:
            self._dirty = True
            self._unsettled.add(key)
            raise
        return int(left) == 0

    async def start(self, on_lost: Callable[[str], Awaitable[None]], on_found: Callable[[str], Awaitable[None]]) -> None:
        self.on_lost, self.on_found = on_lost, on_found
        await self.beat()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="presence-heartbeat")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except UNAVAILABLE as exc:
                self._dirty = True
                metrics.redis_error("presence")
                log.warning("presence heartbeat failed (%s); retrying", type(exc).__name__)

    async def beat(self) -> None:
        """Renew this worker's lease, rewrite its counts if they may be wrong, sweep the dead."""
        now = self._clock()
        renewed = int(await self._renew(keys=[self._workers], args=[self.worker, repr(now + self.ttl_s)]))
        if not renewed or self._dirty:
            await self._rewrite(now)
        for key in await self._sweep(keys=[self._workers], args=[self._hashes, repr(now)]):
            await self._lost(key)

    async def _rewrite(self, now: float) -> None:
        tally = {k: n for k, n in self._tally.items() if n > 0}
        await self._rewrite_script(keys=[self._workers, self._own], args=[
            self.worker, repr(now + self.ttl_s), self._hash_ttl_ms(), *(x for kv in tally.items() for x in kv)])
        self._dirty = False
        for key in tally:
            if self.on_found is not None and (participant_of(key) or seat_of(key)):
                await self._call(self.on_found, key)
        for key in list(self._unsettled):
            self._unsettled.discard(key)
            if key not in self._tally and int(await self._count(keys=[self._workers], args=[
                    self._hashes, repr(now), key])) == 0:
                await self._lost(key)

    async def _lost(self, key: str) -> None:
        if self.on_lost is not None and (participant_of(key) or seat_of(key)):
            await self._call(self.on_lost, key)

    async def _call(self, hook: Callable[[str], Awaitable[None]], key: str) -> None:
        try:
            await hook(key)
        except Exception as exc:  # one session's failure must not stop the heartbeat
            log.warning("presence: updating %s failed (%s)", participant_of(key), type(exc).__name__)

    async def close(self) -> None:
        """Leave at once: expire this worker's lease and sweep it, so its people show as gone now."""
        await tasks.stop(self._task)
        try:
            await self._leave(keys=[self._workers], args=[self.worker])
            for key in await self._sweep(keys=[self._workers], args=[self._hashes, repr(self._clock())]):
                await self._lost(key)
        except UNAVAILABLE:
            pass  # the lease runs out by itself and another worker sweeps it
