"""Sessions in this process's memory: the embedded default's ``SessionStore``.

With a ``SessionFile`` (the default, ``SESSIONS_DB``) every change is also written through
to a SQLite file and the file is loaded at start, so a restart loses nothing; without
one, the sessions live and die with the process. The file gets each record as it may be
stored (``at_rest``): who is online right now, and when a console last opened or closed, stay
in this process's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from app.realtime.at_rest import seat_times_lost
from app.realtime.interfaces import Change, Gate, Record, expires_at
from app.realtime.sqlite.store import SessionFile


class MemoryStore:
    """The embedded default: one process, a dict. Changes are atomic because ``change``
    runs synchronously between two awaits."""

    def __init__(self, *, clock: Callable[[], float], closed_ttl_s: float, idle_ttl_s: float,
                 file: SessionFile | None = None) -> None:
        self._records: dict[str, tuple[Record, float]] = {}
        self._clock = clock
        self._closed_ttl_s = closed_ttl_s
        self._idle_ttl_s = idle_ttl_s
        self._file = file
        self._sweeper: asyncio.Task[None] | None = None

    def restore(self) -> list[Record]:
        """Load the file's sessions (at start): those whose time is not up."""
        if self._file is not None:
            now = self._clock()
            for record, expiry in self._file.load(now):  # the seats' times are kept in memory only
                record = record.model_copy(update={"state": seat_times_lost(record.state, now)})
                self._records[record.state.code] = (record, expiry)
        return [record for record, _ in self._records.values()]

    def _expiry(self, record: Record) -> float:
        return expires_at(record.state, self._closed_ttl_s, self._idle_ttl_s, self._clock())

    def _get(self, code: str) -> Record | None:
        entry = self._records.get(code)
        if entry is None:
            return None
        record, expiry = entry
        if self._clock() >= expiry:
            self._forget(code)
            return None
        return record

    def _keep(self, old: Record | None, new: Record) -> None:
        expiry = self._expiry(new)
        self._records[new.state.code] = (new, expiry)
        if self._file is not None:
            added, removed = ack_changes(old.acks if old is not None else {}, new.acks)
            self._file.put(new, expiry, added, removed,
                           quiet=old is not None and old.state.version == new.state.version)

    def _forget(self, code: str) -> None:
        if self._records.pop(code, None) is not None and self._file is not None:
            self._file.delete(code)

    async def create(self, record: Record) -> bool:
        if self._get(record.state.code) is not None:
            return False
        self._keep(None, record)
        return True

    async def load(self, code: str) -> Record | None:
        return self._get(code)

    async def update(self, code: str, change: Change, gate: Gate | None = None,
                     ack: str | None = None) -> tuple[Record, bool]:
        if gate is not None:
            await gate.take()
        record = self._get(code)
        if record is None:
            raise KeyError(code)
        new = change(record)
        if new is None:
            return record, False
        self._keep(record, new)
        return new, True

    async def delete(self, code: str) -> None:
        self._forget(code)

    async def count(self) -> int:
        self.sweep()
        return len(self._records)

    def sweep(self) -> None:
        now = self._clock()
        for code in [c for c, (_, exp) in self._records.items() if now >= exp]:
            self._forget(code)
        if self._file is not None:
            self._file.sweep(now)

    def start_sweeping(self, every_s: float) -> None:
        """Erase expired sessions on a timer, so no content outlives its time in memory or on disk
        because nobody looked it up."""
        async def sweeping() -> None:
            while True:
                await asyncio.sleep(every_s)
                self.sweep()

        self._sweeper = asyncio.get_running_loop().create_task(sweeping())

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._file is not None:
            await asyncio.to_thread(self._file.close)
        self._records.clear()


def ack_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The acks ``new`` has that ``old`` had not, and the keys it dropped.

    ``Record.remember`` appends each ack and trims the oldest, so only the ends are looked
    at: the cost is the change's, not the thousands of acks a long session holds.
    """
    added = []
    for key in reversed(new):
        if key in old:
            break
        added.append(key)
    removed = []
    for key in old:
        if key in new:
            break
        removed.append(key)
    return {key: new[key] for key in reversed(added)}, removed
