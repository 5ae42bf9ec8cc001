"""Token buckets in this process's memory: the embedded default's ``Limits``.

Keys are bounded (least recently used dropped first), so a flood of addresses or tokens
cannot grow memory without limit; a dropped key starts again with a full bucket.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from app.realtime.interfaces import Bucket


class LocalLimits:
    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def _level(self, bucket: Bucket, now: float) -> float:
        tokens, at = self._levels.get(bucket.key, (bucket.burst, now))
        return min(bucket.burst, tokens + max(0.0, now - at) * bucket.rate)

    def _set(self, key: str, tokens: float, now: float) -> None:
        self._levels[key] = (tokens, now)
        self._levels.move_to_end(key)
        while len(self._levels) > self.max_keys:
            self._levels.popitem(last=False)

    async def take(self, buckets: Sequence[Bucket], now: float) -> float:
        levels = [self._level(b, now) for b in buckets]
        wait = max([(1 - level) / b.rate for b, level in zip(buckets, levels) if level < 1], default=0.0)
        if wait > 0:
            return wait
        for bucket, level in zip(buckets, levels):
            self._set(bucket.key, level - 1, now)
        return 0.0

    async def spend(self, bucket: Bucket, now: float) -> None:
        self._set(bucket.key, max(0.0, self._level(bucket, now) - 1), now)

    async def wait(self, bucket: Bucket, now: float) -> float:
        level = self._level(bucket, now)
        return 0.0 if level >= 1 else (1 - level) / bucket.rate
