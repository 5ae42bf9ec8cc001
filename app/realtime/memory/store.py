"""Sessions in this process's memory: the embedded default's ``SessionStore``."""

from __future__ import annotations

from collections.abc import Callable

from app.realtime.interfaces import Change, Record, expires_at


class MemoryStore:
    """The embedded default: one process, a dict. Changes are atomic because ``change``
    runs synchronously between two awaits."""

    def __init__(self, *, clock: Callable[[], float], closed_ttl_s: float, idle_ttl_s: float) -> None:
        self._records: dict[str, tuple[Record, float]] = {}
        self._clock = clock
        self._closed_ttl_s = closed_ttl_s
        self._idle_ttl_s = idle_ttl_s

    def _expiry(self, record: Record) -> float:
        return expires_at(record.state, self._closed_ttl_s, self._idle_ttl_s, self._clock())

    def _get(self, code: str) -> Record | None:
        entry = self._records.get(code)
        if entry is None:
            return None
        record, expiry = entry
        if self._clock() >= expiry:
            del self._records[code]
            return None
        return record

    async def create(self, record: Record) -> bool:
        if self._get(record.state.code) is not None:
            return False
        self._records[record.state.code] = (record, self._expiry(record))
        return True

    async def load(self, code: str) -> Record | None:
        return self._get(code)

    async def update(self, code: str, change: Change) -> tuple[Record, bool]:
        record = self._get(code)
        if record is None:
            raise KeyError(code)
        new = change(record)
        if new is None:
            return record, False
        self._records[code] = (new, self._expiry(new))
        return new, True

    async def delete(self, code: str) -> None:
        self._records.pop(code, None)

    async def count(self) -> int:
        self.sweep()
        return len(self._records)

    def sweep(self) -> None:
        now = self._clock()
        for code in [c for c, (_, exp) in self._records.items() if now >= exp]:
            del self._records[code]

    async def close(self) -> None:
        self._records.clear()
