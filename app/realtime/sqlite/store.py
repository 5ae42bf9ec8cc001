"""Sessions written through to a SQLite file, so that the embedded default survives a restart.

The memory store stays the one the process reads: every change is applied there, then
handed to this file, which a writer thread saves in the background. A restart (a deploy,
a platform's daily restart) loads the file back: each session's state with its tokens'
hashes and turn deadlines, and the acknowledgements that make a resent command id answer
with its first ack.

Why a thread and not a write per change in the event loop: the loop serves every room,
and a write with its commit costs a few hundred microseconds. The loop only files the new
record (a dictionary entry, no serialising); the thread serialises and writes whatever has
been filed since its last write in one transaction, so a burst of changes to a session
costs one write of its latest state. sqlite3 lets go of the interpreter while SQLite
works. On SIGTERM the store is closed after the last socket, and closing waits for the
thread to finish. A crashed process (kill -9) can lose the changes of the last few tens
of milliseconds (``GATHER_S``); a power cut, those since the last checkpoint (WAL with
``synchronous=NORMAL``: no disk flush per commit). Neither leaves a half-written record.

Tables: ``sessions`` (code, state JSON, when it must be gone) and ``acks`` (code, the
HMAC key of (token, command id), the ack). Acks are saved as they come, not rewritten with
every state: a long session holds thousands.

Confidential by default, on disk too: ``secure_delete`` overwrites deleted rows with zeros,
and after anything is deleted (an erase, an expiry) the write-ahead log is checkpointed
and truncated, so the erased content is in neither file. The files are the server's user's
alone (0600, in a 0700 directory).

The log keeps earlier versions of a row in the order they were written, so what is written
is made to say no more about who acted than the room's views do (``at_rest``): each row is
the state as it may be stored (presence as shown, pending items in an order of chance, no
per-author count); a change to what is stored is written only if the stored form moved (a
socket opening alone writes nothing); and a quiet change (an anonymous act) and a change the
room sees (a raised hand, a join) are never written in one transaction, even when a phone
sends both at once, so no write holds an anonymous act with anything of its author's.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.facilitation.models import SessionState
from app.realtime.at_rest import at_rest, stored_json
from app.realtime.interfaces import Record
from app.realtime.sqlite.files import forget, open_private

log = logging.getLogger("talkingpiece.sessions.file")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (code TEXT PRIMARY KEY, state TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS acks (
    code TEXT NOT NULL, key TEXT NOT NULL, ack TEXT NOT NULL, UNIQUE (code, key));
"""

RETRY_S = 1.0  # after a failed write (disk full, file locked by another program)
GATHER_S = 0.02  # from the first change filed to its write: what a crash (not a stop) can lose
LOCK_WAIT_S = 10.0  # for the process before this one to finish writing (a restart that overlaps)


class FileInUse(RuntimeError):
    """Another process holds the sessions file: two would each load it and overwrite the other."""


def hold_alone(path: str, wait_s: float) -> int:
    """An exclusive lock on ``path`` (held until its descriptor closes), waiting ``wait_s`` for it.

    A new process started while the old one still writes its last changes waits for them
    instead of loading a file that is not finished; a second worker on the same file (several
    workers need ``REDIS_URL``) stops at start with a clear error instead of losing changes.
    """
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise FileInUse(f"another process is using {path[:-len('.lock')]}: one process per SESSIONS_DB "
                                "(several workers need REDIS_URL)") from None
            time.sleep(0.05)


@dataclass
class _Pending:
    """What a session's row must become at the next write."""

    record: Record | None = None  # the latest record to save (None: nothing to save)
    expires_at: float = 0.0
    wipe: bool = False  # delete the session's rows first (erased, expired, or recreated)
    added: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    quiet: bool = False  # the change kept the version (an anonymous act, a socket noted)

    def joins(self, newer: "_Pending") -> bool:
        """Whether ``newer`` may be written in the same transaction as this: never a quiet
        change with one the room sees, so an anonymous act is not written with its author's."""
        return newer.wipe or self.record is None or newer.quiet == self.quiet

    def then(self, newer: "_Pending") -> "_Pending":
        """This followed by ``newer``, as one write (``joins`` said it may)."""
        if newer.wipe:
            return newer
        if newer.record is not None:
            self.record, self.expires_at, self.quiet = newer.record, newer.expires_at, newer.quiet
        for key in newer.removed:
            if self.added.pop(key, None) is None:
                self.removed.add(key)
        self.added.update(newer.added)
        return self


class SessionFile:
    """The file, and the one thread that writes it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock: int | None = None
        if path != ":memory:":  # readable by the server's user only: it holds what groups said
            Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._lock = hold_alone(f"{path}.lock", LOCK_WAIT_S)
        self._conn = open_private(path)
        self._conn.execute("PRAGMA synchronous=NORMAL")  # durable against a crashed process, fsync at checkpoints
        self._conn.execute("PRAGMA journal_size_limit=4194304")
        self._conn.executescript(SCHEMA)
        self._forget_written()
        self._forget()  # a log left by an older version may hold versions it would not write now
        self._pending: dict[str, list[_Pending]] = {}  # per session, its writes in order
        self._stored: dict[str, bytes] = {}  # per session, a hash of the row last written (unchanged: no write)
        self._sweep_before: float | None = None
        self._writing = False
        self._closing = False
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self.writes = 0  # transactions written, and the writer's CPU time (the benchmark reads them)
        self.cpu_s = 0.0

    # ------------------------------------------------------------ at start

    def load(self, now: float) -> list[tuple[Record, float]]:
        """Every session not yet expired, with its expiry; the expired ones are erased first.

        At start, before anything is written.
        """
        self._conn.execute("BEGIN")
        erased = self._delete_expired(now)
        self._conn.execute("COMMIT")
        if erased:
            self._forget()
        acks: dict[str, dict[str, dict[str, Any]]] = {}
        for code, key, ack in self._conn.execute("SELECT code, key, ack FROM acks ORDER BY rowid"):
            acks.setdefault(code, {})[key] = json.loads(ack)
        loaded = []
        for code, state, expires_at in self._conn.execute("SELECT code, state, expires_at FROM sessions"):
            try:
                record = Record(state=SessionState.model_validate_json(state), acks=acks.get(code, {}))
            except ValueError:
                log.error("session %s in %s could not be read; it is left out", code, self.path)
                continue
            loaded.append((record, expires_at))
        return loaded

    # ------------------------------------------------------------ from the event loop (never blocks on disk)

    def put(self, record: Record, expires_at: float, added: dict[str, dict[str, Any]], removed: Iterable[str],
            *, quiet: bool = False) -> None:
        """File a session's new record; ``added``/``removed`` are its acks that changed; ``quiet``
        a change that kept the version (written apart from any change the room sees)."""
        self._file(record.state.code, _Pending(record=record, expires_at=expires_at, added=added,
                                               removed=set(removed), quiet=quiet))

    def delete(self, code: str) -> None:
        self._file(code, _Pending(wipe=True))

    def _file(self, code: str, change: _Pending) -> None:
        with self._cv:
            if self._closing:
                return
            _queue(self._pending.setdefault(code, []), change)
            self._wake()

    def sweep(self, now: float) -> None:
        """Erase every session whose time is up (the file's own check, besides the store's)."""
        with self._cv:
            self._sweep_before = now
            self._wake()

    def _wake(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sessions-file", daemon=True)
            self._thread.start()
        self._cv.notify_all()

    # ------------------------------------------------------------ waiting for the disk (not from the loop)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything filed so far is written; False if ``timeout`` ran out first."""
        with self._cv:
            return self._cv.wait_for(
                lambda: not self._pending and self._sweep_before is None and not self._writing, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is filed (giving up after ``timeout`` if the disk keeps failing), then close."""
        if not self.flush(timeout):
            log.error("closing %s with changes not written: the disk kept failing", self.path)
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join()
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._conn.close()
            if self._lock is not None:
                os.close(self._lock)  # the next process may load the file now
                self._lock = None

    # ------------------------------------------------------------ the writer thread

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._pending and self._sweep_before is None and not self._closing:
                    self._cv.wait()
                if self._closing and not self._pending and self._sweep_before is None:
                    return
                closing = self._closing
            if not closing:
                time.sleep(GATHER_S)  # let a burst gather: one write of each session's latest state
            with self._cv:
                batch, self._pending = self._pending, {}
                sweep, self._sweep_before = self._sweep_before, None
                self._writing = True
            started = time.thread_time()
            # One transaction per round: each session's first write, then each one's second, ...
            rounds = [{code: queue[n] for code, queue in batch.items() if n < len(queue)}
                      for n in range(max((len(q) for q in batch.values()), default=1))]
            done = 0
            try:
                for n, writes in enumerate(rounds):
                    self._write(writes, sweep if n == 0 else None)
                    done += 1
                failed = False
            except Exception:  # kept, and tried again with whatever is filed meanwhile
                log.exception("writing %d sessions to %s failed; trying again", len(batch), self.path)
                failed = True
            self.cpu_s += time.thread_time() - started
            with self._cv:
                if failed and self._closing:
                    self._writing = False
                    self._cv.notify_all()
                    return
                if failed:
                    for code, queue in batch.items():
                        left = queue[done:]
                        for newer in self._pending.get(code, []):
                            _queue(left, newer)
                        if left:
                            self._pending[code] = left
                    if sweep is not None and done == 0 and self._sweep_before is None:
                        self._sweep_before = sweep
                self._writing = False
                self._cv.notify_all()
                if failed:
                    self._cv.wait(RETRY_S)

    def _write(self, batch: dict[str, _Pending], sweep: float | None) -> None:
        rows, stored = [], {}
        for code, p in batch.items():
            if p.wipe:
                self._stored.pop(code, None)
            if p.record is not None:
                row = (code, stored_json(at_rest(p.record.state)), p.expires_at)
                digest = hashlib.blake2b(f"{row[1]}\x1f{row[2]!r}".encode(), digest_size=16).digest()
                if digest != self._stored.get(code):
                    rows.append(row)
                    stored[code] = digest
                time.sleep(0)  # hand the interpreter back to the event loop between sessions
        if not rows and sweep is None and not any(p.wipe or p.added or p.removed for p in batch.values()):
            return  # nothing stored moved (a socket opened or closed): no write at all

        erased = False
        conn = self._conn
        conn.execute("BEGIN")
        try:
            for code, p in batch.items():
                if p.wipe:
                    conn.execute("DELETE FROM acks WHERE code = ?", (code,))
                    erased |= conn.execute("DELETE FROM sessions WHERE code = ?", (code,)).rowcount > 0
                if p.removed:
                    conn.executemany("DELETE FROM acks WHERE code = ? AND key = ?", [(code, k) for k in p.removed])
                if p.added:
                    conn.executemany("INSERT OR IGNORE INTO acks (code, key, ack) VALUES (?, ?, ?)",
                                     [(code, k, _dumps(a)) for k, a in p.added.items()])
            conn.executemany("INSERT INTO sessions (code, state, expires_at) VALUES (?, ?, ?) "
                             "ON CONFLICT (code) DO UPDATE SET state = excluded.state, "
                             "expires_at = excluded.expires_at", rows)
            if sweep is not None:
                erased |= self._delete_expired(sweep)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.writes += 1
        self._stored.update(stored)
        if erased:
            self._forget()

    def _forget(self) -> None:
        forget(self._conn, self.path)

    def _forget_written(self) -> None:
        """A file from before items were capped in memory keeps a count per writer: drop it."""
        columns = [row[1] for row in self._conn.execute("PRAGMA table_info(sessions)")]
        if "written" in columns:
            self._conn.execute("ALTER TABLE sessions DROP COLUMN written")

    def _delete_expired(self, now: float) -> bool:
        self._conn.execute("DELETE FROM acks WHERE code IN (SELECT code FROM sessions WHERE expires_at <= ?)", (now,))
        return self._conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount > 0


def _queue(queue: list[_Pending], change: _Pending) -> None:
    """Add ``change`` to a session's queue of writes, into the last one when they may share it."""
    if change.wipe:
        queue[:] = [change]
    elif queue and queue[-1].joins(change):
        queue[-1] = queue[-1].then(change)
    else:
        queue.append(change)


def _dumps(ack: dict[str, Any]) -> str:
    return json.dumps(ack, separators=(",", ":"))
