"""A restart loses nothing: SIGTERM mid-round, the same command again, and everyone carries on.

Real server processes (``python -m app``), restarted on the same port with the same data
directory, as a deploy or a platform's daily restart does. In the embedded mode the
sessions come back from the SQLite file the server writes them through to; in Redis mode
from Redis. Phones are closed with 1012 ("restarting"), reconnect with the tokens they
hold and find the session as it was: people, items, the round and its turn, the command
ids already answered. The turn ends at its deadline as if nothing had happened, and a
deadline that passed while the server was down ends the turn as soon as it is up.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STORE_MODES, store_id
from tests.support.client import Api, LiveClient, View, close_all, speaker, spoken
from tests.support.server import ServerProcess
from tests.support.stored import file_bytes, session_file, wait_for_file

pytestmark = pytest.mark.timeout(120)

TURN_S = 12.0  # at least; long enough for a restart (about a second, several on a busy machine) inside the turn


def mode_env(mode: str, request: pytest.FixtureRequest) -> dict[str, str]:
    if mode == "memory":
        return {"REDIS_URL": ""}
    return {"REDIS_URL": request.getfixturevalue("redis_server").url,
            "REDIS_PREFIX": f"tp-restart-{secrets.token_hex(4)}:"}


@pytest.fixture(params=STORE_MODES, ids=store_id)
def restartable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(env=mode_env(request.param, request), log_path=tmp_path / "server.log").start()
    server.mode = request.param  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()


def lasting(view: View) -> dict[str, Any]:
    """What a restart must keep: everything but who is connected right now, the version, and
    the floor time of whoever is speaking (it grows while they speak)."""
    kept = {k: v for k, v in view.items() if k not in ("version", "participants", "server_time")}
    kept["participants"] = [{k: v for k, v in p.items() if k != "connected" and (k != "spoken_s" or
                                                                                p["id"] != speaker(view))}
                            for p in view["participants"]]
    return kept


def room(api: Api, names: tuple[str, ...] = ("Ana", "Ben", "Cal")) -> dict[str, Any]:
    created = api.create_session("Thursday debrief")
    code = created["code"]
    people = {name: api.join(code, name) for name in names}
    api.ok(code, created["facilitator_token"], {"type": "start"})
    return {"code": code, "fac": created["facilitator_token"], "screen": created["screen_token"], "people": people}


async def stop_while_connected(server: ServerProcess, clients: list[LiveClient]) -> list[int | None]:
    """SIGTERM with the sockets open: the close code each of them gets."""
    stopping = asyncio.create_task(asyncio.to_thread(server.stop))
    codes = [code for code, _ in await asyncio.gather(*(c.closed(timeout=15) for c in clients))]
    await stopping
    return codes


def test_a_restart_mid_round_loses_nothing_and_the_turn_ends_on_time(restartable: ServerProcess) -> None:
    server = restartable
    started = time.monotonic()
    server.restart()  # how long one takes on this machine now: the turn must outlast the next one
    # Whole seconds: the view gives spoken time to a tenth, and it is compared with this below.
    turn_s = max(TURN_S, math.ceil(6 * (time.monotonic() - started) + 3))
    with Api(server.base_url) as api:
        r = room(api)
        code, fac, people = r["code"], r["fac"], r["people"]
        ana, ben = people["Ana"], people["Ben"]
        api.ok(code, ana["token"], {"type": "submit_item", "kind": "question", "text": "What did we miss?"})
        api.ok(code, ben["token"], {"type": "add_action", "text": "Call the ward manager"})
        first_http = api.ok(code, ben["token"], {"type": "raise_hand"}, idempotency_key="hand-1")
        api.ok(code, ben["token"], {"type": "lower_hand"})
        api.ok(code, fac, {"type": "start_round", "seconds_per_turn": turn_s})

    async def scenario() -> None:
        watcher = await LiveClient.connect(server.ws_base, code, fac)
        phones = [await LiveClient.connect(server.ws_base, code, p["token"]) for p in (ana, ben)]
        first_ack = await phones[0].apply({"type": "submit_item", "kind": "feedback", "text": "Kind and clear"},
                                          id="fb-1")
        # the anonymous counts reach the room at a fold (several a second on the test server)
        before = (await watcher.wait_for_state(lambda v: v["pending"] == {"question": 1, "feedback": 1}))["view"]
        holder = speaker(before)
        assert holder is not None and before["version"] >= first_ack["version"]

        assert await stop_while_connected(server, [watcher, *phones]) == [1012] * 3
        await asyncio.to_thread(server.start)
        assert time.time() < before["turn"]["ends_at"] - 1, "the restart took too long to test the turn's end"

        # Everyone reconnects with the tokens they hold and finds the session as it was.
        watcher = await LiveClient.connect(server.ws_base, code, fac)
        phones = [await LiveClient.connect(server.ws_base, code, p["token"]) for p in (ana, ben)]
        after = watcher.view
        assert lasting(after) == lasting(before)
        # Versions never go back, across restarts too (equal when nothing changed while down:
        # the phones' presence may fold before or after the watcher is back).
        assert after["version"] >= before["version"]
        assert phones[0].view["me"]["participant_id"] == ana["participant_id"]
        assert phones[1].view["me"]["participant_id"] == ben["participant_id"]

        # A command id answered before the restart is answered again, and applied once.
        again = await phones[0].send_command({"type": "submit_item", "kind": "feedback", "text": "Kind and clear"},
                                             id="fb-1")
        assert again == first_ack
        with Api(server.base_url) as api:
            assert api.ok(code, ben["token"], {"type": "raise_hand"}, idempotency_key="hand-1") == first_http
            assert api.view(code, fac)["pending"] == {"question": 1, "feedback": 1}
            assert api.view(code, fac)["queue"] == []

        # Phones show as connected again, and the turn ends at its deadline.
        await watcher.wait_for_state(lambda v: all(p["connected"] for p in v["participants"]
                                                   if p["id"] in (ana["participant_id"], ben["participant_id"])))
        ended = await watcher.wait_for_state(lambda v: speaker(v) != holder, timeout=turn_s + 5)
        late = ended["server_time"] - before["turn"]["ends_at"]
        assert 0 <= late < 1.0, f"the turn ended {late:.2f}s after its deadline"
        assert spoken(ended["view"], holder) == pytest.approx(turn_s, abs=0.05)
        await close_all([watcher, *phones])

    asyncio.run(scenario())


def test_a_deadline_that_passed_while_down_ends_the_turn_as_soon_as_the_server_is_up(
        restartable: ServerProcess) -> None:
    server = restartable
    with Api(server.base_url) as api:
        r = room(api)
        code, fac = r["code"], r["fac"]
        api.ok(code, fac, {"type": "start_round", "seconds_per_turn": 2})
        before = api.view(code, fac)
    holder, ends_at = speaker(before), before["turn"]["ends_at"]
    server.stop()
    time.sleep(max(0.0, ends_at + 1.0 - time.time()))  # the deadline passes while nobody is up
    server.start()
    up = time.time()

    with Api(server.base_url) as api:
        for _ in range(100):  # the timer fires at start; the first look may just precede it
            view = api.view(code, fac)
            if speaker(view) != holder:
                break
            time.sleep(0.01)
        assert speaker(view) != holder, "the turn whose time was up while the server was down did not end"
        assert time.time() - up < 1.0
        assert view["round"]["position"] == before["round"]["position"] + 1
        assert spoken(view, holder) == pytest.approx(2, abs=0.05)  # the downtime is nobody's floor time
        assert view["turn"]["ends_at"] > up  # the next person gets a whole turn


# ------------------------------------------------------------------ the embedded mode's file

@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(env={"REDIS_URL": "", "CLOSED_TTL_S": "2"}, log_path=tmp_path / "server.log").start()
    try:
        yield server
    finally:
        server.stop()


def secret_room(api: Api, *, close: bool = False) -> dict[str, Any]:
    """A session whose title, a name and a question carry a marker to look for on disk."""
    # Letters only: a run of digits in random hex can look like an NHS number to the guard.
    secret = "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(16))
    created = api.create_session(f"title {secret}")
    code = created["code"]
    person = api.join(code, f"name {secret}")
    api.ok(code, created["facilitator_token"], {"type": "start"})
    api.ok(code, person["token"], {"type": "submit_item", "kind": "question", "text": f"question {secret}"})
    if close:
        api.ok(code, created["facilitator_token"], {"type": "close"})
    return {"code": code, "fac": created["facilitator_token"], "secret": secret.encode()}


def test_erase_and_expiry_take_the_session_off_the_disk(embedded: ServerProcess) -> None:
    with Api(embedded.base_url) as api:
        kept, erased, closed = secret_room(api), secret_room(api), secret_room(api, close=True)
        on_disk = wait_for_file(embedded, lambda data: all(r["secret"] in data for r in (kept, erased, closed)))
        assert all(r["secret"] in on_disk for r in (kept, erased, closed))

        assert api.request("DELETE", f"/api/sessions/{erased['code']}", erased["fac"]).status_code == 204
        left = wait_for_file(embedded, lambda data: erased["secret"] not in data)
        assert erased["secret"] not in left and erased["code"].encode() not in left  # not even in the log
        # The closed one is gone from memory and disk CLOSED_TTL_S after closing, unasked.
        left = wait_for_file(embedded, lambda data: closed["secret"] not in data, timeout=10)
        assert closed["secret"] not in left and closed["code"].encode() not in left
        assert kept["secret"] in left

    # A session that closes just before a stop expires while the server is down: not loaded.
    with Api(embedded.base_url) as api:
        late = secret_room(api, close=True)
        wait_for_file(embedded, lambda data: late["secret"] in data)
    embedded.stop()
    time.sleep(2.5)
    embedded.start()
    left = file_bytes(embedded)
    assert late["secret"] not in left and closed["secret"] not in left and erased["secret"] not in left
    with Api(embedded.base_url) as api:
        for gone in (erased, closed, late):
            assert api.request("GET", f"/api/sessions/{gone['code']}", gone["fac"]).status_code == 404
        assert api.view(kept["code"], kept["fac"])["title"] == f"title {kept['secret'].decode()}"


def test_the_file_keeps_hashes_of_tokens_never_the_tokens(embedded: ServerProcess) -> None:
    with Api(embedded.base_url) as api:
        r = room(api, ("Ana",))
        api.ok(r["code"], r["people"]["Ana"]["token"], {"type": "raise_hand"}, idempotency_key="once")
        wait_for_file(embedded, lambda data: r["code"].encode() in data and b'"queue"' in data)
        api.ok(r["code"], r["fac"], {"type": "pause"})  # one more write, after the ack's
    embedded.stop()  # everything written, the log checkpointed into the file
    data = file_bytes(embedded)
    assert r["code"].encode() in data
    for token in (r["fac"], r["screen"], r["people"]["Ana"]["token"]):
        assert token.encode() not in data
    conn = sqlite3.connect(f"file:{session_file(embedded)}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM acks WHERE code = ?", (r["code"],)).fetchone()[0] == 1
    finally:
        conn.close()


def test_with_sessions_db_off_nothing_is_written_and_a_restart_forgets(tmp_path: Path) -> None:
    server = ServerProcess(env={"REDIS_URL": "", "SESSIONS_DB": "off"}, log_path=tmp_path / "server.log").start()
    try:
        with Api(server.base_url) as api:
            r = room(api, ("Ana",))
        server.restart()
        with Api(server.base_url) as api:
            assert api.request("GET", f"/api/sessions/{r['code']}", r["fac"]).status_code == 404
        assert list(server.data_dir.iterdir()) == []
    finally:
        server.stop()


def test_a_second_process_on_the_same_sessions_file_stops_at_start(embedded: ServerProcess, tmp_path: Path) -> None:
    """Two processes would each load the file and overwrite the other's changes."""
    with Api(embedded.base_url) as api:
        r = room(api, ("Ana",))
    second = ServerProcess(env={"REDIS_URL": "", "DATA_DIR": str(embedded.data_dir)}, log_path=tmp_path / "second.log")
    with pytest.raises(RuntimeError, match="exited"):
        second.start(timeout=30)
    assert "another process is using" in second.log_path.read_text()
    with Api(embedded.base_url) as api:  # the first goes on as before
        assert api.view(r["code"], r["fac"])["status"] == "running"
