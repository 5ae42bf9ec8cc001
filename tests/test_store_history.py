"""The store's history, read as the red team read it: version by version.

A copy of the sessions file with its write-ahead log, or a Redis append-only file, keeps
every version of a session's record in the order it was written. Five phones act
anonymously, most of them waking only to send (connect, submit, disconnect); then every
version is rebuilt (each commit of the log opened as a database of its own; each command of
the append-only file parsed) and checked for what a view would never show: anyone's true
presence or its time, a count per writer, pending items in the order they were written, and
an item written in the same write as a change to anyone's entry. Then the red team's guess:
whoever's entry or presence changed nearest each item names its author, and must do no
better than chance (before these rules it named 13 of 15 in either mode).

The groups file is read byte by byte after a group erases its record and a member their
CPD entries: nothing erased is left in the file or its log. Every data file is the server
user's alone (0600).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import os
import random
import secrets
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from app.facilitation.models import SessionState
from app.realtime.at_rest import at_rest
from app.realtime.interfaces import Record
from app.realtime.sqlite.groups import SqliteGroupStore
from app.realtime.sqlite.store import SessionFile
from tests.support.client import Api, LiveClient
from tests.support.redis_server import RedisServer
from tests.support.server import ServerProcess
from tests.support.stored import session_file

PHONES = 5
ACTS = 15
# Items fold quickly; a phone is shown connected only after 3 s awake (none of the waking ones
# is), and shown gone half a second after it sleeps.
HISTORY_ENV = {"TALLY_INTERVAL_S": "0.2", "PRESENCE_ON_S": "3", "PRESENCE_OFF_S": "0.5"}


def marker() -> str:
    """A random word (letters only: digits could look like an identifier the guard asks about)."""
    return "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(12))


def text_of(n: int) -> str:
    return f"anonymous question {marker()}"


# ---------------------------------------------------------------- the SQLite log, commit by commit

def wal_commits(db: bytes, wal: bytes, workdir: Path) -> list[Path]:
    """A database of its own for every commit in ``wal``: the file as a reader would have
    found it right after that commit (the log's valid prefix up to it, over the file)."""
    if len(wal) < 32:
        return []
    page_size = int.from_bytes(wal[8:12], "big")
    salts, frame = wal[16:24], 24 + page_size
    ends, n, offset = [], 0, 32
    while offset + frame <= len(wal) and wal[offset + 8:offset + 16] == salts:
        n += 1
        if int.from_bytes(wal[offset + 4:offset + 8], "big"):  # a commit's last frame
            ends.append(n)
        offset += frame
    assert n < 1000, "the log was checkpointed automatically during the scenario: its history is incomplete"
    copies = []
    for k, end in enumerate(ends):
        copy = workdir / f"commit-{k}.sqlite3"
        copy.write_bytes(db)
        Path(f"{copy}-wal").write_bytes(wal[:32 + end * frame])
        copies.append(copy)
    return copies


def sqlite_writes(db: bytes, wal: bytes, code: str, workdir: Path) -> list[dict[str, Any]]:
    """Each commit's write of the session: ``{"record": state as stored, "presence": False}``."""
    writes = []
    for copy in wal_commits(db, wal, workdir):
        conn = sqlite3.connect(copy)
        try:
            columns = [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]
            assert columns == ["code", "state", "expires_at"], columns  # no count per writer beside it
            row = conn.execute("SELECT state FROM sessions WHERE code = ?", (code,)).fetchone()
        finally:
            conn.close()
        if row is not None and (not writes or whole(json.loads(row[0])) != writes[-1]["record"]):
            writes.append({"record": whole(json.loads(row[0])), "presence": False, "raw": row[0]})
    return writes


# ---------------------------------------------------------------- the Redis append-only file, command by command

def resp_commands(data: bytes) -> list[list[bytes]]:
    commands, i = [], 0
    while i < len(data):
        end = data.index(b"\r\n", i)
        if data[i:i + 1] != b"*":  # an annotation line
            i = end + 2
            continue
        count, i, args = int(data[i + 1:end]), end + 2, []
        for _ in range(count):
            end = data.index(b"\r\n", i)
            length, i = int(data[i + 1:end]), end + 2
            args.append(data[i:i + length])
            i += length + 2
        commands.append(args)
    return commands


def aof_writes(workdir: Path, code: str) -> tuple[list[dict[str, Any]], list[list[list[bytes]]]]:
    """Each write (a MULTI block, or one command) that set the session's record or presence,
    and every write, as the append-only file holds them."""
    files = sorted((workdir / "appendonlydir").glob("*.incr.aof"), key=lambda p: int(p.name.split(".")[-3]))
    commands = [c for f in files for c in resp_commands(f.read_bytes())]
    blocks, block = [], None
    for args in commands:
        name = args[0].upper()
        if name == b"MULTI":
            block = []
        elif name == b"EXEC":
            blocks.append(block)
            block = None
        elif name != b"SELECT":
            blocks.append([args]) if block is None else block.append(args)
    writes = []
    for block in blocks:
        fields: dict[bytes, bytes] = {}
        for args in block:
            if args[0].upper() == b"HSET" and args[1].decode().endswith(f"s:{code}"):
                fields.update(zip(args[2::2], args[3::2]))
            if args[0].upper() == b"HDEL" and args[1].decode().endswith(f"s:{code}") and b"presence" in args[2:]:
                fields[b"presence"] = b""
        if b"record" in fields or b"presence" in fields:
            raw = fields.get(b"record")
            writes.append({"record": whole(json.loads(raw)["state"]) if raw else None, "presence": b"presence" in fields,
                           "raw": b"\0".join(a for args in block for a in args).decode(errors="replace"),
                           "block": block})
    return writes, blocks


def whole(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored state with every field it leaves out at its default written in, as whoever
    reads the store knows it to be (``at_rest.stored_json``)."""
    return SessionState.model_validate(stored).model_dump(mode="json")


# ---------------------------------------------------------------- the checks, the same for both

def entries(record: dict[str, Any]) -> list[dict[str, Any]]:
    return record["participants"]


def chance_ceiling(trials: int, p: float) -> int:
    """The fewest right guesses in ``trials`` that blind guessing (right with chance ``p``)
    reaches at most one time in a hundred: as many or more is better than chance."""
    k = 0
    while sum(math.comb(trials, j) * p**j * (1 - p)**(trials - j) for j in range(k, trials + 1)) > 0.01:
        k += 1
    return k


def check_history(writes: list[dict[str, Any]], authors: dict[str, str], submitted: list[str]) -> None:
    """What a reader of every version learns, against what the views show."""
    records = [w for w in writes if w["record"] is not None]
    assert records, "no version of the session was found in the store's history"
    for w in records:
        assert "written" not in w["raw"], "a count per writer is stored"
        for p in entries(w["record"]):  # presence as the room was shown it, and no time of it
            assert p["online"] == p["connected"] and p["online_changed_at"] == 0.0, p
        pending = [i["id"] for i in w["record"]["items"] if not i["revealed"]]
        assert pending == sorted(pending), "pending items are stored in the order they came"
        for item in w["record"]["items"]:
            assert set(item) >= {"id", "text"} and not {"at", "author", "participant_id"} & set(item), item

    guesses = right = 0
    for text, author in authors.items():
        first = next(n for n, w in enumerate(writes) if w["record"] is not None
                     and any(i["text"] == text for i in w["record"]["items"]))
        came = writes[first]
        assert not came["presence"], f"an item was written with someone's presence: {text}"
        before = next(w["record"] for w in reversed(writes[:first]) if w["record"] is not None)
        assert entries(came["record"]) == entries(before), "an item was written with a change to someone's entry"
        # The red team's guess: whoever's entry or presence changed nearest to it (in its own
        # write, else the write before, else the one after).
        changed: set[str] = set()
        for n in (first, first - 1, first + 1):
            if changed or not 0 < n < len(writes):
                continue
            w, older = writes[n], next((v["record"] for v in reversed(writes[:n]) if v["record"] is not None), None)
            if w["presence"]:
                changed = {p["id"] for p in entries(before) if p["id"] in w["raw"]}
            elif w["record"] is not None and older is not None:
                changed = {p["id"] for p, q in zip(entries(older), entries(w["record"])) if p != q}
        if len(changed) == 1:
            guesses += 1
            right += changed == {author}
    assert right < chance_ceiling(guesses, 1 / PHONES), \
        f"{right} of {guesses} guesses right, from the versions around each item"

    final = next(w["record"] for w in reversed(writes) if w["record"] is not None)
    stored = [i["text"] for i in final["items"] if not i["revealed"]]
    assert sorted(stored) == sorted(submitted) and stored != submitted


# ---------------------------------------------------------------- the scenario

@pytest.fixture(params=["memory", "redis"], ids=["embedded-store", "redis-store"])
def history_server(request: pytest.FixtureRequest, tmp_path: Path):
    env = dict(HISTORY_ENV)
    redis = None
    if request.param == "redis":  # with append-only persistence, as a deployment keeping its groups would
        redis = RedisServer(tmp_path / "redis", own=True, keep_data=True)
        (tmp_path / "redis").mkdir()
        redis.start()
        env.update(REDIS_URL=redis.url, REDIS_PREFIX="tp-history:")
    else:
        env.update(REDIS_URL="", GROUPS_DB=str(tmp_path / "groups.sqlite3"))
    proc = ServerProcess(env=env, log_path=tmp_path / "server.log").start()
    proc.mode = request.param  # type: ignore[attr-defined]
    proc.redis = redis  # type: ignore[attr-defined]
    try:
        yield proc
    finally:
        proc.stop()
        if redis is not None:
            redis.stop()


def run_scenario(server: ServerProcess) -> tuple[str, list[dict[str, Any]], dict[str, str], list[str]]:
    """Five phones, each shown once and then put away; then ``ACTS`` items, most sent by a
    phone that wakes for it (connect, submit, disconnect). (code, people, author per text, submitted)"""
    rng = random.Random()
    api = Api(server.base_url)
    created = api.create_session(title="History: who wrote that?")
    code, fac = created["code"], created["facilitator_token"]
    people = [api.join(code, f"Phone {n}") for n in range(PHONES)]
    api.ok(code, fac, {"type": "start"})
    authors: dict[str, str] = {}
    submitted: list[str] = []

    async def acts() -> None:
        phones = [await LiveClient.connect(server.ws_base, code, p["token"]) for p in people]
        api.view_when(code, fac, lambda v: all(p["connected"] for p in v["participants"]))
        for phone in phones:
            await phone.close()
        api.view_when(code, fac, lambda v: not any(p["connected"] for p in v["participants"]))
        for n in range(ACTS):
            person = rng.choice(people)
            text = text_of(n)
            if n % 5 == 4:  # sent over HTTP, no socket at all
                api.ok(code, person["token"], {"type": "submit_item", "kind": "question", "text": text})
            else:  # a phone that wakes to send
                phone = await LiveClient.connect(server.ws_base, code, person["token"])
                await phone.apply({"type": "submit_item", "kind": "question", "text": text})
                await asyncio.sleep(0.03)
                await phone.close()
            authors[text] = person["participant_id"]
            submitted.append(text)
            await asyncio.sleep(0.15)
        api.view_when(code, fac, lambda v: v["pending"]["question"] == ACTS, timeout=30)

    asyncio.run(acts())
    time.sleep(0.3)  # the last fold's write
    return code, people, authors, submitted


def test_no_version_of_the_sessions_file_or_its_log_names_an_author(history_server: ServerProcess,
                                                                      tmp_path: Path) -> None:
    code, people, authors, submitted = run_scenario(history_server)
    if history_server.mode == "memory":  # type: ignore[attr-defined]
        path = session_file(history_server)
        db, wal = path.read_bytes(), Path(f"{path}-wal").read_bytes()  # a copy, as a backup takes it
        (tmp_path / "copies").mkdir()
        writes = sqlite_writes(db, wal, code, tmp_path / "copies")
        assert len(writes) > ACTS, "the log did not keep the versions the test means to read"
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
    else:
        writes, blocks = aof_writes(history_server.redis.workdir, code)  # type: ignore[attr-defined]
        assert len(writes) > ACTS, "the append-only file did not keep the versions the test means to read"
        # Presence is live only: no socket's opening or closing, no lease, no token's count is in the file.
        hashes = {hashlib.sha256(p["token"].encode()).hexdigest().encode() for p in people}
        ids = {p["participant_id"].encode() for p in people}
        for block in blocks:
            for args in block:
                assert not any(b"worker:" in a for a in args[1:2]), args[:3]
                assert b"presence" not in args, args[:3]
                outside_records = [a for n, a in enumerate(args) if not (n > 0 and args[n - 1] == b"record")]
                assert not any(h in a or i in a for a in outside_records for h in hashes for i in ids), args[:3]
    check_history(writes, authors, submitted)


# ---------------------------------------------------------------- a named act and an anonymous one, sent at once

def test_an_anonymous_act_and_a_named_one_filed_together_are_written_apart(tmp_path: Path) -> None:
    """A phone's outbox resends a raised hand and a question in the same instant: the file
    writes them in two transactions, the question's holding nothing of the hand's."""
    from app.facilitation import engine
    from app.facilitation.formats import format_with_durations
    from app.facilitation.models import Item

    path = tmp_path / "s.sqlite3"
    state = engine.new_session(code="HHHHHH", title="Apart", format=format_with_durations(None, None), now=1.0,
                               salt="s" * 32, facilitator_token_hash="f", screen_token_hash="s")
    state = engine.join(state, participant_id="ana", name="Ana", token_hash="a", now=1.0).state
    file = SessionFile(str(path))
    file.put(Record(state=state), 10**10, {}, [])
    assert file.flush(5)
    hand = state.model_copy(update={"version": state.version + 1, "participants": tuple(
        p.model_copy(update={"hand_raised_at": 2.0}) for p in state.participants)})
    item = Item(id="i1", kind="question", text="the question nobody may tie to Ana", receipt_hash="r")
    asked = hand.model_copy(update={"items": (item,)})
    file.put(Record(state=hand), 10**10, {}, [])  # the hand (the room sees it)
    file.put(Record(state=asked), 10**10, {}, [], quiet=True)  # then the question (quiet), in the same instant
    assert file.flush(5)
    db, wal = path.read_bytes(), Path(f"{path}-wal").read_bytes()
    (tmp_path / "copies").mkdir()
    writes = sqlite_writes(db, wal, "HHHHHH", tmp_path / "copies")
    file.close()
    with_item = [w for w in writes if w["record"]["items"]]
    assert with_item and entries(with_item[0]["record"]) == entries(writes[writes.index(with_item[0]) - 1]["record"])


def test_what_is_stored_says_nothing_of_presence_or_order() -> None:
    from app.facilitation import engine
    from app.facilitation.formats import format_with_durations
    from app.facilitation.models import Item

    state = engine.new_session(code="JJJJJJ", title="At rest", format=format_with_durations(None, None), now=1.0,
                               salt="s" * 32, facilitator_token_hash="f", screen_token_hash="s")
    state = engine.join(state, participant_id="ana", name="Ana", token_hash="a", now=1.0).state
    ana = state.participants[0].model_copy(update={"online": True, "online_changed_at": 12.5})
    items = tuple(Item(id=i, kind="question", text=f"q{i}", receipt_hash="r", revealed=i in "zx")
                  for i in "zmxab")
    stored = at_rest(state.model_copy(update={"participants": (ana,), "items": items}))
    assert (stored.participants[0].online, stored.participants[0].online_changed_at) == (False, 0.0)
    assert [i.id for i in stored.items] == ["z", "x", "a", "b", "m"]  # revealed as shown, then pending by id


# ---------------------------------------------------------------- erased means gone from the groups file

def test_an_erased_record_and_cpd_entries_leave_no_trace_in_the_groups_file(tmp_path: Path) -> None:
    from app.realtime.interfaces import GroupRecord

    path = tmp_path / "data" / "groups.sqlite3"
    meeting_mark, cpd_mark, journal_mark, kept_mark = (marker() for _ in range(4))

    async def scenario() -> None:
        store = SqliteGroupStore(str(path))
        await store.create_group(GroupRecord(id="g1", name=f"Group {kept_mark}", key_hash="k", created_at=1.0))
        await store.add_member("g1", "m1", "c1")
        for n in range(3):
            await store.add_meeting("g1", {"id": f"meet{n}", "at": 10.0 + n, "note": f"{meeting_mark}{n}" * 40})
        await store.add_cpd("g1", {"m1": {"id": "e1", "at": 10.0, "sealed": cpd_mark * 400, "reflection": None}})
        await store.change_doc("g1", "journal:m1", lambda d: [{"id": "j1", "sealed": journal_mark * 400}])
        assert all(m.encode() in on_disk(path) for m in (meeting_mark, cpd_mark, journal_mark))
        await store.erase_record("g1", 20.0)
        await store.erase_cpd("g1", "m1", 20.0)
        await store.change_doc("g1", "journal:m1", lambda d: None, erases=True)
        await store.add_meeting("g1", {"id": "later", "at": 30.0, "note": "after the erase"})  # still writes
        data = on_disk(path)
        assert not any(m.encode() in data for m in (meeting_mark, cpd_mark, journal_mark))
        assert kept_mark.encode() in data  # what was not erased is still there
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if name.exists():
                assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        await store.close()

    asyncio.run(scenario())


def test_a_data_file_left_readable_by_others_is_made_private_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    sqlite3.connect(path).close()
    os.chmod(path, 0o644)
    SessionFile(str(path)).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def on_disk(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_a_file_from_before_keeps_its_sessions_and_loses_its_counts_per_writer(tmp_path: Path) -> None:
    from app.facilitation import engine
    from app.facilitation.formats import format_with_durations

    path = tmp_path / "sessions.sqlite3"
    writer = marker() * 4  # a writer's key, as the previous version kept it
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE sessions (code TEXT PRIMARY KEY, state TEXT NOT NULL, expires_at REAL NOT NULL,"
                       " written TEXT NOT NULL DEFAULT '{}');")
    state = engine.new_session(code="KKKKKK", title="Kept", format=format_with_durations(None, None), now=1.0,
                               salt="s" * 32, facilitator_token_hash="f", screen_token_hash="s")
    conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", ("KKKKKK", state.model_dump_json(), 10.0**10,
                                                             json.dumps({writer: 3})))
    conn.commit()
    conn.close()
    file = SessionFile(str(path))
    assert [record.state.title for record, _ in file.load(1.0)] == ["Kept"]
    file.close()
    assert writer.encode() not in on_disk(path)


def test_the_cap_per_person_holds_with_no_count_stored(tmp_path: Path) -> None:
    """Items per person are counted in memory: the cap holds, a resent submission still gets
    its first answer at the cap, a retraction frees a place, and the file has no count."""
    from app.facilitation.commands import parse_command
    from app.facilitation.errors import Conflict
    from app.facilitation.models import MAX_ITEMS_PER_PERSON
    from app.realtime.memory.broker import MemoryBroker
    from app.realtime.memory.deadlines import LocalDeadlines
    from app.realtime.memory.store import MemoryStore
    from app.realtime.service import SessionService

    path = tmp_path / "sessions.sqlite3"

    async def scenario() -> None:
        store = MemoryStore(clock=time.time, closed_ttl_s=3600, idle_ttl_s=7200, file=SessionFile(str(path)))
        service = SessionService(store, MemoryBroker(), LocalDeadlines(time.time), time.time)
        created = await service.create_session("Capped", None, None)
        code = created.code
        ana, ben = await service.join(code, "Ana"), await service.join(code, "Ben")
        await service.execute((await service.authenticate(code, created.facilitator_token))[1],
                              parse_command({"type": "start"}))
        ana_caller = (await service.authenticate(code, ana.token))[1]

        def submit() -> Any:
            return parse_command({"type": "submit_item", "kind": "question", "text": f"question {marker()}"})

        acks = [await service.execute(ana_caller, submit(), f"q-{n}") for n in range(MAX_ITEMS_PER_PERSON)]
        with pytest.raises(Conflict, match="most items one person may"):
            await service.execute(ana_caller, submit(), "q-99")
        assert await service.execute(ana_caller, submit(), f"q-{MAX_ITEMS_PER_PERSON - 1}") == acks[-1]
        await service.execute((await service.authenticate(code, ben.token))[1], submit(), "b-0")  # Ben has his own
        await service.execute(ana_caller, parse_command({"type": "retract_item", "receipt": acks[0]["receipt"]}))
        await service.execute(ana_caller, submit(), "q-100")
        await store.close()
        writer = hmac.new(ana.token.encode(), b"items", hashlib.sha256).hexdigest()
        assert writer.encode() not in on_disk(path)

    asyncio.run(scenario())


# ---------------------------------------------------------------- a participant's console, opened and closed

def test_no_version_holds_when_a_participants_console_opened_or_closed(history_server: ServerProcess,
                                                                        tmp_path: Path) -> None:
    """The host hands the console to Ana, who opens and closes it between anonymous questions
    from her phone: every version stores whether her console is open (the host's console is
    shown it) and never when it opened or closed."""
    api = Api(history_server.base_url)
    created = api.create_session(title="Handed over")
    code, fac = created["code"], created["facilitator_token"]
    ana = api.join(code, "Ana")
    api.join(code, "Ben")
    texts = [text_of(n) for n in range(3)]

    async def scenario() -> None:
        host = await LiveClient.connect(history_server.ws_base, code, fac)
        await host.apply({"type": "start"})
        await host.apply({"type": "hand_over", "to": ana["participant_id"]})
        for text in texts:
            console = await LiveClient.connect(history_server.ws_base, code, ana["token"] + "&as=console")
            await host.wait_for_state(lambda v: any(s["online"] for s in v["me"]["seats"] or []))
            await console.close()
            await host.wait_for_state(lambda v: not any(s["online"] for s in v["me"]["seats"] or []))
            api.ok(code, ana["token"], {"type": "submit_item", "kind": "question", "text": text})
        await host.close()

    asyncio.run(scenario())
    api.view_when(code, fac, lambda v: v["pending"]["question"] == len(texts))
    time.sleep(0.3)  # the last write
    if history_server.mode == "memory":  # type: ignore[attr-defined]
        path = session_file(history_server)
        (tmp_path / "copies").mkdir()
        writes = sqlite_writes(path.read_bytes(), Path(f"{path}-wal").read_bytes(), code, tmp_path / "copies")
    else:
        writes, _ = aof_writes(history_server.redis.workdir, code)  # type: ignore[attr-defined]
    seats = [s for w in writes if w["record"] is not None for s in w["record"]["seats_online"]]
    assert any(s["online"] for s in seats) and any(not s["online"] for s in seats), "no console was seen"
    assert all(s["changed_at"] == 0.0 for s in seats), [s for s in seats if s["changed_at"]]
    assert len({json.dumps(w["record"]["seats_online"]) for w in writes if w["record"] is not None}) >= 3
    api.close()


def test_a_seats_times_are_live_only_and_a_lost_one_counts_from_now() -> None:
    from app.facilitation import engine
    from app.facilitation.formats import format_with_durations
    from app.facilitation.models import SeatPresence
    from app.realtime.at_rest import presence_lost, presence_of, with_presence

    state = engine.new_session(code="LLLLLL", title="Seats", format=format_with_durations(None, None), now=1.0,
                               salt="s" * 32, facilitator_token_hash="f", screen_token_hash="s")
    state = state.model_copy(update={"seats_online": (SeatPresence(seat="host", online=False, changed_at=12.5),)})
    stored = at_rest(state)
    assert stored.seats_online == (SeatPresence(seat="host", online=False, changed_at=0.0),)
    assert with_presence(stored, presence_of(state)).seats_online == state.seats_online
    assert presence_lost(stored, 40.0).seats_online[0].changed_at == 40.0  # the away-wait starts again


# ---------------------------------------------------------------- a meeting's title, sealed in the groups store

def test_a_meetings_title_is_in_no_version_of_the_groups_store_only_sealed(history_server: ServerProcess,
                                                                            tmp_path: Path) -> None:
    """A title may name a case: the group's record keeps it sealed to those who may read the
    record (the group key, the report link). No commit of the groups file's log and no command
    of the append-only file on a group's keys holds its text, while the record shows it."""
    import httpx

    title = f"Case of {marker()}"
    with httpx.Client(base_url=history_server.base_url, timeout=10) as http:
        group = http.post("/api/groups", json={"name": "Ward 7"}).json()
        gid, key = group["group_id"], group["group_key"]
        made = http.post(f"/api/groups/{gid}/report-link", headers={"Authorization": f"Bearer {key}"})
        report = made.json()["report_key"]
        created = http.post(f"/api/groups/{gid}/sessions", headers={"Authorization": f"Bearer {key}"},
                            json={"title": title, "format": "check-in-out"}).json()
        api = Api(history_server.base_url)
        api.join(created["code"], "Ana")
        api.ok(created["code"], created["facilitator_token"], {"type": "start"})
        api.ok(created["code"], created["facilitator_token"], {"type": "close"})
        for reader in (key, report):  # both readers see the title: it is kept, sealed
            deadline = time.monotonic() + 10
            while not (rows := http.get(f"/api/groups/{gid}/record",
                                        headers={"Authorization": f"Bearer {reader}"}).json()["meetings"]):
                assert time.monotonic() < deadline, "the meeting never reached the record"
                time.sleep(0.1)
            assert rows[0]["title"] == title
        assert http.get(f"/api/groups/{gid}/record.csv", headers={"Authorization": f"Bearer {report}"}).text.count(title) == 3  # one row per statement
    needle = title.encode()
    if history_server.mode == "memory":  # type: ignore[attr-defined]
        path = tmp_path / "groups.sqlite3"
        db, wal = path.read_bytes(), Path(f"{path}-wal").read_bytes()
        (tmp_path / "group-copies").mkdir()
        copies = wal_commits(db, wal, tmp_path / "group-copies")
        sealed_rows = 0
        for copy in copies:  # every version a reader of the file and its log could rebuild
            conn = sqlite3.connect(copy)
            try:
                dump = "\n".join(conn.iterdump())
                sealed_rows += any("title_sealed" in r[0] for r in conn.execute("SELECT data FROM meetings"))
            finally:
                conn.close()
            assert title not in dump, copy
        assert sealed_rows, "no version held the meeting's row: the test read nothing"
        assert needle not in db and needle not in wal
    else:
        _, blocks = aof_writes(history_server.redis.workdir, "no session")  # type: ignore[attr-defined]
        on_groups = [args for block in blocks for args in block
                     if len(args) > 1 and args[1].startswith(b"tp-history:group:")]
        assert any(b"title_sealed" in a for args in on_groups for a in args), "the meeting's row was not written"
        for args in on_groups:
            assert not any(needle in a for a in args), args[:2]
