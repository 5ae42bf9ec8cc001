"""The sessions file itself (real SQLite in a temporary directory): what goes in comes back.

The restart tests (test_restart.py) cover the whole path with real server processes; these
pin down the bookkeeping between the memory store and the file that a restart would only
show by chance: acknowledgements trimmed in memory are trimmed on disk, an erase followed
by a new session under the same code in one write, and records coming back equal.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import pytest

from app.facilitation.commands import parse_command
from app.realtime import interfaces
from app.realtime.interfaces import Record
from app.realtime.memory.broker import MemoryBroker
from app.realtime.memory.store import MemoryStore, ack_changes
from app.realtime.memory.deadlines import LocalDeadlines
from app.realtime.service import Caller, SessionService
from app.realtime.sqlite.store import SessionFile


async def caller(service: SessionService, code: str, token: str) -> Caller:
    return (await service.authenticate(code, token))[1]


def on_disk(path: Path) -> bytes:
    """Every byte of the file and its write-ahead log."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def store_on(path: Path, clock=time.time) -> MemoryStore:
    return MemoryStore(clock=clock, closed_ttl_s=3600, idle_ttl_s=7200, file=SessionFile(str(path)))


def test_records_come_back_equal_with_their_acks_in_order(tmp_path: Path) -> None:
    async def write() -> dict[str, Record]:
        store = store_on(tmp_path / "s.sqlite3")
        service = SessionService(store, MemoryBroker(), LocalDeadlines(time.time), time.time)
        created = await service.create_session("Ward 4 debrief", None, None)
        ana = await service.join(created.code, "Ana")
        await service.execute(await caller(service, created.code, created.facilitator_token), parse_command({"type": "start"}))
        for n in range(20):
            kind = "raise_hand" if n % 2 == 0 else "lower_hand"
            await service.execute(await caller(service, created.code, ana.token), parse_command({"type": kind}), f"cmd-{n}")
        kept = {created.code: await store.load(created.code)}
        await store.close()
        return kept

    written = asyncio.run(write())
    loaded = store_on(tmp_path / "s.sqlite3").restore()
    assert {r.state.code: r for r in loaded} == written
    assert list(loaded[0].acks) == list(next(iter(written.values())).acks)  # oldest first, as trimmed


def test_acks_trimmed_in_memory_are_trimmed_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interfaces, "MAX_ACKS", 40)  # the trimming, without thousands of commands

    async def write() -> list[str]:
        store = store_on(tmp_path / "s.sqlite3")
        service = SessionService(store, MemoryBroker(), LocalDeadlines(time.time), time.time)
        created = await service.create_session("Long one", None, None)
        ana = await service.join(created.code, "Ana")
        await service.execute(await caller(service, created.code, created.facilitator_token), parse_command({"type": "start"}))
        for n in range(interfaces.MAX_ACKS + 30):
            kind = "raise_hand" if n % 2 == 0 else "lower_hand"
            await service.execute(await caller(service, created.code, ana.token), parse_command({"type": kind}), f"cmd-{n}")
        keys = list((await store.load(created.code)).acks)
        await store.close()
        return keys

    in_memory = asyncio.run(write())
    (loaded,) = store_on(tmp_path / "s.sqlite3").restore()
    assert len(in_memory) == interfaces.MAX_ACKS and list(loaded.acks) == in_memory


def test_an_erase_then_a_new_session_under_the_same_code_in_one_write(tmp_path: Path) -> None:
    async def write() -> tuple[Record, str]:
        store = store_on(tmp_path / "s.sqlite3")
        service = SessionService(store, MemoryBroker(), LocalDeadlines(time.time), time.time)
        first = await service.create_session("First", None, None)
        ana = await service.join(first.code, "Ana")
        await service.execute(await caller(service, first.code, first.facilitator_token), parse_command({"type": "start"}))
        await service.execute(await caller(service, first.code, ana.token), parse_command({"type": "raise_hand"}), "old-command")
        old = await store.load(first.code)
        await store.delete(first.code)
        fresh = Record(state=old.state.model_copy(update={"title": "Second", "participants": ()}))
        assert await store.create(fresh)  # the same code again, before the writer has run
        await store.close()
        return fresh, first.code

    _, code = asyncio.run(write())
    (loaded,) = store_on(tmp_path / "s.sqlite3").restore()
    assert loaded.state.title == "Second" and loaded.state.code == code
    assert loaded.acks == {}  # nothing of the erased session's commands


def test_sessions_whose_time_is_up_are_not_loaded_and_leave_the_file(tmp_path: Path) -> None:
    now = [1_000_000.0]
    path = tmp_path / "s.sqlite3"

    async def write() -> str:
        store = store_on(path, clock=lambda: now[0])
        service = SessionService(store, MemoryBroker(), LocalDeadlines(lambda: now[0]), lambda: now[0])
        secret = secrets.token_hex(8)
        await service.create_session(f"Gone {secret}", None, None)
        await store.close()
        return secret

    secret = asyncio.run(write())
    assert secret.encode() in on_disk(path)
    now[0] += 7200 * (1 + interfaces.EXPIRY_GRAIN)  # IDLE_TTL_S later, and the rounding of its expiry
    store = store_on(path, clock=lambda: now[0])
    assert store.restore() == []
    asyncio.run(store.close())
    assert secret.encode() not in on_disk(path)


def test_ack_changes_looks_only_at_the_ends() -> None:
    old = {f"k{n}": {"version": n} for n in range(5)}
    new = dict(list(old.items())[1:]) | {"k5": {"version": 5}}
    assert ack_changes(old, new) == ({"k5": {"version": 5}}, ["k0"])
    assert ack_changes(old, dict(old)) == ({}, [])
    assert ack_changes({}, old) == (old, [])
