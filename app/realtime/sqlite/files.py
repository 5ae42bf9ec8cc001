"""What every SQLite file of the app does on disk: it is the server's user's alone, and what
is erased from it is gone from the file, its write-ahead log and its free pages."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

log = logging.getLogger("talkingpiece.files")

SIDE_FILES = ("-wal", "-shm", "-journal")


def make_private(path: str) -> None:
    """Create ``path`` (and its folder) readable by this user only, and make it so if it existed.

    SQLite gives the log and shared-memory files the database's own mode when it creates
    them; ones left by an older version of the app are narrowed here too.
    """
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for name in (path, *(path + side for side in SIDE_FILES)):
        try:
            os.chmod(name, 0o600)
        except FileNotFoundError:
            pass


def open_private(path: str) -> sqlite3.Connection:
    """A connection in WAL mode that overwrites what it deletes (``secure_delete``)."""
    if path != ":memory:":
        make_private(path)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA secure_delete=ON")  # deleted rows and freed pages are overwritten with zeros
    return conn


def forget(conn: sqlite3.Connection, path: str) -> None:
    """After a delete the log still holds the erased pages: write them back over, and empty it."""
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:  # the next delete or the close tries again
        log.warning("checkpointing %s failed: %s", path, exc)
