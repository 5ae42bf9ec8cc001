"""Recurring groups in a SQLite file: the embedded default's ``GroupStore``.

A group outlives its sessions, so it keeps as little as it can: its name, a hash of its
facilitator key, and per member a hash of their member code and the actions they chose
to carry forward from the last session they took part in. No names, no items, no
session content: everything else expires with the session (``CLOSED_TTL_S``).

The file (``GROUPS_DB``, by default in ``DATA_DIR``) is created on first use, readable by
the server's user only; sqlite3 blocks, so every call runs in a worker thread. What a group
or a member erases (the record's meetings, a member's CPD entries) is overwritten in the
file (``secure_delete``), and the write-ahead log is written back and emptied at once, so
no copy of it stays in either file.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from app.facilitation.cpd import MAX_ENTRIES
from app.facilitation.record import MAX_MEETINGS
from app.realtime.interfaces import GroupRecord, MemberRecord
from app.realtime.sqlite.files import forget, open_private


def default_groups_db(data_dir: str) -> str:
    return os.path.join(data_dir, "groups.sqlite3")


SCHEMA = """
CREATE TABLE IF NOT EXISTS groups (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    id TEXT PRIMARY KEY, group_id TEXT NOT NULL REFERENCES groups(id), code_hash TEXT NOT NULL,
    carried TEXT NOT NULL DEFAULT '[]', carried_at REAL NOT NULL DEFAULT 0,
    UNIQUE (group_id, code_hash));
CREATE TABLE IF NOT EXISTS group_statements (
    group_id TEXT PRIMARY KEY REFERENCES groups(id), statements TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meetings (
    group_id TEXT NOT NULL REFERENCES groups(id), id TEXT NOT NULL, at REAL NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (group_id, id));
CREATE TABLE IF NOT EXISTS group_options (
    group_id TEXT PRIMARY KEY REFERENCES groups(id), least_heard_first INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS member_heard (
    member_id TEXT PRIMARY KEY REFERENCES members(id), heard_least INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS report_links (group_id TEXT PRIMARY KEY REFERENCES groups(id), key_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS member_keys (member_id TEXT PRIMARY KEY REFERENCES members(id), cpd_key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cpd_entries (
    member_id TEXT NOT NULL REFERENCES members(id), id TEXT NOT NULL, at REAL NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (member_id, id));
CREATE TABLE IF NOT EXISTS cpd_erased (member_id TEXT PRIMARY KEY REFERENCES members(id), at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS group_rota (
    group_id TEXT PRIMARY KEY REFERENCES groups(id), rota TEXT NOT NULL, next INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS record_erased (group_id TEXT PRIMARY KEY REFERENCES groups(id), at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS group_docs (
    group_id TEXT NOT NULL REFERENCES groups(id), name TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (group_id, name));
"""


class SqliteGroupStore:
    """One connection, used from worker threads one call at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:  # first use: create the folder, the file and the tables
            conn = open_private(self.path)  # replaced plans and erased rows are overwritten, not left in free pages
            conn.executescript(SCHEMA)
            self._conn = conn
        return self._conn

    async def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        def work() -> list[tuple]:
            with self._lock:
                return self._connect().execute(sql, params).fetchall()
        return await asyncio.to_thread(work)

    async def _transaction(self, work: Callable[[sqlite3.Connection], None], *, erases: bool = False) -> None:
        """``work`` in one transaction, off the event loop: all of it is written, or none.
        ``erases``: it deletes what someone asked to be forgotten, so the log is emptied after."""
        def run() -> None:
            with self._lock:
                conn = self._connect()
                with conn:
                    conn.execute("BEGIN")
                    work(conn)
                if erases:
                    forget(conn, self.path)
        await asyncio.to_thread(run)

    async def create_group(self, group: GroupRecord) -> None:
        await self._run("INSERT INTO groups (id, name, key_hash, created_at) VALUES (?, ?, ?, ?)",
                        (group.id, group.name, group.key_hash, group.created_at))

    async def load_group(self, group_id: str) -> GroupRecord | None:
        rows = await self._run("SELECT g.id, g.name, g.key_hash, g.created_at, s.statements, o.least_heard_first, "
                               "r.key_hash, t.rota, t.next FROM groups g LEFT JOIN group_statements s ON s.group_id = g.id "
                               "LEFT JOIN group_options o ON o.group_id = g.id "
                               "LEFT JOIN report_links r ON r.group_id = g.id "
                               "LEFT JOIN group_rota t ON t.group_id = g.id WHERE g.id = ?", (group_id,))
        if not rows:
            return None
        gid, name, key_hash, created_at, statements, least_heard_first, report_hash, rota, rota_next = rows[0]
        return GroupRecord(id=gid, name=name, key_hash=key_hash, created_at=created_at,
                           statements=json.loads(statements) if statements is not None else None,
                           least_heard_first=bool(least_heard_first), report_hash=report_hash,
                           rota=json.loads(rota) if rota is not None else [], rota_next=rota_next or 0)

    async def add_member(self, group_id: str, member_id: str, code_hash: str) -> None:
        await self._run("INSERT INTO members (id, group_id, code_hash) VALUES (?, ?, ?)",
                        (member_id, group_id, code_hash))

    async def find_member(self, group_id: str, code_hash: str) -> MemberRecord | None:
        rows = await self._run("SELECT m.id, m.carried, m.carried_at, h.heard_least, k.cpd_key FROM members m "
                               "LEFT JOIN member_heard h ON h.member_id = m.id "
                               "LEFT JOIN member_keys k ON k.member_id = m.id "
                               "WHERE m.group_id = ? AND m.code_hash = ?", (group_id, code_hash))
        if not rows:
            return None
        mid, carried, carried_at, heard_least, cpd_key = rows[0]
        return MemberRecord(id=mid, group_id=group_id, carried=json.loads(carried), carried_at=carried_at,
                            heard_least=bool(heard_least), cpd_key=cpd_key)

    async def count_members(self, group_id: str) -> int:
        return (await self._run("SELECT count(*) FROM members WHERE group_id = ?", (group_id,)))[0][0]

    async def carry(self, group_id: str, carried: dict[str, list[dict[str, Any]]], closed_at: float) -> None:
        def work(conn: sqlite3.Connection) -> None:  # one transaction for the whole session's close
            conn.executemany(
                "UPDATE members SET carried = ?, carried_at = ? "
                "WHERE id = ? AND group_id = ? AND carried_at <= ?",
                [(json.dumps(actions), closed_at, mid, group_id, closed_at) for mid, actions in carried.items()])
        await self._transaction(work)

    async def set_least_heard_first(self, group_id: str, on: bool) -> None:
        await self._run("INSERT OR REPLACE INTO group_options (group_id, least_heard_first) VALUES (?, ?)",
                        (group_id, int(on)))

    async def note_heard(self, group_id: str, heard_least: dict[str, bool], closed_at: float) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for mid, flag in heard_least.items():
                if not _is_member(conn, group_id, mid):
                    continue
                conn.execute("INSERT INTO member_heard (member_id, heard_least, at) VALUES (?, ?, ?) "
                             "ON CONFLICT (member_id) DO UPDATE SET heard_least = excluded.heard_least, "
                             "at = excluded.at WHERE member_heard.at <= excluded.at", (mid, int(flag), closed_at))
        await self._transaction(work)

    async def set_statements(self, group_id: str, statements: list[str] | None) -> None:
        if statements is None:
            await self._run("DELETE FROM group_statements WHERE group_id = ?", (group_id,))
        else:
            await self._run("INSERT OR REPLACE INTO group_statements (group_id, statements) VALUES (?, ?)",
                            (group_id, json.dumps(statements)))

    async def save_rota(self, group_id: str, rota: list[dict[str, str]], next_index: int, closed_at: float) -> None:
        await self._run("INSERT INTO group_rota (group_id, rota, next, at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (group_id) DO UPDATE SET rota = excluded.rota, next = excluded.next, "
                        "at = excluded.at WHERE group_rota.at <= excluded.at",
                        (group_id, json.dumps(rota), next_index, closed_at))

    async def add_meeting(self, group_id: str, meeting: dict[str, Any]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            erased = conn.execute("SELECT at FROM record_erased WHERE group_id = ?", (group_id,)).fetchall()
            if erased and meeting["at"] <= erased[0][0]:
                return  # a meeting from before the group erased its record stays erased
            conn.execute("INSERT OR REPLACE INTO meetings (group_id, id, at, data) VALUES (?, ?, ?, ?)",
                         (group_id, meeting["id"], meeting["at"], json.dumps(meeting)))
            conn.execute("DELETE FROM meetings WHERE group_id = ? AND id NOT IN (SELECT id FROM meetings "
                         "WHERE group_id = ? ORDER BY at DESC LIMIT ?)", (group_id, group_id, MAX_MEETINGS))
        await self._transaction(work)

    async def set_cpd_key(self, group_id: str, member_id: str, public_key: str) -> None:
        await self._run("INSERT OR REPLACE INTO member_keys (member_id, cpd_key) SELECT id, ? FROM members "
                        "WHERE id = ? AND group_id = ?", (public_key, member_id, group_id))

    async def add_cpd(self, group_id: str, entries: dict[str, dict[str, Any]]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for mid, entry in entries.items():
                if not _is_member(conn, group_id, mid):
                    continue
                erased = conn.execute("SELECT at FROM cpd_erased WHERE member_id = ?", (mid,)).fetchall()
                if erased and entry["at"] <= erased[0][0]:
                    continue  # erased by its owner: a late change to that session does not bring it back
                conn.execute("INSERT OR REPLACE INTO cpd_entries (member_id, id, at, data) VALUES (?, ?, ?, ?)",
                             (mid, entry["id"], entry["at"], json.dumps(entry)))
                conn.execute("DELETE FROM cpd_entries WHERE member_id = ? AND id NOT IN (SELECT id FROM "
                             "cpd_entries WHERE member_id = ? ORDER BY at DESC LIMIT ?)",
                             (mid, mid, MAX_ENTRIES))
        await self._transaction(work)

    async def cpd_entries(self, group_id: str, member_id: str) -> list[dict[str, Any]]:
        rows = await self._run("SELECT c.data FROM cpd_entries c JOIN members m ON m.id = c.member_id "
                               "WHERE c.member_id = ? AND m.group_id = ? ORDER BY c.at", (member_id, group_id))
        return [json.loads(data) for (data,) in rows]

    async def erase_cpd(self, group_id: str, member_id: str, at: float) -> None:
        def work(conn: sqlite3.Connection) -> None:
            if not _is_member(conn, group_id, member_id):
                return
            conn.execute("DELETE FROM cpd_entries WHERE member_id = ?", (member_id,))
            conn.execute("INSERT OR REPLACE INTO cpd_erased (member_id, at) VALUES (?, ?)", (member_id, at))
        await self._transaction(work, erases=True)

    async def set_report_hash(self, group_id: str, key_hash: str | None) -> None:
        if key_hash is None:
            await self._run("DELETE FROM report_links WHERE group_id = ?", (group_id,))
        else:
            await self._run("INSERT OR REPLACE INTO report_links (group_id, key_hash) VALUES (?, ?)",
                            (group_id, key_hash))

    async def meetings(self, group_id: str) -> list[dict[str, Any]]:
        rows = await self._run("SELECT data FROM meetings WHERE group_id = ? ORDER BY at", (group_id,))
        return [json.loads(data) for (data,) in rows]

    async def erase_record(self, group_id: str, at: float) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM meetings WHERE group_id = ?", (group_id,))
            conn.execute("INSERT OR REPLACE INTO record_erased (group_id, at) VALUES (?, ?)", (group_id, at))
        await self._transaction(work, erases=True)

    async def load_doc(self, group_id: str, name: str) -> Any | None:
        rows = await self._run("SELECT data FROM group_docs WHERE group_id = ? AND name = ?", (group_id, name))
        return json.loads(rows[0][0]) if rows else None

    async def change_doc(self, group_id: str, name: str, change: Callable[[Any | None], Any | None], *,
                         erases: bool = False) -> Any | None:
        """In one transaction under the store's lock: no other write interleaves."""
        result: list[Any] = [None]

        def work(conn: sqlite3.Connection) -> None:
            if not conn.execute("SELECT 1 FROM groups WHERE id = ?", (group_id,)).fetchall():
                return
            member = _doc_member(name)
            if member is not None and not _is_member(conn, group_id, member):
                return
            rows = conn.execute("SELECT data FROM group_docs WHERE group_id = ? AND name = ?",
                                (group_id, name)).fetchall()
            current = json.loads(rows[0][0]) if rows else None
            new = change(current)
            result[0] = new
            if new == current:
                return
            if new is None:
                conn.execute("DELETE FROM group_docs WHERE group_id = ? AND name = ?", (group_id, name))
            else:
                conn.execute("INSERT OR REPLACE INTO group_docs (group_id, name, data) VALUES (?, ?, ?)",
                             (group_id, name, json.dumps(new)))
        await self._transaction(work, erases=erases)
        return result[0]

    async def close(self) -> None:
        def work() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
        await asyncio.to_thread(work)


def _doc_member(name: str) -> str | None:
    """The member a document belongs to (``journal:{member_id}``), or None for the group's own."""
    kind, _, member = name.partition(":")
    return member if kind == "journal" else None


def _is_member(conn: sqlite3.Connection, group_id: str, member_id: str) -> bool:
    """Whether the member belongs to the group (a stale or foreign id writes nothing)."""
    return bool(conn.execute("SELECT 1 FROM members WHERE id = ? AND group_id = ?", (member_id, group_id)).fetchall())
