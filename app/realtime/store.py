"""Where sessions live: the ``SessionStore`` interface and its in-memory implementation.

A record is the session's state plus the acknowledgements of the commands it has
applied, keyed by a hash of (token, command id), so a retried command is answered
with its first acknowledgement instead of being applied twice. The key needs the raw
token, which the store never holds, so reading the store does not link a participant
to what they sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel

from ..facilitation.models import SessionState, Status

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

    async def update(self, code: str, change: Change) -> tuple[Record, bool]:
        """Apply ``change`` atomically to the latest record: (record, changed).

        Raises ``KeyError`` when the session does not exist (or has expired).
        """

    async def delete(self, code: str) -> None: ...

    async def count(self) -> int: ...

    async def close(self) -> None: ...


def expires_at(state: SessionState, closed_ttl_s: float, idle_ttl_s: float, now: float) -> float:
    """When a session's content must be gone: confidential by default."""
    if state.status is Status.closed and state.closed_at is not None:
        return state.closed_at + closed_ttl_s
    return now + idle_ttl_s


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
