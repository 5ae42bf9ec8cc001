"""Token buckets in Redis, shared by every worker: the ``Limits`` of Redis mode.

Each bucket is a small hash, ``{prefix}rl:{key}`` (tokens, at), that expires once it
would be full again, so idle addresses and tokens cost nothing. One script reads,
refills and takes from every bucket of a call at once, so "all or none" holds across
workers. Times are the caller's, and a clock that runs behind another worker's never
refills a bucket backwards.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from app.realtime.interfaces import Bucket

# take_buckets(keys, argv): the buckets ``keys``; argv: now, mode ('take' | 'spend' | 'wait'),
# then rate and burst per key. Returns the wait in seconds, as a string (Lua numbers would
# come back as integers). A function, so that another script can take tokens with its own work.
TAKE_BUCKETS = """
local function take_buckets(keys, argv)
  local now, mode = tonumber(argv[1]), argv[2]
  local levels, wait = {}, 0
  for i, key in ipairs(keys) do
    local rate, burst = tonumber(argv[1 + 2 * i]), tonumber(argv[2 + 2 * i])
    local saved = redis.call('HMGET', key, 't', 'at')
    local tokens, at = tonumber(saved[1]) or burst, tonumber(saved[2]) or now
    tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
    levels[i] = tokens
    if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
  end
  if mode == 'wait' or (mode == 'take' and wait > 0) then return tostring(wait) end
  for i, key in ipairs(keys) do
    local rate, burst = tonumber(argv[1 + 2 * i]), tonumber(argv[2 + 2 * i])
    redis.call('HSET', key, 't', tostring(math.max(0, levels[i] - 1)), 'at', tostring(now))
    redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
  end
  return '0'
end
"""

# KEYS: the buckets. ARGV: as take_buckets's.
_BUCKETS = TAKE_BUCKETS + "return take_buckets(KEYS, ARGV)\n"


class RedisLimits:
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}rl:"
        self._script = redis.register_script(_BUCKETS)

    def script_args(self, mode: str, buckets: Sequence[Bucket], now: float) -> tuple[list[str], list[str]]:
        """The keys and arguments of ``take_buckets`` for these buckets (another script's too)."""
        args: list[str] = [repr(now), mode]
        for bucket in buckets:
            args += [repr(float(bucket.rate)), repr(float(bucket.burst))]
        return [self.prefix + b.key for b in buckets], args

    async def _run(self, mode: str, buckets: Sequence[Bucket], now: float) -> float:
        keys, args = self.script_args(mode, buckets, now)
        return float(await self._script(keys=keys, args=args))

    async def take(self, buckets: Sequence[Bucket], now: float) -> float:
        return await self._run("take", buckets, now)

    async def spend(self, bucket: Bucket, now: float) -> None:
        await self._run("spend", [bucket], now)

    async def wait(self, bucket: Bucket, now: float) -> float:
        return await self._run("wait", [bucket], now)
