"""Sessions in Redis: the ``SessionStore`` for several workers and hosts.

Each session is one hash, ``{prefix}s:{code}``, with the record's JSON (state and the acks
that make commands idempotent) and its version. A change is compare-and-set: one Lua
script checks that the version is still the one the change was computed from, writes,
sets the expiry and publishes the new state on the session's channel, all in one atomic
step, so no update is lost and every change is published exactly once. On a conflict
the change is recomputed from the newer record (changes are pure, so that is safe).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from redis.asyncio import Redis

from .store import Change, Record, expires_at

log = logging.getLogger("talkingpiece.redis")

# KEYS[1] session hash; ARGV: expected version ('' for create), new version, record json,
# ttl ms, channel, state json to publish ('' to skip).
_WRITE = """
local current = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'record', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[6] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
return 1
"""

MAX_RETRIES = 50


def session_key(prefix: str, code: str) -> str:
    return f"{prefix}s:{code}"


def channel(prefix: str, code: str) -> str:
    return f"{prefix}c:{code}"


class RedisStore:
    def __init__(self, redis: Redis, *, prefix: str, clock: Callable[[], float],
                 closed_ttl_s: float, idle_ttl_s: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self._clock = clock
        self._closed_ttl_s = closed_ttl_s
        self._idle_ttl_s = idle_ttl_s
        self._write = redis.register_script(_WRITE)

    def _ttl_ms(self, record: Record) -> int:
        now = self._clock()
        return max(1, int((expires_at(record.state, self._closed_ttl_s, self._idle_ttl_s, now) - now) * 1000))

    async def _put(self, code: str, expected: str, record: Record, publish: bool) -> bool:
        state_json = record.state.model_dump_json() if publish else ""
        done = await self._write(
            keys=[session_key(self.prefix, code)],
            args=[expected, str(record.state.version), record.model_dump_json(), self._ttl_ms(record),
                  channel(self.prefix, code), state_json])
        return bool(done)

    async def create(self, record: Record) -> bool:
        return await self._put(record.state.code, "", record, publish=False)

    async def _get(self, code: str) -> tuple[str, Record] | None:
        version, raw = await self.redis.hmget(session_key(self.prefix, code), ["v", "record"])
        if version is None or raw is None:
            return None
        return version, Record.model_validate_json(raw)

    async def load(self, code: str) -> Record | None:
        found = await self._get(code)
        return found[1] if found else None

    async def update(self, code: str, change: Change) -> tuple[Record, bool]:
        for _ in range(MAX_RETRIES):
            found = await self._get(code)
            if found is None:
                raise KeyError(code)
            version, record = found
            new = change(record)
            if new is None:
                return record, False
            if await self._put(code, version, new, publish=True):
                return new, True
        raise RuntimeError(f"session {code}: too much contention, gave up after {MAX_RETRIES} tries")

    async def delete(self, code: str) -> None:
        await self.redis.delete(session_key(self.prefix, code))

    async def count(self) -> int:
        n = 0
        async for _ in self.redis.scan_iter(match=session_key(self.prefix, "*"), count=1000):
            n += 1
        return n

    async def close(self) -> None:
        pass  # the connection pool belongs to the runtime
